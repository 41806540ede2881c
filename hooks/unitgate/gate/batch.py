"""`unitgate check` over many units: each unit analysed and judged where it is loaded, and only what
the report needs (findings, summary line, files read) kept.

Why: a repository-wide run covers tens of thousands of units. Keeping every unit's analysis (its
merged settings, 81 check rows, lines in effect) cost about 30 KB per unit and made the garbage
collector walk all of it again and again; judging each unit as soon as it is analysed, in forked
workers when there are many (as `unitgate explain` does), keeps the parent's memory to the findings
and spreads the work over the machine's cores. Results come back in the order of the units, so the
report is the same as a run in one process.

What crosses between processes is kept small and cheap to rebuild: an outcome comes back as plain
tuples (unpickling tens of thousands of value objects one attribute at a time cost the parent more
than a second at 10k units).
"""

from __future__ import annotations

import gc
import os
from itertools import chain, islice

from unitgate.analysis import UnitAnalysis
from unitgate.findings import Finding, Level, UnitSummary
from unitgate.model import Location
from unitgate.parallel import MIN_ITEMS, forked_map, workers
from unitgate.policy import Policy, PolicyError, UnitPolicy
from unitgate.records import dataclass
from unitgate.suppress import Suppression, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any


@dataclass(frozen=True)
class FileScan:
    """One file the run read, as the report needs it: its suppression comments, the findings about
    broken ones its policy does not ignore, and a policy over it that could not be used."""

    path: str  # as the run names it
    real: str  # its real path: a file reached under two names is counted once
    readable: bool  # False: refused or unreadable (the engine reports why); no suppressions apply
    suppressions: tuple[Suppression, ...] = ()
    broken: tuple[Finding, ...] = ()  # malformed or reasonless `# unitgate:` comments, after `ignore`
    policy_error: tuple[str, str] | None = None  # (policy file, message) of the policy over it


def scan_file(path: str, policy_for: Callable[[str], Policy], read: Callable[[str], str | None]) -> FileScan:
    """`path`'s suppressions, read through `read` (None: not readable) and judged by its policy."""
    real = os.path.realpath(path)
    text = read(path)
    if text is None:
        return FileScan(path, real, False)
    try:
        rules: UnitPolicy | None = policy_for(path).for_unit("")
        error = None
    except PolicyError as exc:  # reported once per policy file, in the order the files are read
        rules, error = None, (exc.path, str(exc))
    if "unitgate" not in text:  # no `# unitgate:` comment can be in it (most files of a large run)
        return FileScan(path, real, True, policy_error=error)
    suppressions, broken = parse(path, text)
    kept = tuple(f for f in broken if rules is not None and not rules.ignores(f.rule, None))
    return FileScan(path, real, True, tuple(suppressions), kept, error)


@dataclass(frozen=True)
class UnitOutcome:
    """One unit judged against its policy: what `check` keeps of it."""

    key: tuple[str, str, str]  # name, its file's real path, scoring model: judged once per model
    broken_policy: tuple[str, str] | None = None  # (policy file, message): the unit was not judged
    sources: tuple[str, ...] = ()  # every file the unit was built from
    fragment: str | None = None  # the unit's own file, if it has one in the repository
    findings: tuple[Finding, ...] = ()  # after the policy's `ignore`, before suppressions
    summary: UnitSummary | None = None
    dropin: str | None = None  # where `unitgate fix` would write for it (grouping of UG101)
    container: bool = False  # a quadlet container (not scored by the systemd models)
    # Kept only when the caller asks for analyses (a baseline, `fix`); None in a streaming run.
    kept: tuple[UnitAnalysis, UnitPolicy] | None = None
    scans: tuple[FileScan, ...] = ()  # its sources this process had not scanned before


# The work a forked worker does on each item: inherited through fork, never pickled (it is a closure
# over the run's policy finder), so only the items (jobs) and results cross.
_WORK: Callable[[Any], UnitOutcome] | None = None
CHUNK = 64  # items per message: small enough that the workers finish together


