"""`unitgate check` over many units: each unit analysed and judged where it is loaded, and only what
the report needs (findings, summary line, files read) kept.

Why: a repository-wide run covers tens of thousands of units. Keeping every unit's analysis (its
merged settings, 81 check rows, lines in effect) cost about 30 KB per unit and made the garbage
collector walk all of it again and again; judging each unit as soon as it is analysed, in forked
workers when there are many (as `unitgate explain` does), keeps the parent's memory to the findings
and spreads the work over the machine's cores. Results come back in the order of the units, so the
report is the same as a run in one process.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence

from unitgate.analysis import UnitAnalysis
from unitgate.findings import Finding, UnitSummary
from unitgate.parallel import MIN_ITEMS, map_ordered
from unitgate.policy import UnitPolicy
from unitgate.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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


# The work a forked worker does on each item: inherited through fork, never pickled (it is a closure
# over the run's policy finder), so only the items and results cross between processes.
_WORK: Callable[[Any], Any] | None = None


def _call(item: Any) -> Any:
    assert _WORK is not None
    return _WORK(item)


def map_units(
    work: Callable[[Any], UnitOutcome], items: Sequence[Any], *, parallel: bool = True
) -> Iterator[UnitOutcome]:
    """work(item) for each item, in order; in forked workers for large runs when `parallel`.

    The objects alive before the run (imports, tables, policies) are moved out of the collector's
    way (gc.freeze): a run creates millions of small objects, and each full collection would walk
    the long-lived ones again.
    """
    global _WORK
    if len(items) >= MIN_ITEMS:  # a few files (the hook): nothing to gain
        gc.freeze()
    if not parallel:
        yield from map(work, items)
        return
    _WORK = work
    try:
        yield from map_ordered(_call, items)
    finally:
        _WORK = None
