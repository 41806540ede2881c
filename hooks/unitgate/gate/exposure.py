"""Exposure shared by unit and container rules: a score without some checks, and the few fixes that
bring a unit under its maximum, with what each saves. The arithmetic is systemd-analyze's, as the
engine does it (security/score.py's `ceil_div`)."""

from __future__ import annotations

from unitgate.analysis import CheckResult, UnitAnalysis
from unitgate.findings import tenths
from unitgate.policy import UnitPolicy, canonical_check
from unitgate.security.checks import CHECKS
from unitgate.security.score import aggregate, ceil_div

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

MAX_SUGGESTIONS = 5


def score(
    checks: Iterable[CheckResult], excluded: frozenset[str] = frozenset(), fixed: frozenset[str] = frozenset()
) -> int:
    """systemd-analyze's exposure (0-100, i.e. tenths), with `excluded` checks left out (weight 0)
    and `fixed` checks counted as good."""
    return aggregate(
        (0 if c.json_field in fixed else c.badness, c.weight, c.range)
        for c in checks
        if c.badness is not None and canonical_check(c.json_field) not in excluded
    )


def _contribution(check: CheckResult) -> int:
    return ceil_div((check.badness or 0) * check.weight, check.range)


def _weight_sum(checks: Sequence[CheckResult], excluded: frozenset[str]) -> int:
    return sum(
        c.weight for c in checks if c.badness is not None and canonical_check(c.json_field) not in excluded
    )


def savings(
    checks: Sequence[CheckResult],
    excluded: frozenset[str],
    target: int,
    weakened: Callable[[CheckResult], bool] = lambda c: False,
    disruptive: Callable[[CheckResult], bool] = lambda c: False,
) -> list[tuple[CheckResult, int]]:
    """The checks to fix, until the score is at or below `target`: first those a line in the unit made
    bad (undoing a weakening is the cheapest fix), then those left at systemd's default; within each,
    fixes that do not change what the service may do before `disruptive` ones, then the biggest
    saving first (ties in systemd's order). Each with the score once it and those before are fixed."""
    candidates = sorted(
        (c for c in checks if c.badness and canonical_check(c.json_field) not in excluded),
        key=lambda c: (not weakened(c), disruptive(c), -_contribution(c)),
    )
    # score(checks, excluded, fixed) kept up to date step by step rather than recomputed at each one
    # (81 checks each time): fixing a check leaves the weights as they are and takes its field's
    # contributions out of the badness sum.
    weight_sum = badness_sum = 0
    by_field: dict[str, int] = {}
    for c in checks:
        if c.badness is None or canonical_check(c.json_field) in excluded:
            continue
        contribution = _contribution(c)
        by_field[c.json_field] = by_field.get(c.json_field, 0) + contribution
        badness_sum += contribution
        weight_sum += c.weight
    fixed: set[str] = set()
    chosen: list[tuple[CheckResult, int]] = []
    current = ceil_div(badness_sum * 100, weight_sum) if weight_sum else 0
    for check in candidates:
        if current <= target:
            break
        if check.json_field not in fixed:
            fixed.add(check.json_field)
            badness_sum -= by_field.get(check.json_field, 0)
            current = ceil_div(badness_sum * 100, weight_sum) if weight_sum else 0
        chosen.append((check, current))
    return chosen


def saved(check: CheckResult, checks: Sequence[CheckResult], excluded: frozenset[str]) -> str:
    """What fixing one check alone is worth, in exposure points (nearest tenth; "<0.1" when less)."""
    tenth = round(_contribution(check) * 100 / max(_weight_sum(checks, excluded), 1))
    return f"-{tenths(tenth)}" if tenth else "-<0.1"


def exposure_advice(steps: Sequence[tuple[CheckResult, int]], describe: Callable[[CheckResult], str]) -> str:
    """The few changes (from savings()) that bring a unit under its maximum, with what each saves."""
    shown = steps[:MAX_SUGGESTIONS]
    if not shown:
        return "run `unitgate explain` to see every check"
    items = ", ".join(describe(c) for c, _ in shown)
    reached = tenths(shown[-1][1])
    if len(steps) <= MAX_SUGGESTIONS:
        return f"{items} would bring it to {reached}"
    return (
        f"start with {items}, bringing it to {reached}; "
        f"{len(steps) - len(shown)} more changes are needed (`unitgate explain` lists every check)"
    )


def unit_exposure(analysis: UnitAnalysis, policy: UnitPolicy) -> int | None:
    if analysis.exposure is None:
        return None
    if not policy.exclude_checks:
        return analysis.exposure
    return score(analysis.checks, policy.exclude_checks)


# The capabilities of each CapabilityBoundingSet= row, as the check table lists them.
_ROW_CAPS: Mapping[str, tuple[str, ...]] = {
    c.json_field: c.parameter
    for c in CHECKS
    if c.json_field.startswith("CapabilityBoundingSet_") and isinstance(c.parameter, tuple)
}
_FIXES: Mapping[str, str] = {
    "UserOrDynamicUser": "DynamicUser=yes",
    "SupplementaryGroups": "SupplementaryGroups=",
    "ProtectHome": "ProtectHome=yes",
    "ProtectSystem": "ProtectSystem=strict",
    "RootDirectoryOrRootImage": "RootDirectory=/RootImage=",
    "UMask": "UMask=0077",
    "KeyringMode": "KeyringMode=private",
    "ProtectProc": "ProtectProc=invisible",
    "ProcSubset": "ProcSubset=pid",
    "NotifyAccess": "NotifyAccess=main",
    "Delegate": "Delegate=no",
    "RestrictAddressFamilies_AF_INET_INET6": "RestrictAddressFamilies=~AF_INET AF_INET6",
    "RestrictAddressFamilies_AF_UNIX": "RestrictAddressFamilies=~AF_UNIX",
    "RestrictAddressFamilies_AF_NETLINK": "RestrictAddressFamilies=~AF_NETLINK",
    "RestrictAddressFamilies_AF_PACKET": "RestrictAddressFamilies=~AF_PACKET",
    "RestrictAddressFamilies_OTHER": "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures": "SystemCallArchitectures=native",
    "IPAddressDeny": "IPAddressDeny=any",
    "DeviceAllow": "DevicePolicy=closed",
    "AmbientCapabilities": "AmbientCapabilities=",
}


def unit_check_fix(check: CheckResult) -> str:
    """The line to write that makes one systemd-analyze check good."""
    field_ = check.json_field
    if field_ in _FIXES:
        return _FIXES[field_]
    if field_ in _ROW_CAPS:
        return f"CapabilityBoundingSet=~{' '.join(_ROW_CAPS[field_])}"
    if field_.startswith("SystemCallFilter_"):
        return f"SystemCallFilter=~@{field_.removeprefix('SystemCallFilter_').replace('_', '-')}"
    if field_.startswith("RestrictNamespaces_"):
        return f"RestrictNamespaces=~{field_.removeprefix('RestrictNamespaces_')}"
    return f"{check.name.rstrip('=')}=yes"