def _call(item: Any) -> tuple[Any, ...]:
    assert _WORK is not None
    if not gc.isenabled():  # forked while the parent had it off (see map_units): a worker collects
        gc.enable()
    return _to_wire(_WORK(item))


def map_units(
    work: Callable[[Any], UnitOutcome], items: Iterable[Any], *, parallel: bool = True
) -> Iterator[UnitOutcome]:
    """work(item) for each item, in order; in forked workers for large runs when `parallel`.

    `items` may be a generator (the run's plan): the workers start once there are enough items to
    pay for them, and judge the first units while the parent still resolves the rest. The objects
    alive before then (imports, tables, policies, the directory index) are moved out of the
    collector's way (gc.freeze): a run creates millions of small objects, and each full collection
    would walk the long-lived ones again.
    """
    global _WORK
    rest = iter(items)
    first = list(islice(rest, MIN_ITEMS))
    if len(first) < MIN_ITEMS:  # a few files (the hook): nothing to gain
        yield from map(work, first)
        return
    gc.freeze()
    if not parallel or workers() < 2:
        yield from map(work, chain(first, rest))
        return
    _WORK = work
    # The parent only gathers results, and nothing it keeps forms cycles: a collection would walk
    # every finding kept so far, again and again (seconds at 50k units). What it kept is frozen at
    # the end, out of the way of the collections the report then causes.
    enabled = gc.isenabled()
    gc.disable()
    try:
        for wire in forked_map(_call, chain(first, rest), CHUNK):
            yield _from_wire(wire)
    finally:
        _WORK = None
        gc.freeze()
        if enabled:
            gc.enable()


# The wire format: an outcome as tuples of strings, numbers and None, rebuilt field by field.


def _finding_row(f: Finding) -> tuple[Any, ...]:
    level = None if f.level is None else f.level.value
    return (f.rule, f.location.path, f.location.line, f.message, f.unit, f.directive, level, f.models, f.fix)


def _finding(row: tuple[Any, ...], shared: dict[tuple[str, int], Location] | None = None) -> Finding:
    """A finding from its row; `shared` hands out one Location per distinct place (a unit's missing
    directives all point at one line): a 50k-unit run keeps 250k findings."""
    rule, path, line, message, unit, directive, level, models, fix = row
    shown = None if level is None else Level(level)
    if shared is None:
        return Finding(rule, Location(path, line), message, unit, directive, shown, models, fix)
    location = shared.get((path, line))
    if location is None:
        location = shared[(path, line)] = Location(path, line)
    return Finding(rule, location, message, unit, directive, shown, models, fix)


def _scan_row(s: FileScan) -> tuple[Any, ...]:
    broken = tuple(_finding_row(f) for f in s.broken)
    return (s.path, s.real, s.readable, s.suppressions, broken, s.policy_error)


def _scan(row: tuple[Any, ...]) -> FileScan:
    path, real, readable, suppressions, broken, error = row
    return FileScan(path, real, readable, suppressions, tuple(_finding(f) for f in broken), error)


def _summary_row(s: UnitSummary | None) -> tuple[Any, ...] | None:
    if s is None:
        return None
    return (s.unit, s.path, s.state, s.exposure, s.max_exposure, s.policy, s.model, s.podman, s.mode)


def _to_wire(o: UnitOutcome) -> tuple[Any, ...]:
    assert o.kept is None  # analyses never cross: a run that keeps them stays in one process
    findings = tuple(_finding_row(f) for f in o.findings)
    scans = tuple(_scan_row(s) for s in o.scans)
    summary = _summary_row(o.summary)
    return (o.key, o.broken_policy, o.sources, o.fragment, findings, summary, o.dropin, o.container, scans)


def _from_wire(row: tuple[Any, ...]) -> UnitOutcome:
    key, broken_policy, sources, fragment, findings, summary, dropin, container, scans = row
    shared: dict[tuple[str, int], Location] = {}
    return UnitOutcome(
        key,
        broken_policy,
        sources,
        fragment,
        tuple(_finding(f, shared) for f in findings),
        None if summary is None else UnitSummary(*summary),
        dropin,
        container,
        None,
        tuple(_scan(s) for s in scans),
    )
