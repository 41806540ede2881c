"""Run one generated case through systemd-analyze and through unitgate, and compare the two.

systemd-analyze is asked twice per case, the way tools/oracle.py does it: the text form for the
overall line (JSON output has no overall score) and `--json=short` with SYSTEMD_ANALYZE_DEBUG=1 for
each check's weight, badness and range. Both use `--root=<case dir>`, so the host's units and drop-ins
never leak in. unitgate runs in-process on the path of the unit file systemd loads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .generator import Case

OVERALL = re.compile(r"Overall exposure level for (\S+): (\d+\.\d) (\w+)")
NA = 2**64 - 1  # systemd's UINT64_MAX badness: "not applicable"


DEFAULT_MODEL = "systemd-252"
# Each model's reference binary: $UNITGATE_SYSTEMD_255 etc. (tools/get-systemd-analyze.sh builds them);
# systemd-252 is $SYSTEMD_ANALYZE or the host's systemd-analyze (Debian 12's).
ANALYZER_ENV = {
    "systemd-252": "SYSTEMD_ANALYZE",
    "systemd-255": "UNITGATE_SYSTEMD_255",
    "systemd-257": "UNITGATE_SYSTEMD_257",
    "systemd-262": "UNITGATE_SYSTEMD_262",
}


def systemd_analyze(model: str = DEFAULT_MODEL) -> str | None:
    """The analyzer for a model: its environment variable, else (252 only) systemd-analyze from PATH.
    None when absent, or when the binary found is another release than the model's."""
    path = os.environ.get(ANALYZER_ENV[model]) or (
        shutil.which("systemd-analyze") if model == DEFAULT_MODEL else None
    )
    if not path or not os.access(path, os.X_OK):
        return None
    return path if analyzer_release(path) == int(model.split("-")[1]) else None


def analyzer_release(path: str) -> int | None:
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    m = re.match(r"systemd (\d+)", out)
    return int(m.group(1)) if m else None


