"""Container exposure: the container model's score under the policy, and the fixes that bring it down."""

from __future__ import annotations

from unitgate.analysis import CheckResult, UnitAnalysis
from unitgate.findings import Finding, tenths
from unitgate.gate.container_values import Container
from unitgate.gate.exposure import exposure_advice, saved, savings
from unitgate.policy import ContainerRules
from unitgate.quadlet.score import CAP_GROUPS, rescore

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

_FIXES: dict[str, str] = {
    "Privileged": "remove --privileged",
    "User": "User=<non-root uid>",
    "NoNewPrivileges": "NoNewPrivileges=true",
    "ReadOnly": "ReadOnly=true",
    "SeccompProfile": "no seccomp=unconfined",
    "SecurityLabel": "SecurityLabelDisable=false (no label=disable/nested, no unconfined SecurityLabelType=)",
    "AppArmor": "no apparmor=unconfined",
    "NetworkHost": "a Network= other than host",
    "HostNamespaces": "no --pid/--ipc/--uts/--cgroupns=host",
    "AddDevice": "no AddDevice=",
    "Unmask": "no Unmask=",
    "Volume": "no sensitive host path in Volume=/Mount=",
    "PublishPort": "PublishPort=127.0.0.1:…",
    "Sysctl": "no Sysctl=",
    "EnvironmentHost": "EnvironmentHost=false",
    "GroupAddKeepGroups": "no GroupAdd=keep-groups",
}


def check_fix(c: Container, check: CheckResult) -> str:
    """What to write (or remove) to make one quadlet-1 check good."""
    field_ = check.json_field
    if field_ == "UserNS":
        return "UserNS=keep-id" if c.posture.rootless.value else "UserNS=auto"
    if field_.startswith("DropCapability_"):
        group = next(caps for gid, _, _, caps in CAP_GROUPS if f"DropCapability_{gid}" == field_)
        kept = sorted(group & c.posture.effective_caps)
        if c.posture.privileged.value:
            return "remove --privileged"
        added = [cap for cap in kept if c.posture.cap_location(cap) is not None]
        if len(added) > 3:
            return f"no {' '.join(added[:3])} … in AddCapability="
        if added:
            return f"no {' '.join(added)} in AddCapability="
        return f"DropCapability={' '.join(kept)}" if kept else "DropCapability=all"
    return _FIXES.get(field_, f"fix {check.name}")


# quadlet-2's row that sets a floor under the exposure instead of taking a share of the average.
FLOOR_ROW = "BreakoutPath"


def exposure(analysis: UnitAnalysis, rules: ContainerRules) -> int | None:
    """The container model's exposure under the policy (after `[container] exclude-checks`),
    recomputed by the model's own rule, so quadlet-2 keeps its floor unless BreakoutPath is excluded."""
    if analysis.exposure is None or not rules.exclude_checks:
        return analysis.exposure
    return rescore(tuple(analysis.checks), rules.exclude_checks)


def _floor_row(checks: Sequence[CheckResult], excluded: frozenset[str]) -> CheckResult | None:
    """quadlet-2's breakout row, when it is kept and a path is open."""
    if FLOOR_ROW in excluded:
        return None
    return next((c for c in checks if c.json_field == FLOOR_ROW and c.exposure), None)


def exposure_findings(c: Container) -> list[Finding]:
    maximum = c.rules.max_exposure
    current = exposure(c.analysis, c.rules)
    if maximum is None or current is None or current <= maximum:
        return []
    checks, excluded = c.analysis.checks, c.rules.exclude_checks
    without = f" (without {', '.join(sorted(excluded))})" if excluded else ""
    head = f"container exposure {tenths(current)}{without} is above the maximum {tenths(maximum)}"
    void = c.inspection.score.host_equivalent if c.inspection.score else None
    if void is not None:
        where = f" at {void.location}" if void.location is not None and void.location.line else ""
        advice = (
            f"the container is root on the host ({void.reason}{where}), which voids every other check; "
            "remove that first"
        )
        return [_finding_exposure(c, f"{head}: {advice}")]
    floor = _floor_row(checks, excluded)
    if floor is not None and floor.exposure is not None and floor.exposure > maximum:
        where = f" at {floor.source}" if floor.source is not None and floor.source.line else ""
        what = (floor.description or "")[:1].lower() + (floor.description or "")[1:]
        advice = (
            f"a breakout path is open ({what}{where}), which keeps the {c.analysis.model} exposure at "
            f"{tenths(floor.exposure)} or more whatever else is hardened; close that path first"
        )
        return [_finding_exposure(c, f"{head}: {advice}")]
    excluded = excluded | {FLOOR_ROW}  # the average alone: what the savings below can bring down

    def weakened(check: CheckResult) -> bool:
        return check.source is not None and check.source.line > 0

    steps = savings(checks, excluded, maximum, weakened)
    advice = exposure_advice(steps, lambda check: f"{check_fix(c, check)} ({saved(check, checks, excluded)})")
    return [_finding_exposure(c, f"{head}: {advice}")]


def _finding_exposure(c: Container, message: str) -> Finding:
    return Finding("UG201", c.unit_header, f"{c.unit}: {message}", c.unit)
