#!/usr/bin/env python3
"""Benchmark: unitgate against `python -c pass` and `systemd-analyze security --offline=true`, side by side.

Usage (from the repository root):

    python bench/run.py [--cases hook,corpus,10k,50k] [--repeat N] [--repeat-small N] [--json OUT]

Cases (all by default), each timed as whole processes, interleaved round by round with what it is
compared against, medians of several rounds:

* `hook`: the pre-commit case. `check UNIT DROPIN` started as .pre-commit-hooks.yaml starts it, in a
  small repository with a policy, with a warm validation cache and with none (cold); the hook exactly
  as pre-commit runs it (`--staged`, the files staged); `unitgate check UNIT DROPIN` through the
  console script; against `python -c pass` of the same interpreter and `systemd-analyze security
  --offline=true` on the same unit;
* `corpus`: every unit of the Debian corpus in one merged root (`explain` text and JSON with all
  workers and on one CPU, `check`), against systemd-analyze over the same units in one call;
* `10k`, `50k`: synthetic repositories (10,000 or 50,000 services, one drop-in per ten units: one
  type-wide, one per dash-prefix group, the rest per unit) written by this script into a temporary
  directory; `check` and `explain` on every unit and drop-in path in one call each, against
  systemd-analyze over the same units in one call.

Standard library only (Python 3.10+); it runs the tools as commands and never imports unitgate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "debian-bookworm"
# Where compare.py / oracle.py look for a unit inside a package root, in this order.
UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system")
OVERALL = re.compile(r"Overall exposure level for (\S+): (\d+\.\d) (\w+)")
UNIT_TYPES = (
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
)
CASES = ("hook", "corpus", "10k", "50k")
SYNTHETIC = {"10k": 10_000, "50k": 50_000}


# ---------------------------------------------------------------------------------------------------
# The corpus and the merged root


@dataclass
class Unit:
    package: str
    name: str  # the unit name as recorded (e.g. `foo@.service`)
    rel: str  # its path relative to the package root (and to the merged root)
    size: int = 0


@dataclass
class Corpus:
    units: list[Unit]  # recorded units kept in the comparison
    left_out: dict[str, str] = field(default_factory=dict)  # "package/unit" -> why
    recorded: int = 0
    not_found: int = 0
    packages: int = 0


def analysed_as(name: str) -> str:
    """systemd-analyze security analyses a template as instance `i`: `foo@.service` -> `foo@i.service`."""
    prefix, dot, suffix = name.rpartition(".")
    if prefix.endswith("@"):
        return f"{prefix}i{dot}{suffix}"
    return name


def dropin_reaches(dropin_unit: str, unit: str) -> bool:
    """Whether the drop-in directory `<dropin_unit>.d` applies to `unit` (or its analysed instance).

    Deliberately generous: exact name, template of an instance, a type-wide `service.d`, and
    systemd's dash-prefix hierarchy (`foo-.service.d` reaches `foo-bar.service` and `foo-bar@x.service`).
    """
    if dropin_unit in UNIT_TYPES:  # `service.d`: every unit of that type
        return unit.rpartition(".")[2] == dropin_unit
    d_prefix, _, d_type = dropin_unit.rpartition(".")
    u_prefix, _, u_type = unit.rpartition(".")
    if d_type != u_type:
        return False
    names = {u_prefix, analysed_as(unit).rpartition(".")[0]}
    if "@" in u_prefix:
        names.add(u_prefix.split("@", 1)[0] + "@")  # an instance's template
    if d_prefix in names:
        return True
    if d_prefix.endswith("-"):  # dash-prefix drop-in
        return any(n.split("@", 1)[0].startswith(d_prefix) for n in names)
    return False


def load_corpus(corpus: Path, expected: Path) -> Corpus:
    records = []
    with expected.open(encoding="utf-8") as f:  # line by line, keeping only what is needed: the bench
        for line in f:  # stays small (its size is a floor under the children's peak memory)
            if line.strip():
                rec = json.loads(line)
                records.append({k: rec.get(k) for k in ("root", "unit", "error")})
    out = Corpus(units=[], recorded=len(records))
    wanted: list[Unit] = []
    for rec in records:
        if rec.get("error"):
            continue
        for d in UNIT_DIRS:
            p = corpus / "units" / rec["root"] / d / rec["unit"]
            if p.is_file():
                wanted.append(Unit(rec["root"], rec["unit"], f"{d}/{rec['unit']}", p.stat().st_size))
                break
        else:
            out.not_found += 1

    packages = sorted({u.package for u in wanted})
    out.packages = len(packages)
    files: dict[str, set[str]] = {}  # file name in a unit directory -> packages shipping it
    dropins: dict[str, set[str]] = {}  # `<unit>` of a `<unit>.d` directory -> packages shipping it
    for pkg in packages:
        for d in UNIT_DIRS:
            base = corpus / "units" / pkg / d
            if not base.is_dir():
                continue
            for entry in base.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    if entry.name.endswith(".d"):
                        dropins.setdefault(entry.name[:-2], set()).add(pkg)
                else:
                    files.setdefault(entry.name, set()).add(pkg)

    for u in wanted:
        key = f"{u.package}/{u.name}"
        if len(files.get(u.name, ())) > 1:
            out.left_out[key] = "unit name shipped by several packages: " + ", ".join(sorted(files[u.name]))
            continue
        foreign = sorted(
            f"{n}.d ({', '.join(sorted(pk))})"
            for n, pk in dropins.items()
            if (len(pk) > 1 or pk != {u.package}) and dropin_reaches(n, u.name)
        )
        if foreign:
            out.left_out[key] = "drop-ins from another package (or several): " + "; ".join(foreign)
            continue
        out.units.append(u)
    return out


def build_root(corpus: Path, packages: list[str], root: Path) -> None:
    """Copy every package's unit directories into one root (copies: systemd's chase must stay inside)."""
    for pkg in packages:
        for d in UNIT_DIRS:
            src = corpus / "units" / pkg / d
            if src.is_dir():
                shutil.copytree(src, root / d, symlinks=True, dirs_exist_ok=True)


# ---------------------------------------------------------------------------------------------------
# Repositories written by the bench itself

# Hardening lines the synthetic services draw from (so scores and setting sets vary as in real trees).
HARDENING = (
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter=@system-service",
    "PrivateNetwork=yes",
    "IPAddressDeny=any",
    "UMask=0077",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectKernelLogs=yes",
    "ProtectProc=invisible",
    "ProcSubset=pid",
    "DynamicUser=yes",
    "PrivateUsers=yes",
    "KeyringMode=private",
)
GROUPS = 20  # dash-prefix groups (`grpNN-.service.d/` reaches every `grpNN-*.service`)
POLICY = 'policy-version = 1\nextends = "baseline@1"\nmax-exposure = 9.0\n'


@dataclass
class Synthetic:
    root: Path
    units: list[str]  # unit file names (templates as `foo@.service`)
    dropins: list[str]  # drop-in paths relative to the unit directory


def write_synthetic(root: Path, count: int, seed: int = 11) -> Synthetic:
    """`count` services under ROOT/etc/systemd/system with count/10 drop-ins and a policy at ROOT.

    One in twenty units is a template; drop-ins: one type-wide `service.d/`, one per dash-prefix group,
    the rest each for one unit (chosen at random, seeded: the same tree on every run).
    """
    rng = random.Random(seed)
    unit_dir = root / "etc" / "systemd" / "system"
    unit_dir.mkdir(parents=True)
    units = []
    for i in range(count):
        name = f"grp{i % GROUPS:02d}-svc{i:05d}{'@' if i % 20 == 7 else ''}.service"
        lines = [
            "[Unit]",
            f"Description=synthetic service {i}",
            "",
            "[Service]",
            f"ExecStart=/usr/bin/app{i} -f",
        ]
        if rng.random() < 0.5:
            lines.append(f"User=app{i % 97}")
        lines += [h for h in HARDENING if rng.random() < 0.35]
        lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
        (unit_dir / name).write_text("\n".join(lines))
        units.append(name)
    dropins = ["service.d/10-defaults.conf"]
    (unit_dir / "service.d").mkdir()
    (unit_dir / dropins[0]).write_text("[Service]\nLimitNOFILE=65536\n")
    for g in range(GROUPS):
        rel = f"grp{g:02d}-.service.d/20-group.conf"
        (unit_dir / rel).parent.mkdir()
        (unit_dir / rel).write_text(f"[Service]\nSlice=grp{g:02d}.slice\nPrivateTmp=yes\n")
        dropins.append(rel)
    for i in sorted(rng.sample(range(count), max(0, count // 10 - len(dropins)))):
        rel = f"{units[i]}.d/50-override.conf"
        (unit_dir / rel).parent.mkdir()
        body = ["[Service]", *(h for h in HARDENING if rng.random() < 0.2)]
        (unit_dir / rel).write_text("\n".join(body) + "\n")
        dropins.append(rel)
    (root / ".unitgate.toml").write_text(POLICY)
    return Synthetic(root, units, dropins)


HOOK_UNIT = """[Unit]
Description=Web front end