def merge_usr(root: Path) -> None:
    """systemd 255+ no longer reads /lib: lay the case out as a merged-/usr system does (lib/ seen as
    usr/lib/; the file already in lib/ wins a name clash, like the corpus oracle's view)."""
    lib = root / "lib"
    if not lib.is_dir():
        return
    for src in sorted(lib.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        dst = root / "usr" / src.relative_to(root)
        if src.is_dir() and not src.is_symlink():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        if src.is_symlink():
            target = os.readlink(src)
            dst.symlink_to("/usr" + target if target.startswith("/lib/") else target)
            src.unlink()
        else:
            src.rename(dst)
    shutil.rmtree(lib)
    for p in root.rglob("*"):  # absolute /lib/... link targets elsewhere point into usr/ too
        if p.is_symlink() and os.readlink(p).startswith("/lib/"):
            target = os.readlink(p)
            p.unlink()
            p.symlink_to("/usr" + target)


@dataclass
class SystemdVerdict:
    loaded: bool
    returncode: int
    stderr: str
    analysed_as: str | None = None
    exposure: str | None = None  # "9.6"
    rating: str | None = None
    checks: list[dict[str, Any]] | None = None  # --json=short rows, in printed order


@dataclass
class UnitgateVerdict:
    loaded: bool
    state: str
    unit: str | None = None
    exposure: str | None = None
    rating: str | None = None
    checks: list[dict[str, Any]] | None = None
    diagnostics: list[str] = field(default_factory=list)
    crash: str | None = None


@dataclass
class Outcome:
    case: Case
    systemd: SystemdVerdict
    unitgate: UnitgateVerdict
    problems: list[str]
    warnings: list[str] = field(default_factory=list)  # file:line warned about by one side only

    @property
    def agree(self) -> bool:
        return not self.problems

    def report(self) -> str:
        """Everything needed to reproduce and read a disagreement."""
        sd, ug = self.systemd, self.unitgate
        lines = [
            f"=== DISAGREEMENT: seed={self.case.seed} case={self.case.index} "
            f"(reproduce: python -m tests.differential.run --seed {self.case.seed} --case {self.case.index})",
            self.case.dump(),
            "--- systemd-analyze: "
            + (
                f"{sd.analysed_as} {sd.exposure} {sd.rating}"
                if sd.loaded
                else f"refused (exit {sd.returncode})"
            ),
        ]
        lines += [f"    {x}" for x in sd.stderr.splitlines()[-12:]]
        lines.append(
            "--- unitgate: "
            + (f"{ug.unit} {ug.exposure} {ug.rating}" if ug.loaded else f"not loaded ({ug.state})")
        )
        lines += [f"    {d}" for d in ug.diagnostics[-12:]]
        if ug.crash:
            lines.append(ug.crash)
        lines.append("--- differences:")
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def _env(debug: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYSTEMD_", "XDG_"))}
    env.update(SYSTEMD_COLORS="0", SYSTEMD_PAGER="", LC_ALL="C.UTF-8")
    if debug:
        env["SYSTEMD_ANALYZE_DEBUG"] = "1"
    return env


def run_systemd(root: Path, unit: str, analyzer: str) -> SystemdVerdict:
    # cwd=root: a file named like the unit in the working directory would be put first on the path.
    args = [analyzer, "security", "--offline=true", f"--root={root}"]
    text = subprocess.run([*args, unit], capture_output=True, text=True, cwd=root, env=_env(False))
    js = subprocess.run(
        [*args, "--json=short", unit], capture_output=True, text=True, cwd=root, env=_env(True)
    )
    stderr = text.stderr.replace(f"{root}/", "").replace(str(root), "").strip()
    m = OVERALL.search(text.stdout)
    verdict = SystemdVerdict(
        loaded=bool(m) and text.returncode == 0, returncode=text.returncode, stderr=stderr
    )
    if m:
        verdict.analysed_as, verdict.exposure, verdict.rating = m.group(1), m.group(2), m.group(3)
        try:
            verdict.checks = json.loads(js.stdout)
        except json.JSONDecodeError:
            verdict.stderr += f"\n(unparsable --json=short output: {js.stdout[:200]!r} {js.stderr[-500:]!r})"
    return verdict


def run_unitgate(root: Path, case: Case, model: str = DEFAULT_MODEL) -> UnitgateVerdict:
    from unitgate.analysis import LoadState
    from unitgate.engine import analyze_paths
    from unitgate.security.score import format_tenths

    try:
        results = analyze_paths([str(root / unit_file(case, model))], model)
    except Exception:
        return UnitgateVerdict(False, "crash", crash=traceback.format_exc())
    if len(results) != 1:
        return UnitgateVerdict(False, f"{len(results)} results", crash=f"expected 1 result, got {results!r}")
    r = results[0]
    diags = [str(d).replace(f"{root}/", "") for d in r.diagnostics]
    v = UnitgateVerdict(r.state is LoadState.LOADED, r.state.value, unit=r.unit, diagnostics=diags)
    if v.loaded and r.exposure is not None:
        v.exposure, v.rating = format_tenths(r.exposure), r.rating
        v.checks = [
            {
                "name": c.name,
                "json_field": c.json_field,
                "set": c.set,
                "description": c.description,
                "weight": c.weight,
                "badness": NA if c.badness is None else c.badness,
                "range": c.range,
                "exposure": None if c.exposure is None else format_tenths(c.exposure),
            }
            for c in r.checks
        ]
    return v


FIELDS = ("badness", "exposure", "description", "set", "weight", "range", "json_field")


def compare(sd: SystemdVerdict, ug: UnitgateVerdict) -> list[str]:
    """Every way unitgate's verdict differs from systemd-analyze's, one line each (empty: agree)."""
    if ug.crash:
        return [f"unitgate crashed or misbehaved ({ug.state})"]
    if sd.loaded != ug.loaded:
        sd_says = "loads the unit" if sd.loaded else "refuses the unit"
        return [f"load state: systemd-analyze {sd_says}; unitgate says {ug.state}"]
    if not sd.loaded:
        return []
    if sd.checks is None or ug.checks is None:
        return ["no per-check rows to compare"]
    problems = []
    if sd.analysed_as != ug.unit:
        problems.append(f"analysed as: systemd {sd.analysed_as!r}, unitgate {ug.unit!r}")
    if (sd.exposure, sd.rating) != (ug.exposure, ug.rating):
        problems.append(f"overall: systemd {sd.exposure} {sd.rating}, unitgate {ug.exposure} {ug.rating}")
    sd_rows = {c["name"]: c for c in sd.checks}
    ug_rows = {c["name"]: c for c in ug.checks}
    problems += [f"{name}: only systemd has this row" for name in sd_rows.keys() - ug_rows.keys()]
    problems += [f"{name}: only unitgate has this row" for name in ug_rows.keys() - sd_rows.keys()]
    for name, s in sd_rows.items():
        u = ug_rows.get(name)
        if u is None:
            continue
        diffs = [f"{f} systemd={s.get(f)!r} unitgate={u.get(f)!r}" for f in FIELDS if s.get(f) != u.get(f)]
        if diffs:
            problems.append(f"{name}: " + "; ".join(diffs))
    if not problems and [c["name"] for c in sd.checks] != [c["name"] for c in ug.checks]:
        problems.append(_order_diff([c["name"] for c in sd.checks], [c["name"] for c in ug.checks]))
    return problems


def _order_diff(sd: list[str], ug: list[str]) -> str:
    first = next(i for i, (a, b) in enumerate(zip(sd, ug, strict=True)) if a != b)
    return (
        f"row order differs at row {first}: systemd {sd[first : first + 3]}, unitgate {ug[first : first + 3]}"
    )


def merged(model: str) -> bool:
    return int(model.split("-")[1]) >= 255


def unit_file(case: Case, model: str) -> str:
    rel = case.unit_file
    return "usr/" + rel if merged(model) and rel.startswith("lib/") else rel


def run_cases(
    cases: Iterable[Case], workdir: Path, jobs: int | None = None, model: str = DEFAULT_MODEL
) -> Iterator[Outcome]:
    """Write each case under `workdir`, ask both tools, yield outcomes in case order.

    systemd-analyze runs in a thread pool while unitgate runs in this thread. Each case gets its own
    directory, never reused: unitgate caches directory listings by path.
    """
    analyzer = systemd_analyze(model)
    if analyzer is None:
        raise RuntimeError(f"no systemd-analyze for {model} (set ${ANALYZER_ENV[model]})")
    jobs = jobs or max(2, (os.cpu_count() or 2) * 2)
    with ThreadPoolExecutor(jobs) as pool:
        pending = []
        for case in cases:
            root = workdir / f"s{case.seed}-c{case.index}"
            root.mkdir(parents=True)
            case.write(root)
            if merged(model):
                merge_usr(root)
            pending.append((case, root, pool.submit(run_systemd, root, case.unit_name, analyzer)))
            if len(pending) >= 4 * jobs:
                yield _finish(*pending.pop(0), model)
        for item in pending:
            yield _finish(*item, model)


def _finish(case: Case, root: Path, future: Any, model: str) -> Outcome:
    ug = run_unitgate(root, case, model)
    sd = future.result()
    return Outcome(case, sd, ug, compare(sd, ug), compare_warnings(sd, ug))


_AT_LINE = re.compile(r"^(\S+?):(\d+): (?:(?:warning|error|info|notice): )?(.*)$")


def compare_warnings(sd: SystemdVerdict, ug: UnitgateVerdict) -> list[str]:
    """The file:line places only one side complains about (systemd's stderr against unitgate's
    diagnostics), each with what the side that complains says."""
    theirs = {f"{m[1]}:{m[2]}": m[3] for m in map(_AT_LINE.match, sd.stderr.splitlines()) if m}
    own = "the rest of this drop-in is ignored"  # unitgate's own note, beside the line that stopped it
    ours = {f"{m[1]}:{m[2]}": m[3] for m in map(_AT_LINE.match, ug.diagnostics) if m and m[3] != own}
    if "Refusing." in sd.stderr:  # a combination refusal: systemd names the unit, unitgate a line
        ours = {k: v for k, v in ours.items() if not v.endswith("systemd refuses to load the unit")}
    only_sd = [f"systemd only: {k}: {v}" for k, v in theirs.items() if k not in ours]
    only_ug = [f"unitgate only: {k}: {v}" for k, v in ours.items() if k not in theirs]
    return only_sd + only_ug
