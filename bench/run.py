#!/usr/bin/env python3
"""Benchmark: `unitgate explain` against `systemd-analyze security --offline=true`, side by side.

Usage (from the repository root):

    python bench/run.py [--corpus DIR] [--expected FILE] [--repeat N] [--json OUT]

Builds one merged root from every package of the corpus (units whose name or drop-ins collide across
packages are left out of both sides), then times, in the same run and interleaved:

* `systemd-analyze security --offline=true --root=ROOT UNIT...` (text and `--json=short`), one call;
* `unitgate explain [--format json] PATH...` over the same files inside that root, one call;
* start-up latency on one small unit (`unitgate explain`, `unitgate check`, `systemd-analyze`) and
  `python -X importtime -c "import unitgate.cli"`.

It also checks that both tools give the same overall exposure for every unit (`agree: X/N`).
Standard library only; Python 3.10+.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
    records = [json.loads(line) for line in expected.read_text().splitlines() if line.strip()]
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
# Running and timing


@dataclass
class Job:
    label: str
    tool: str
    units: int
    calls: list[list[str]]  # one argv per call
    cwd: Path
    env: dict[str, str] | None = None  # overrides the common environment
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rcs: list[int] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""

    def run(self, env: dict[str, str]) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        outs, errs, rcs = [], [], []
        for argv in self.calls:
            r = subprocess.run(
                argv, cwd=self.cwd, capture_output=True, text=True, env=self.env or env, check=False
            )
            outs.append(r.stdout)
            errs.append(r.stderr)
            rcs.append(r.returncode)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.walls.append(wall)
        self.cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        self.rcs.append(max(rcs))
        self.stdout, self.stderr = "".join(outs), "".join(errs)

    def row(self) -> dict[str, object]:
        best = min(self.walls)
        return {
            "label": self.label,
            "tool": self.tool,
            "units": self.units,
            "calls": len(self.calls),
            "wall_best": best,
            "wall_median": statistics.median(self.walls),
            "cpu_median": statistics.median(self.cpus),
            "units_per_second": self.units / best if best else None,
            "exit_codes": sorted(set(self.rcs)),
            "walls": self.walls,
            "cpus": self.cpus,
        }


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


IMPORTS = ("unitgate.cli", "unitgate.explain", "unitgate.gate")


def import_time(python: str, env: dict[str, str], repeat: int, cwd: Path) -> dict[str, float]:
    """`python -X importtime -c "import M"` for the CLI and the modules its subcommands load lazily.

    The figure is the sum of the cumulative times of the top-level `unitgate*` lines (each includes
    the standard-library modules it was first to import); the interpreter's own start-up imports
    (`site`, `encodings`, an editable install's finder) are reported apart.
    """
    out: dict[str, float] = {}
    for module in IMPORTS:
        totals, startup = [], []
        for _ in range(repeat):
            r = subprocess.run(
                [python, "-X", "importtime", "-c", f"import {module}"],
                capture_output=True,
                text=True,
                env=env,
                cwd=cwd,
                check=False,
            )
            ours = theirs = 0
            for line in r.stderr.splitlines():
                m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\S.*)$", line)
                if m:  # a top-level import: its cumulative time
                    if m.group(3).startswith("unitgate"):
                        ours += int(m.group(2))
                    else:
                        theirs += int(m.group(2))
            totals.append(ours / 1e6)
            startup.append(theirs / 1e6)
        out[f"import {module}"] = min(totals)
        out[f"import {module} (median)"] = statistics.median(totals)
        out[f"interpreter start-up imports ({module} run)"] = min(startup)
    for label, argv in (
        ("python -c pass", [python, "-c", "pass"]),
        ("python -c 'import unitgate.cli'", [python, "-c", "import unitgate.cli"]),
    ):
        walls = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, cwd=cwd, check=False)
            walls.append(time.perf_counter() - t0)
        out[f"wall: {label}"] = min(walls)
    return out


# ---------------------------------------------------------------------------------------------------
# Agreement


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
    head = ("tool", "units", "calls", "wall best s", "wall median s", "CPU s", "units/s")
    lines = [head]
    for r in rows:
        ups = r["units_per_second"]
        lines.append(
            (
                str(r["label"]),
                str(r["units"]),
                str(r["calls"]),
                f"{r['wall_best']:.3f}",
                f"{r['wall_median']:.3f}",
                f"{r['cpu_median']:.3f}",
                f"{ups:,.0f}" if isinstance(ups, float) and r["units"] != 1 else "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            out.append(
                "|"
                + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
                + "|"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory (with units/)")
    ap.add_argument("--expected", type=Path, help="oracle records (default: CORPUS/expected.jsonl)")
    ap.add_argument("--repeat", type=int, default=3, help="repeats per measurement (best and median)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--unitgate", help="unitgate executable (default: .venv/bin/unitgate, then PATH)")
    ap.add_argument(
        "--systemd-analyze",
        default=os.environ.get("SYSTEMD_ANALYZE", "systemd-analyze"),
        help="systemd-analyze executable (default: $SYSTEMD_ANALYZE or PATH)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the merged root and print where it is")
    args = ap.parse_args(argv)

    corpus = args.corpus.resolve()
    expected = (args.expected or corpus / "expected.jsonl").resolve()
    repeat = max(1, args.repeat)
    sa_bin = shutil.which(args.systemd_analyze) or args.systemd_analyze
    ug = unitgate_cmd(args.unitgate)
    ug_python = unitgate_python(ug)
    env = dict(os.environ)
    env.pop("SYSTEMD_ANALYZE_DEBUG", None)
    env.setdefault("LC_ALL", "C.UTF-8")
    # Python's bytecode cache as an installed tool has it (pip writes .pyc files), kept in the temporary
    # directory so nothing is written into the repository; the environment may disable it otherwise.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    versions = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.release()}",
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": first_line([ug_python, "--version"]),
        "systemd_analyze": first_line([sa_bin, "--version"]),
        "unitgate": first_line([*ug, "--version"]),
    }

    c = load_corpus(corpus, expected)
    units = sorted(c.units, key=lambda u: u.rel)
    tmp = Path(tempfile.mkdtemp(prefix="unitgate-bench-"))
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    # The same, with no bytecode cache at all: every module compiled from source on every run.
    cold_env = dict(env, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(tmp / "no-pycache"))
    try:
        root = tmp / "root"
        build_root(corpus, sorted({u.package for u in units} | {k.split("/")[0] for k in c.left_out}), root)
        # The start-up figure: the smallest unit, alone in a root of its own (a repository with one file).
        small = min(units, key=lambda u: (u.size, u.rel))
        one = tmp / "one"
        (one / small.rel).parent.mkdir(parents=True)
        shutil.copy2(root / small.rel, one / small.rel)

        limit = arg_limit()
        names = [u.name for u in units]
        rels = [u.rel for u in units]
        sa = [sa_bin, "security", "--offline=true", f"--root={root}"]
        jobs = [
            Job("systemd-analyze (text)", "systemd-analyze", len(units), split_calls(sa, names, limit), root),
            Job(
                "systemd-analyze --json=short",
                "systemd-analyze",
                len(units),
                split_calls([*sa, "--json=short"], names, limit),
                root,
            ),
            Job(
                "unitgate explain (text)",
                "unitgate",
                len(units),
                split_calls([*ug, "explain"], rels, limit),
                root,
            ),
            Job(
                "unitgate explain --format json",
                "unitgate",
                len(units),
                split_calls([*ug, "explain", "--format", "json"], rels, limit),
                root,
            ),
            Job(
                "1 unit: systemd-analyze",
                "systemd-analyze",
                1,
                [[sa_bin, "security", "--offline=true", f"--root={one}", small.name]],
                one,
            ),
            Job("1 unit: unitgate explain", "unitgate", 1, [[*ug, "explain", small.rel]], one),
            Job(
                "1 unit: unitgate check", "unitgate", 1, [[*ug, "check", "--format", "text", small.rel]], one
            ),
            Job(
                "1 unit: unitgate explain, no .pyc",
                "unitgate",
                1,
                [[*ug, "explain", small.rel]],
                one,
                env=cold_env,
            ),
        ]
        print(
            f"corpus: {corpus} ({c.recorded} recorded units, {c.packages} packages)\n"
            f"merged root: {len(units)} units compared, {len(c.left_out)} left out of both sides "
            f"(name or drop-in collisions), {c.not_found} recorded but not found",
            flush=True,
        )
        # One warm-up pass (page cache, .pyc), then `repeat` interleaved rounds.
        for job in jobs:
            job.run(env)
            job.walls.clear(), job.cpus.clear(), job.rcs.clear()
        sa_text = ug_json = ""
        for i in range(repeat):
            for job in jobs:
                job.run(env)
                if i == 0 and job.label == "systemd-analyze (text)":
                    sa_text = job.stdout
                if i == 0 and job.label == "unitgate explain --format json":
                    ug_json = job.stdout
            print(f"round {i + 1}/{repeat} done", file=sys.stderr, flush=True)
        imports = import_time(ug_python, env, max(repeat, 10), tmp)
        agree = agreement(units, sa_text, ug_json, expected)
        if args.keep:
            print(f"merged root kept: {root}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    versions["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [j.row() for j in jobs]
    by = {r["label"]: r for r in rows}

    def ratio(a: str, b: str) -> float:
        return float(by[a]["wall_best"]) / float(by[b]["wall_best"])  # type: ignore[arg-type]

    ratios = {
        "json: systemd-analyze / unitgate": ratio(
            "systemd-analyze --json=short", "unitgate explain --format json"
        ),
        "text: systemd-analyze / unitgate": ratio("systemd-analyze (text)", "unitgate explain (text)"),
        "1 unit: systemd-analyze / unitgate explain": ratio(
            "1 unit: systemd-analyze", "1 unit: unitgate explain"
        ),
        "1 unit: systemd-analyze / unitgate check": ratio(
            "1 unit: systemd-analyze", "1 unit: unitgate check"
        ),
    }

    print()
    for k, v in versions.items():
        print(f"{k}: {v}")
    print(f"single unit: {small.package}/{small.name} ({small.size} bytes), alone in its own root")
    print(
        f"repeats: {repeat} (after one warm-up run); wall = best / median, CPU = median user+sys of children"
    )
    print()
    print(table(rows))
    print()
    for k, v in ratios.items():
        print(f"ratio {k}: {v:.2f}x  ({'unitgate faster' if v > 1 else 'systemd-analyze faster'})")
    print(f"imports (python -X importtime, best of {max(repeat, 10)}, ms):")
    for module in IMPORTS:
        print(
            f"  import {module}: {imports[f'import {module}'] * 1000:.1f} "
            f"(median {imports[f'import {module} (median)'] * 1000:.1f}; interpreter start-up imports "
            f"{imports[f'interpreter start-up imports ({module} run)'] * 1000:.1f})"
        )
    bare, cli = imports["wall: python -c pass"], imports["wall: python -c 'import unitgate.cli'"]
    print(
        f"  whole process (wall): python -c pass {bare * 1000:.1f}, "
        f"python -c 'import unitgate.cli' {cli * 1000:.1f}"
    )
    print()
    print(
        f"agree: {agree['agree']}/{agree['n']} (overall exposure, systemd-analyze text vs unitgate json, "
        f"same merged root)"
    )
    print(
        f"merged-root systemd-analyze vs per-package oracle ({expected.name}): "
        f"{agree['merged_root_vs_oracle']}/{agree['n']}"
    )
    for line in agree["differences"][:20]:  # type: ignore[index]
        print("  " + line)
    if c.left_out:
        print(f"left out ({len(c.left_out)}):")
        for k, why in sorted(c.left_out.items()):
            print(f"  {k}: {why}")

    if args.json:
        result = {
            "versions": versions,
            "corpus": str(corpus),
            "expected": str(expected),
            "units": len(units),
            "left_out": c.left_out,
            "single_unit": f"{small.package}/{small.name}",
            "repeat": repeat,
            "rows": rows,
            "ratios": ratios,
            "imports": imports,
            "agreement": agree,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if agree["agree"] == agree["n"] else 1


if __name__ == "__main__":
    sys.exit(main())