[Service]
ExecStart=/usr/bin/web --listen 127.0.0.1:8080
DynamicUser=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
CapabilityBoundingSet=
RestrictAddressFamilies=AF_INET AF_INET6
SystemCallFilter=@system-service

[Install]
WantedBy=multi-user.target
"""
HOOK_DROPIN = "[Service]\nProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectControlGroups=yes\n"
HOOK_CONTAINER = """[Container]
Image=docker.io/library/nginx:1.27
PublishPort=127.0.0.1:8080:80
ReadOnly=true
NoNewPrivileges=true
DropCapability=ALL
User=1000

[Install]
WantedBy=default.target
"""


def stage_over_policy(root: Path, paths: list[str]) -> bool:
    """Make `root` a git repository: the policy committed, `paths` staged (False: no git here)."""
    me = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    try:
        for args in (
            ["init", "-q"],
            ["add", ".unitgate.toml"],
            [*me, "commit", "-qm", "policy"],
            ["add", *paths],
        ):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def write_hook_repo(root: Path) -> tuple[str, str, str]:
    """A repository with a policy, one unit and one drop-in for it (what a pre-commit run is given), and
    a quadlet .container (the hook on a container)."""
    unit = "etc/systemd/system/web.service"
    dropin = "etc/systemd/system/web.service.d/10-hardening.conf"
    container = "etc/containers/systemd/web.container"
    (root / dropin).parent.mkdir(parents=True)
    (root / container).parent.mkdir(parents=True)
    (root / unit).write_text(HOOK_UNIT)
    (root / dropin).write_text(HOOK_DROPIN)
    (root / container).write_text(HOOK_CONTAINER)
    (root / ".unitgate.toml").write_text(POLICY)
    return unit, dropin, container


# ---------------------------------------------------------------------------------------------------
# Running and timing


def _one_cpu() -> None:
    """Pin the child (and whatever it forks) to one CPU: unitgate then sees one core and stays in-process."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@dataclass
