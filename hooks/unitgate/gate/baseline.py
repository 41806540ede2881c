"""The baseline: adopting unitgate in a repository whose units already have findings.

`unitgate baseline` records, in `.unitgate-baseline.json` at the repository root, each unit's exposure
and a fingerprint of each of its findings. While that file exists, `unitgate check` reports only
findings that are not in it, and UG201 only for a unit whose exposure rose above the recorded one; the
summary says how many baselined findings remain. `--update-baseline` tightens entries for units that
improved (never loosens them); entries whose unit file is gone are reported as stale.

A fingerprint survives line moves and unrelated edits: the rule, the unit (or, for a finding about
no unit, the file), the directive, and the message with every `file:line` and number taken out.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from unitgate import fsread
from unitgate.analysis import UnitAnalysis
from unitgate.findings import Finding, tenths
from unitgate.model import Location, UnitInputError
from unitgate.policy_terms import BASELINE_FILE
from unitgate.records import dataclass, field, replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from unitgate.findings import UnitSummary

FILE_NAME = BASELINE_FILE
FORMAT_VERSION = 1
_LOCATION = r"[^\s,;()]+:\d+\b"
_NUMBER = r"\d+(\.\d+)?"


repository_root = fsread.work_tree  # the baseline lives at its root


def fingerprint(finding: Finding) -> str:
    """Stable across line moves and unrelated edits (see the module's docstring)."""
    # UG201's message carries the exposure, which is compared with the recorded one instead. The
    # scoring models a multi-model policy shows at the end of a message (" [systemd-252, systemd-257]",
    # added after the baseline is applied) are not part of it.
    text = finding.message
    shown = f" [{', '.join(finding.models)}]"
    if finding.models and text.endswith(shown):
        text = text[: -len(shown)]
    plain = "" if finding.rule == "UG201" else re.compile(_LOCATION).sub("<line>", text)
    message = re.compile(_NUMBER).sub("#", plain)
    owner = finding.unit or finding.location.path
    key = "\0".join((finding.rule, owner, finding.directive or "", message))
    import hashlib  # here: OpenSSL's start-up is paid only by runs that need it

    return hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Entry:
    unit: str
    exposure: int | None  # tenths
    findings: tuple[tuple[str, str, str], ...]  # (fingerprint, rule, directive or "")


@dataclass(frozen=True)
class Baseline:
    path: str
    root: str
    entries: Mapping[str, Entry]  # unit file, relative to the root -> entry
    update: bool = False  # --update-baseline: tighten entries of units that improved


@dataclass(frozen=True)
class Applied:
    kept: tuple[Finding, ...]
    baselined: int  # findings in the baseline that are still there
    note: str  # what the summary says about the baseline
    improved: tuple[str, ...] = field(default=())


def key_of(analysis: UnitAnalysis, root: str) -> str | None:
    if analysis.fragment is None:
        return None
    return os.path.relpath(os.path.abspath(analysis.fragment), root).replace(os.sep, "/")


MAX_BYTES = 64 * 1024 * 1024  # a baseline of 50,000 units with their findings is a few tens of MiB


def _read(where: str) -> Any:
    """The parsed JSON at `where`, read as every repository file is (fsread: a regular file, symlinks
    only within the repository, never a FIFO or device, bounded); UnitInputError when it cannot be."""
    import json  # here: a repository without a baseline never needs it

    try:
        raw = fsread.read_confined(where, fsread.boundary_for(where), MAX_BYTES)
    except fsread.Refused as exc:
        raise UnitInputError(Location(where), exc.refusal.message) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise UnitInputError(Location(where), f"cannot read the baseline: {exc}") from None


def _entry(unit: Any) -> Entry:
    """One unit's entry; ValueError, TypeError or KeyError when it is not one unitgate wrote."""
    exposure = unit.get("exposure")
    findings = unit.get("findings", [])
    if not isinstance(findings, list) or (exposure is not None and not isinstance(exposure, (int, float))):
        raise TypeError("not an entry")
    return Entry(
        str(unit.get("unit", "")),
        None if exposure is None else round(float(exposure) * 10),
        tuple(
            (str(f["fingerprint"]), str(f.get("rule", "")), str(f.get("directive") or "")) for f in findings
        ),
    )


def load(path: str | None = None, update: bool = False) -> Baseline | None:
    """The baseline at `path` (default: the repository root's), or None when there is none."""
    root = repository_root()
    where = path or os.path.join(root, FILE_NAME)
    if not os.path.lexists(where):
        if path is not None:
            raise UnitInputError(Location(path), "no such baseline file")
        return None
    data = _read(where)
    not_ours = UnitInputError(Location(where), f"not a unitgate baseline (version {FORMAT_VERSION})")
    if (
        not isinstance(data, dict)
        or data.get("version") != FORMAT_VERSION
        or not isinstance(data.get("units"), dict)
    ):
        raise not_ours
    try:
        entries = {str(name): _entry(unit) for name, unit in data["units"].items()}
    except (AttributeError, TypeError, KeyError, ValueError, OverflowError):
        raise not_ours from None
    return Baseline(where, os.path.dirname(os.path.abspath(where)), entries, update)


def exposures_of(units: Iterable[UnitSummary]) -> dict[tuple[str, str], int | None]:
    """Each checked unit's exposure by (unit, path as given): the highest over its scoring models (a
    unit is judged once per model, and the baseline records one exposure)."""
    out: dict[tuple[str, str], int | None] = {}
    for u in units:
        old = out.get((u.unit, u.path))
        out[(u.unit, u.path)] = u.exposure if old is None else max(old, u.exposure or 0)
    return out


def _owners(analyses: Sequence[UnitAnalysis], root: str) -> Callable[[Finding], str | None]:
    """The baseline key (the unit file) of the checked unit a finding is about: the one unit of its
    name, and where units in different roots share a name (`hosts/a/.../web.service`, `hosts/b/...`),
    the one whose own files hold the line the finding points at. None when nothing checked says: such
    a finding is never baselined. (A unit judged under several scoring models is one unit here.)"""
    by_name: dict[str, dict[str, list[UnitAnalysis]]] = {}
    for a in analyses:
        key = key_of(a, root)
        if key is not None:
            by_name.setdefault(a.unit, {}).setdefault(key, []).append(a)
    files: dict[str, set[str]] = {}

    def owner(f: Finding) -> str | None:
        keys = by_name.get(f.unit or "", {})
        if len(keys) < 2:
            return next(iter(keys), None)
        here = os.path.abspath(f.location.path)
        for key, same in keys.items():
            if key not in files:
                files[key] = {os.path.abspath(p) for a in same for p in (a.path, *a.sources)}
        mine = [key for key in keys if here in files[key]]
        return mine[0] if len(mine) == 1 else None

    return owner


def apply(
    baseline: Baseline, findings: Sequence[Finding], checked: Iterable[tuple[UnitAnalysis, int | None]]
) -> Applied:
    """Drop the findings the baseline records; keep UG201 only above the recorded exposure."""
    pairs = list(checked)
    owner = _owners([a for a, _ in pairs], baseline.root)
    # Per checked unit with an entry, by key: the unit, its exposure (the highest over its models), and
    # the recorded findings not matched yet.
    left: dict[str, tuple[UnitAnalysis, int | None, Counter[str]]] = {}
    for a, exposure in pairs:
        key = key_of(a, baseline.root)
        entry = baseline.entries.get(key or "")
        if key is None or entry is None or entry.unit != a.unit:
            continue
        if key in left:  # the same unit under another scoring model
            _, before, recorded_left = left[key]
            highest = exposure if before is None else max(before, exposure or 0)
            left[key] = (a, highest, recorded_left)
        else:
            left[key] = (a, exposure, Counter(fp for fp, _, _ in entry.findings))
    kept: list[Finding] = []
    baselined = 0
    # Counted as `check` shows findings: a unit's missing directives are one UG101 there (gate/grouped.py),
    # though each is baselined on its own (so a newly missing directive is still new).
    missing_counted: set[str] = set()
    for f in findings:
        key = owner(f)
        mine = left.get(key) if key is not None else None
        if key is None or mine is None:
            kept.append(f)
            continue
        _, exposure, remaining = mine
        recorded = baseline.entries[key].exposure
        fp = fingerprint(f)
        if f.rule == "UG201":
            if recorded is not None and exposure is not None and exposure <= recorded and remaining[fp]:
                remaining[fp] -= 1
                baselined += 1
                continue
            if recorded is not None:
                f = _with_recorded(f, recorded)
        elif remaining[fp]:
            remaining[fp] -= 1
            if f.rule == "UG101":
                baselined += key not in missing_counted
                missing_counted.add(key)
            else:
                baselined += 1
            continue
        kept.append(f)
    better = [
        (key, a, exposure)
        for key, (a, exposure, rest) in left.items()
        if _improved(baseline.entries[key], exposure, rest)
    ]
    improved = tuple(a.unit for _, a, _ in better)
    stale = sorted(k for k in baseline.entries if not os.path.exists(os.path.join(baseline.root, k)))
    if baseline.update and better:
        tighten(baseline, better, findings, owner)
    return Applied(tuple(kept), baselined, _note(baseline, baselined, improved, stale), improved)


def _improved(entry: Entry, exposure: int | None, left: Counter[str]) -> bool:
    lower = exposure is not None and entry.exposure is not None and exposure < entry.exposure
    return lower or any(n > 0 for n in left.values())


def _with_recorded(f: Finding, recorded: int) -> Finding:
    return replace(f, message=f"{f.message} (the baseline records {tenths(recorded)})")


def _note(baseline: Baseline, baselined: int, improved: Sequence[str], stale: Sequence[str]) -> str:
    name = os.path.relpath(baseline.path)
    one = baselined == 1
    parts = [f"{baselined} baselined finding{'' if one else 's'} remain{'s' if one else ''} ({name})"]
    if improved:
        verb = "tightened" if baseline.update else "improved; `unitgate check --update-baseline` records it"
        parts.append(f"{', '.join(improved)} {verb}")
    if stale:
        parts.append(
            f"stale entries for files that no longer exist: {', '.join(stale)} "
            "(`unitgate baseline` drops them)"
        )
    return "; ".join(parts)


def _findings_json(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [
        {"fingerprint": fingerprint(f), "rule": f.rule, "directive": f.directive}
        for f in sorted(findings, key=lambda f: (f.rule, f.directive or "", fingerprint(f)))
    ]


def _unit_json(analysis: UnitAnalysis, exposure: int | None, findings: Iterable[Finding]) -> dict[str, Any]:
    return {
        "unit": analysis.unit,
        "exposure": None if exposure is None else exposure / 10,
        "findings": _findings_json(findings),
    }


def write(path: str, units: Mapping[str, dict[str, Any]]) -> None:
    import json  # here, as below: `check` in a repository without a baseline never needs it

    data = {"version": FORMAT_VERSION, "tool": "unitgate", "units": dict(sorted(units.items()))}
    # A new file renamed over the old name: a symlink planted there is replaced, never written through.
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def _existing_units(path: str) -> dict[str, dict[str, Any]]:
    try:
        data = _read(path)
    except UnitInputError:
        return {}
    units = data.get("units") if isinstance(data, dict) else None
    return dict(units) if isinstance(units, dict) else {}


def _by_owner(
    findings: Iterable[Finding], owner: Callable[[Finding], str | None]
) -> dict[str, list[Finding]]:
    """The findings of each baseline key, in order: one pass over the run's findings, not one per unit."""
    out: dict[str, list[Finding]] = {}
    for f in findings:
        key = owner(f)
        if key is not None:
            out.setdefault(key, []).append(f)
    return out


def tighten(
    baseline: Baseline,
    improved: Sequence[tuple[str, UnitAnalysis, int | None]],
    findings: Sequence[Finding],
    owner: Callable[[Finding], str | None],
) -> None:
    """Record the lower exposure and only the findings still present, for units that improved."""
    units = _existing_units(baseline.path)
    by_key = _by_owner(findings, owner)
    for key, a, exposure in improved:
        if key not in units:
            continue
        entry = baseline.entries[key]
        recorded = Counter(fp for fp, _, _ in entry.findings)
        still = []
        for f in by_key.get(key, ()):
            fp = fingerprint(f)
            if recorded[fp]:
                recorded[fp] -= 1
                still.append(f)
        lowest = (
            min(x for x in (exposure, entry.exposure) if x is not None)
            if exposure or entry.exposure
            else None
        )
        units[key] = _unit_json(a, lowest, still)
    write(baseline.path, units)


def record(
    path: str, checked: Sequence[tuple[UnitAnalysis, int | None]], findings: Sequence[Finding]
) -> tuple[int, int, int]:
    """Write the baseline for the checked units, keeping other units' entries whose files still
    exist. Returns (units, findings, stale entries dropped)."""
    root = os.path.dirname(os.path.abspath(path))
    units = _existing_units(path)
    before = len(units)
    units = {k: v for k, v in units.items() if os.path.exists(os.path.join(root, k))}
    dropped = before - len(units)
    count = 0
    by_key = _by_owner(findings, _owners([a for a, _ in checked], root))
    done: set[str] = set()  # a unit judged under several scoring models is recorded once
    for analysis, exposure in checked:
        key = key_of(analysis, root)
        if key is None or key in done:
            continue
        done.add(key)
        mine = by_key.get(key, [])
        count += len(mine)
        units[key] = _unit_json(analysis, exposure, mine)
    write(path, units)
    return len(done), count, dropped


_SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache"})


def unit_files(root: str) -> list[str]:
    """Every file under `root` the pre-commit hook would check (its `files` pattern), relative to
    the current directory, in a stable order."""
    from unitgate.gate.changes import selected  # the one definition of a file unitgate checks

    found = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in _SKIP_DIRS)
        rel = os.path.relpath(d, root).replace(os.sep, "/")
        found += [
            os.path.relpath(os.path.join(d, name))
            for name in sorted(files)
            if selected(name if rel == "." else f"{rel}/{name}")
        ]
    return found
