"""Findings a person reads once: a unit's missing directives (UG101) become one finding naming them
all, with the one drop-in that adds them. Grouping happens after `ignore`, suppressions and the
baseline, which all work per directive."""

from __future__ import annotations

from unitgate.findings import Finding
from unitgate.model import Location
from unitgate.records import replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def group_missing(findings: Sequence[Finding], dropins: Mapping[str, str]) -> list[Finding]:
    """One UG101 per unit and place; `dropins` maps a unit to the drop-in `unitgate fix` would write."""
    groups: dict[tuple[str, Location, tuple[str, ...]], list[Finding]] = {}  # per scoring models too
    for f in findings:
        if f.rule == "UG101" and f.unit and f.fix:
            groups.setdefault((f.unit, f.location, f.models), []).append(f)
    out: list[Finding] = []
    for f in findings:
        group = groups.get((f.unit or "", f.location, f.models)) if f.rule == "UG101" and f.fix else None
        if group is None or len(group) == 1:
            out.append(f)
        elif f is group[0]:
            out.append(_merged(group, dropins.get(group[0].unit or "")))
    return out


def _merged(group: Sequence[Finding], dropin: str | None) -> Finding:
    first = group[0]
    section = "Container" if (first.directive or "").startswith("Container.") else "Service"
    lines = ", ".join(f.fix or "" for f in group)
    where = f" in one drop-in, {dropin}" if dropin else f" in [{section}]"
    tool = f" (`unitgate fix {first.location.path}` writes it)" if dropin else ""
    return replace(
        first,
        message=f"{first.unit}: {len(group)} directives the policy requires are not set: write "
        f"[{section}] {lines}{where}{tool}",
        directive=None,
        fix=None,
    )