class Job:
    case: str
    label: str
    units: int
    calls: list[list[str]]  # one argv per call
    cwd: Path
    env: dict[str, str] | None = None  # replaces the common environment
    one_cpu: bool = False
    keep_output: bool = False  # keep the last run's stdout file (for the agreement check)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # peak resident set, KiB (largest process)
    rcs: list[int] = field(default_factory=list)
    output: Path | None = None

    def run(self, env: dict[str, str], out: Path) -> None:
        """Run every call once; CPU and peak memory come from wait4(), so they are this job's alone
        (workers a child forks and waits for are included)."""
        cpu, rss, rcs = 0.0, 0, []
        with open(out, "wb") as sink, open(out.with_suffix(".err"), "wb") as errs:
            t0 = time.perf_counter()
            for argv in self.calls:
                proc = subprocess.Popen(
                    argv,
                    cwd=self.cwd,
                    stdout=sink,
                    stderr=errs,
                    env=self.env or env,
                    preexec_fn=_one_cpu if self.one_cpu else None,
                )
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
                rss = max(rss, usage.ru_maxrss)
                rcs.append(proc.returncode)
            self.walls.append(time.perf_counter() - t0)
        self.cpus.append(cpu)
        self.rss.append(rss)
        self.rcs.append(max(rcs))
        if self.keep_output:
            self.output = out
        if max(rcs) > 1:  # 0 and 1 are verdicts; anything else means the tool could not run
            err = out.with_suffix(".err").read_text(errors="replace").strip().splitlines()[-3:]
            print(f"warning: {self.label}: exit {max(rcs)}: {' / '.join(err)}", file=sys.stderr)

    def stdout(self) -> str:
        """The last run's output, read only when asked: the bench stays small, and its own size is
        a floor under the children's peak memory (a child starts as a copy of it until exec)."""
        return self.output.read_text(errors="replace") if self.output else ""

    def forget(self) -> None:
        for values in (self.walls, self.cpus, self.rss, self.rcs):
            values.clear()

    def row(self) -> dict[str, object]:
        wall = statistics.median(self.walls)
        return {
            "case": self.case,
            "label": self.label,
            "units": self.units,
            "calls": len(self.calls),
            "runs": len(self.walls),
            "wall_median": wall,
            "wall_min": min(self.walls),
            "cpu_median": statistics.median(self.cpus),
            "peak_rss_mib": max(self.rss) / 1024,
            "ms_per_unit": wall * 1000 / self.units if self.units > 1 else None,
            "exit_codes": sorted(set(self.rcs)),
            "walls": self.walls,
            "cpus": self.cpus,
        }


@dataclass
class Ratio:
    """`a` against `b` (a / b: above 1 means `a` takes longer), on the wall time or the CPU time."""

    case: str
    a: Job
    b: Job
    what: str = "wall"
    note: str = ""

    def values(self) -> tuple[float, float]:
        """The ratio of the medians, and the median of the per-round ratios (the rounds interleave)."""
        xs, ys = (self.a.walls, self.b.walls) if self.what == "wall" else (self.a.cpus, self.b.cpus)
        of_medians = statistics.median(xs) / statistics.median(ys)
        paired = statistics.median([x / y for x, y in zip(xs, ys, strict=True)])
        return of_medians, paired


def arg_limit() -> int:
    """Bytes available for argv: ARG_MAX minus the environment, with a safety margin."""
    try:
        arg_max = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        arg_max = 131072
    env = sum(len(k) + len(v) + 2 + 8 for k, v in os.environ.items())
    return arg_max - env - 4096


def split_calls(prefix: list[str], items: list[str], limit: int) -> list[list[str]]:
    """As few calls as fit the kernel's argument limit (one, unless ARG_MAX really is a concern)."""

    def size(args: list[str]) -> int:
        return sum(len(a.encode()) + 1 + 8 for a in args)  # the string, its NUL and its argv pointer

    calls: list[list[str]] = []
    cur: list[str] = []
    base = size(prefix)
    used = base
    for it in items:
        s = size([it])
        if cur and used + s > limit:
            calls.append(prefix + cur)
            cur, used = [], base
        cur.append(it)
        used += s
    if cur:
        calls.append(prefix + cur)
    return calls


def install(into: Path) -> list[str] | None:
    """unitgate installed from this checkout as pre-commit installs a hook: a fresh virtualenv and a
    regular (not editable) `pip install`. An editable install adds a finder to every interpreter
    start-up (pathlib and more, about 8 ms), which would inflate `python -c pass` and hide imports
    unitgate would otherwise pay itself. None when that fails (no pip, no index)."""
    python = into / "bin" / "python"
    for argv in (
        [sys.executable, "-m", "venv", str(into)],
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(REPO)],
    ):
        r = subprocess.run(argv, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            print(f"note: could not install unitgate ({' '.join(argv[:4])}): {r.stderr.strip()[-300:]}")
            return None
    return [str(into / "bin" / "unitgate")]


def unitgate_cmd(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    venv = REPO / ".venv" / "bin" / "unitgate"
    if venv.exists():
        return [str(venv)]
    found = shutil.which("unitgate")
    return [found] if found else [sys.executable, "-m", "unitgate"]


def unitgate_python(ug: list[str]) -> str:
    """The interpreter behind the unitgate command (its console script's shebang)."""
    if len(ug) > 1:
        return ug[0]
    try:
        first = Path(ug[0]).read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return sys.executable
    return first[2:].strip().split()[0] if first.startswith("#!") else sys.executable


def first_line(argv: list[str]) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        return f"unavailable ({exc})"
    return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "?"


def rounds(jobs: list[Job], repeat: int, env: dict[str, str], out: Path, warm_up: bool, name: str) -> None:
    """One warm-up round (page cache, .pyc, validation cache) if asked, then `repeat` interleaved
    rounds, every other one in reverse order so no job always runs right after the same neighbour."""
    if warm_up:
        for i, job in enumerate(jobs):
            job.run(env, out / f"{i}.out")
            job.forget()
    for r in range(repeat):
        order = list(enumerate(jobs))
        for i, job in order if r % 2 == 0 else reversed(order):
            job.run(env, out / f"{i}.out")
        print(f"{name}: round {r + 1}/{repeat} done", file=sys.stderr, flush=True)


IMPORTS = ("unitgate.cli", "unitgate.gate")


def import_time(python: str, env: dict[str, str], repeat: int, cwd: Path) -> dict[str, float]:
    """`python -X importtime -c "import M"`: the median sum of the top-level `unitgate*` lines'
    cumulative times (each includes the standard-library modules it was first to import), in ms."""
    out: dict[str, float] = {}
    for module in IMPORTS:
        totals = []
        for _ in range(repeat):
            r = subprocess.run(
                [python, "-X", "importtime", "-c", f"import {module}"],
                capture_output=True,
                text=True,
                env=env,
                cwd=cwd,
                check=False,
            )
            ours = 0
            for line in r.stderr.splitlines():
                m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (unitgate\S*)$", line)
                if m:  # a top-level unitgate import: its cumulative time
                    ours += int(m.group(2))
            totals.append(ours / 1000)
        out[module] = statistics.median(totals)
    return out


def fmt(x: object) -> str | None:
    return None if x is None else f"{float(x):.1f}"  # type: ignore[arg-type]


def agreement(units: list[Unit], sa_text: str, ug_json: str, expected: Path) -> dict[str, object]:
    sa = {m.group(1): m.group(2) for m in OVERALL.finditer(sa_text)}
    try:
        data = json.loads(ug_json)
    except json.JSONDecodeError:
        data = []
    ug = {}
    for item in data if isinstance(data, list) else data.get("units", []):
        ug[os.path.normpath(item.get("path", ""))] = fmt(item.get("exposure"))
    oracle = {}
    for line in expected.read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            oracle[(rec["root"], rec["unit"])] = fmt(rec.get("exposure"))
    agree = oracle_same = 0
    diffs = []
    for u in units:
        a = sa.get(analysed_as(u.name))
        b = ug.get(os.path.normpath(u.rel))
        if a is not None and a == b:
            agree += 1
        else:
            diffs.append(f"{u.package}/{u.name}: systemd-analyze {a} vs unitgate {b}")
        oracle_same += a is not None and a == oracle.get((u.package, u.name))
    return {
        "agree": agree,
        "n": len(units),
        "systemd_analyze_reported": len(sa),
        "unitgate_reported": len(ug),
        "merged_root_vs_oracle": oracle_same,
        "differences": diffs,
    }


# ---------------------------------------------------------------------------------------------------
# Output


def table(rows: list[dict[str, object]]) -> str:
    head = (
        "case",
        "measurement",
        "units",
        "calls",
        "wall median s",
        "wall min s",
        "CPU s",
        "peak MiB",
        "ms/unit",
    )
    lines = [head]
    for r in rows:
        per = r["ms_per_unit"]
        lines.append(
            (
                str(r["case"]),
                str(r["label"]),
                f"{r['units']:,}",
                str(r["calls"]),
                f"{r['wall_median']:.3f}",
                f"{r['wall_min']:.3f}",
                f"{r['cpu_median']:.3f}",
                f"{r['peak_rss_mib']:.0f}",
                f"{per:.3f}" if isinstance(per, float) else "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            out.append(
                "|"
                + "|".join("-" * (w + 2) if i < 2 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
                + "|"
            )
    return "\n".join(out)


def overall(text: str) -> dict[str, str]:
    """Unit -> overall exposure, from text output in systemd-analyze's format (unitgate explain's too)."""
    return {m.group(1): m.group(2) for m in OVERALL.finditer(text)}


# ---------------------------------------------------------------------------------------------------
# The cases


@dataclass
class Case:
    name: str
    jobs: list[Job]
    ratios: list[Ratio]
    repeat: int
    notes: list[str] = field(default_factory=list)
    after: Callable[[], list[str]] | None = None  # more lines once the rounds are done (agreement)


def hook_entry(python: str) -> list[str]:
    """The command .pre-commit-hooks.yaml runs (its `entry:`, split as pre-commit splits it), with
    `python` the interpreter unitgate is installed for, as pre-commit's PATH makes it."""
    for line in (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines():
        key, _, value = line.strip().partition(":")
        if key == "entry":
            argv = shlex.split(value.strip())
            return [python if argv[0] == "python" else argv[0], *argv[1:]]
    raise SystemExit(".pre-commit-hooks.yaml has no entry")


def hook_case(tmp: Path, ug: list[str], python: str, sa_bin: str, env: dict[str, str], repeat: int) -> Case:
    root = tmp / "hook"
    unit, dropin, container = write_hook_repo(root)
    cold_env = dict(env, UNITGATE_CACHE_DIR="")  # no validation cache: a fresh CI container
    entry = hook_entry(python)
    launcher = [a for a in entry if a != "--staged"]  # the hook's own start, on the two files alone
    bare = Job("hook", "python -c pass (same interpreter)", 1, [[python, "-c", "pass"]], root)
    # The console script pip writes for any entry point imports `re` before it calls unitgate (the hook
    # does not start through it): the floor under an installed command, so its ratio can be read.
    wrapper = Job("hook", "python -c 'import re' (console script)", 1, [[python, "-c", "import re"]], root)
    warm = Job("hook", "the hook's command: check FILES, warm cache", 1, [[*launcher, unit, dropin]], root)
    cold = Job(
        "hook",
        "the hook's command: check FILES, cold (no cache)",
        1,
        [[*launcher, unit, dropin]],
        root,
        cold_env,
    )
    console = Job(
        "hook", "unitgate check FILES (console script), warm", 1, [[*ug, "check", unit, dropin]], root
    )
    quadlet = Job("hook", "the hook's command: check a .container, warm", 1, [[*launcher, container]], root)
    # What pre-commit runs: the entry with the two files, in a repository that has them staged over a
    # commit that holds the policy: git starts once for the change set.
    staged = Job("hook", "the hook as pre-commit runs it (--staged), warm", 1, [[*entry, unit, dropin]], root)
    has_git = stage_over_policy(root, [unit, dropin])
    sa = Job(
        "hook",
        "systemd-analyze security (same unit)",
        1,
        [[sa_bin, "security", "--offline=true", f"--root={root}", "web.service"]],
        root,
    )
    ratios = [
        Ratio("hook", warm, bare, note="the issue's goal: at most 3x"),
        Ratio("hook", warm, bare, "cpu", "steadier than wall when the machine is busy"),
        *(
            [Ratio("hook", staged, bare, note="with git's change set: what a commit waits for")]
            if has_git
            else []
        ),
        Ratio("hook", quadlet, bare, note="a quadlet: its engine, and the wrapper service scored too"),
        Ratio("hook", console, bare, note="typed in a terminal: pip's wrapper imports re first"),
        Ratio("hook", wrapper, bare, note="pip's console script alone, before unitgate runs"),
        Ratio("hook", cold, bare),
        Ratio("hook", warm, sa),
        Ratio("hook", cold, sa),
    ]
    jobs = [bare, wrapper, warm, *([staged] if has_git else []), quadlet, console, cold, sa]
    case = Case("hook", jobs, ratios, repeat)
    case.notes.append(
        f"hook: `{shlex.join(launcher[1:])} {unit} {dropin}` with .unitgate.toml (extends baseline@1)"
    )

    def imports() -> list[str]:
        ms = import_time(python, env, max(10, min(repeat, 20)), root)
        return [
            "imports (python -X importtime, median, ms): "
            + ", ".join(f"import {m}: {v:.1f}" for m, v in ms.items())
        ]

    case.after = imports
    return case


def corpus_case(
    tmp: Path, ug: list[str], sa_bin: str, corpus: Path, expected: Path, repeat: int, limit: int
) -> Case:
    c = load_corpus(corpus, expected)
    units = sorted(c.units, key=lambda u: u.rel)
    root = tmp / "corpus-root"
    build_root(corpus, sorted({u.package for u in units} | {k.split("/")[0] for k in c.left_out}), root)
    names = [u.name for u in units]
    rels = [u.rel for u in units]
    n = len(units)
    sa = [sa_bin, "security", "--offline=true", f"--root={root}"]
    sa_text = Job(
        "corpus", "systemd-analyze (text)", n, split_calls(sa, names, limit), root, keep_output=True
    )
    sa_json = Job(
        "corpus", "systemd-analyze --json=short", n, split_calls([*sa, "--json=short"], names, limit), root
    )
    ex_text = Job(
        "corpus", "unitgate explain (text), all workers", n, split_calls([*ug, "explain"], rels, limit), root
    )
    ex_json = Job(
        "corpus",
        "unitgate explain --format json, all workers",
        n,
        split_calls([*ug, "explain", "--format", "json"], rels, limit),
        root,
        keep_output=True,
    )
    ex_json_1 = Job(
        "corpus",
        "unitgate explain --format json, 1 CPU",
        n,
        split_calls([*ug, "explain", "--format", "json"], rels, limit),
        root,
        one_cpu=True,
    )
    check = Job(
        "corpus", "unitgate check (default policy)", n, split_calls([*ug, "check"], rels, limit), root
    )
    ratios = [
        Ratio("corpus", ex_json, sa_json),
        Ratio("corpus", ex_text, sa_text),
        Ratio("corpus", ex_json_1, sa_json, "cpu", "the issue's goal: at most 1x"),
        Ratio("corpus", check, sa_text),
    ]
    case = Case("corpus", [sa_text, sa_json, ex_text, ex_json, ex_json_1, check], ratios, repeat)
    case.notes.append(
        f"corpus: {corpus} ({c.recorded} recorded units, {c.packages} packages) in one merged root: "
        f"{n} units, {len(c.left_out)} left out of both sides (name or drop-in collisions), "
        f"{c.not_found} recorded but not found"
    )

    case.notes += [f"left out: {k}: {why}" for k, why in sorted(c.left_out.items())]

    def agree() -> list[str]:
        a = agreement(units, sa_text.stdout(), ex_json.stdout(), expected)
        lines = [
            f"corpus agree: {a['agree']}/{a['n']} (overall exposure, systemd-analyze text vs unitgate json); "
            f"merged-root systemd-analyze vs {expected.name}: {a['merged_root_vs_oracle']}/{a['n']}"
        ]
        lines += ["  " + d for d in a["differences"][:20]]  # type: ignore[index]
        return lines

    case.after = agree
    return case


def synthetic_case(
    name: str, tmp: Path, ug: list[str], sa_bin: str, repeat: int, limit: int, with_sa: bool
) -> Case:
    count = SYNTHETIC[name]
    t0 = time.perf_counter()
    s = write_synthetic(tmp / f"synthetic-{name}", count)
    written = time.perf_counter() - t0
    unit_dir = s.root / "etc" / "systemd" / "system"
    # Paths relative to the unit directory keep 50,000 of them in one call.
    paths = [*s.units, *s.dropins]
    check = Job(
        name, "unitgate check (units + drop-ins)", count, split_calls([*ug, "check"], paths, limit), unit_dir
    )
    explain = Job(
        name,
        "unitgate explain (units + drop-ins)",
        count,
        split_calls([*ug, "explain"], paths, limit),
        unit_dir,
        keep_output=True,
    )
    jobs = [check, explain]
    ratios: list[Ratio] = []
    sa: Job | None = None
    if with_sa:
        argv = [sa_bin, "security", "--offline=true", f"--root={s.root}"]
        sa = Job(name, "systemd-analyze (text, same units)", count, split_calls(argv, s.units, limit), s.root)
        sa.keep_output = True
        jobs.insert(0, sa)
        ratios = [Ratio(name, check, sa, note="the issue's goal: at most 1x"), Ratio(name, explain, sa)]
    case = Case(name, jobs, ratios, repeat)
    case.notes.append(
        f"{name}: {count:,} units and {len(s.dropins):,} drop-ins written in {written:.1f} s; "
        f"{len(paths):,} paths per unitgate call"
        + ("" if with_sa else "; systemd-analyze not run on this case (--skip-analyze-50k)")
    )

    def agree() -> list[str]:
        if sa is None:
            return []
        a, b = overall(sa.stdout()), overall(explain.stdout())
        same = sum(1 for k, v in a.items() if b.get(k) == v)
        return [
            f"{name} agree: {same}/{len(a)} units, same overall exposure in both (unitgate reported {len(b)})"
        ]

    case.after = agree
    return case


# ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, from {','.join(CASES)} (default: all)"
    )
    ap.add_argument("--repeat", type=int, default=5, help="rounds for the corpus and 10k cases (default 5)")
    ap.add_argument("--repeat-50k", type=int, default=3, help="rounds for the 50k case (default 3)")
    ap.add_argument("--repeat-small", type=int, default=40, help="rounds for the one-file hook (default 40)")
    ap.add_argument("--skip-analyze-50k", action="store_true", help="do not run systemd-analyze on 50k units")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory (with units/)")
    ap.add_argument("--expected", type=Path, help="oracle records (default: CORPUS/expected.jsonl)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--unitgate", help="unitgate executable to measure (default: a fresh regular install)")
    ap.add_argument(
        "--no-install",
        action="store_true",
        help="measure .venv/bin/unitgate (else PATH) instead of installing this checkout into a fresh venv",
    )
    ap.add_argument(
        "--systemd-analyze",
        default=os.environ.get("SYSTEMD_ANALYZE", "systemd-analyze"),
        help="systemd-analyze executable (default: $SYSTEMD_ANALYZE or PATH)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated trees and print where they are")
    args = ap.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)} (choose from {', '.join(CASES)})")

    corpus = args.corpus.resolve()
    expected = (args.expected or corpus / "expected.jsonl").resolve()
    sa_bin = shutil.which(args.systemd_analyze) or args.systemd_analyze
    tmp = Path(tempfile.mkdtemp(prefix="unitgate-bench-"))
    installed = None if args.unitgate or args.no_install else install(tmp / "venv")
    ug = installed or unitgate_cmd(args.unitgate)
    python = unitgate_python(ug)
    env = dict(os.environ)
    env.pop("SYSTEMD_ANALYZE_DEBUG", None)
    env.setdefault("LC_ALL", "C.UTF-8")
    # Python's bytecode cache as an installed tool has it (pip writes .pyc files), kept in the temporary
    # directory so nothing is written into the repository; the environment may disable it otherwise.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    # unitgate's validation cache lives in the temporary directory too (warmed by the warm-up round).
    env["UNITGATE_CACHE_DIR"] = str(tmp / "unitgate-cache")
    env.pop("GITHUB_ACTIONS", None)  # the text report, as in a terminal or a plain CI log

    versions = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.release()}",
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": first_line([python, "--version"]),
        "systemd_analyze": first_line([sa_bin, "--version"]),
        "unitgate": first_line([*ug, "--version"])
        + (" (fresh regular install of this checkout)" if installed else f" ({ug[-1]})"),
    }
    limit = arg_limit()
    done: list[Case] = []
    after: list[str] = []
    try:
        for name in cases:
            out = tmp / f"out-{name}"
            out.mkdir()
            if name == "hook":
                case = hook_case(tmp, ug, python, sa_bin, env, max(1, args.repeat_small))
            elif name == "corpus":
                case = corpus_case(tmp, ug, sa_bin, corpus, expected, max(1, args.repeat), limit)
            else:
                repeat = args.repeat_50k if name == "50k" else args.repeat
                with_sa = not (name == "50k" and args.skip_analyze_50k)
                case = synthetic_case(name, tmp, ug, sa_bin, max(1, repeat), limit, with_sa)
            print(case.notes[0], file=sys.stderr, flush=True)
            # The big synthetic runs skip the warm-up round: their files were just written (page cache)
            # and the hook or corpus case, or the first call, has already compiled unitgate's .pyc.
            if name in SYNTHETIC:
                subprocess.run([*ug, "--version"], env=env, capture_output=True, check=False)
            rounds(case.jobs, case.repeat, env, out, warm_up=name not in SYNTHETIC, name=name)
            done.append(case)
        # The bench's own peak size so far: a floor under the children's peak memory figures.
        floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Agreement and import figures only now, once every timing is done: reading the outputs
        # would grow this process, and every child starts as a copy of it.
        for case in done:
            after += case.after() if case.after else []
    finally:
        if args.keep:
            print(f"generated trees kept in: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    versions["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [j.row() for c in done for j in c.jobs]
    print()
    for k, v in versions.items():
        print(f"{k}: {v}")
    for c in done:
        print(c.notes[0] + f" ({c.repeat} rounds)")
    print("wall: median (and min) of the rounds; CPU: median user+sys of the process and its workers;")
    print(
        f"peak MiB: largest resident set of one process (at least the bench's own {floor:.0f} MiB, which a "
        "child has until exec); ms/unit: median wall per unit"
    )
    print()
    print(table(rows))
    print()
    print("ratios (a / b: above 1 = a takes longer; of the medians, and [median of the per-round ratios]):")
    for c in done:
        for r in c.ratios:
            med, paired = r.values()
            note = f"  ({r.note})" if r.note else ""
            print(f"  {r.case}: {r.a.label} / {r.b.label} ({r.what}): {med:.2f}x [{paired:.2f}x]{note}")
    per_unit = {c.name: c.jobs for c in done if c.name in SYNTHETIC}
    if len(per_unit) == 2:
        for label in ("unitgate check (units + drop-ins)", "unitgate explain (units + drop-ins)"):
            a, b = (next(j for j in per_unit[k] if j.label == label) for k in ("50k", "10k"))
            x = (statistics.median(a.walls) / a.units) / (statistics.median(b.walls) / b.units)
            print(f"  time per unit, 50k / 10k: {label}: {x:.2f}x  (the issue's goal: at most 1.2x)")
    print()
    for line in after:
        print(line)

    if args.json:
        result = {
            "versions": versions,
            "cases": [c.name for c in done],
            "notes": [n for c in done for n in c.notes],
            "rows": rows,
            "ratios": [
                {
                    "case": r.case,
                    "a": r.a.label,
                    "b": r.b.label,
                    "what": r.what,
                    "of_medians": v[0],
                    "paired": v[1],
                }
                for c in done
                for r in c.ratios
                for v in [r.values()]
            ],
            "after": after,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    disagree = [line for line in after if " agree: " in line and not _all_agree(line)]
    return 1 if disagree else 0


def _all_agree(line: str) -> bool:
    m = re.search(r"agree: (\d+)/(\d+)", line)
    return m is not None and m.group(1) == m.group(2)


if __name__ == "__main__":
    sys.exit(main())
