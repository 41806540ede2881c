"""The `quadlet-1` container exposure model.

Same arithmetic as `systemd-analyze security` (integer tenths):
    exposure = ceil(100 · Σ ceil(badness·weight/range) / Σ weight)
and the same rating words.  Rows are data: changing a weight, a range or a badness rule is a new
model version (`quadlet-2`), so a policy pinned to `quadlet-1` keeps its verdicts.

Rule 0: when the container *is* root on the host (rootful, no user namespace, and either
`--privileged`, a runtime socket, or `/`, `/etc`, ... mounted read-write for root), no other row
isolates anything, so every row scores its full range ("voided by ...") and the total is 10.0.
"""

from __future__ import annotations

from dataclasses import dataclass

from unitgate.analysis import CheckResult
from unitgate.quadlet.posture import ContainerPosture, HostEquivalence, host_equivalence
from unitgate.quadlet.score_rules import Check, Verdict
from unitgate.quadlet.score_table1 import CAP_GROUPS, CHECKS
from unitgate.quadlet.score_table2 import (
    BREAKOUT_ROW,
    BREAKOUTS,
    CHECKS_2,
    HOST_ROOT_PATHS,
    Breakout,
    Found,
    breakout,
)

# The rows and their rules live in score_rules, score_table1 (quadlet-1) and score_table2 (quadlet-2's
# breakout paths); their public names stay importable from here (the engine and the gate use them).
__all__ = [
    "BREAKOUTS",
    "BREAKOUT_ROW",
    "CAP_GROUPS",
    "CHECKS",
    "CHECKS_2",
    "HOST_ROOT_PATHS",
    "MODEL",
    "MODELS",
    "MODEL_2",
    "RATINGS",
    "Breakout",
    "Check",
    "Found",
    "Score",
    "Verdict",
    "breakout",
    "rating",
    "rescore",
    "score",
    "score_2",
    "score_model",
]


MODEL = "quadlet-1"


RATINGS: tuple[tuple[int, str], ...] = (
    (100, "DANGEROUS"),
    (90, "UNSAFE"),
    (75, "EXPOSED"),
    (50, "MEDIUM"),
    (10, "OK"),
    (1, "SAFE"),
    (0, "PERFECT"),
)


def rating(exposure: int) -> str:
    return next(name for floor, name in RATINGS if exposure >= floor)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Score:
    exposure: int  # tenths
    rating: str
    checks: tuple[CheckResult, ...]
    host_equivalent: HostEquivalence | None


def score(posture: ContainerPosture, checks: tuple[Check, ...] = CHECKS) -> Score:
    """Assess every row and aggregate as systemd-analyze does."""
    void = host_equivalence(posture)
    verdicts: list[Verdict] = []
    for c in checks:
        b, desc, loc = c.assess(posture)
        if void is not None and b < c.range:
            b, desc, loc = c.range, f"Voided: {void.reason}", void.location
        verdicts.append((b, desc, loc))
    wsum = sum(c.weight for c in checks)
    bsum = sum(_ceil_div(b * c.weight, c.range) for c, (b, _, _) in zip(checks, verdicts, strict=True))
    exposure = _ceil_div(bsum * 100, wsum)
    results = tuple(
        CheckResult(
            name=c.name,
            json_field=c.json_field,
            weight=c.weight,
            range=c.range,
            badness=b,
            exposure=None if b == 0 else _ceil_div(_ceil_div(b * c.weight * 100, c.range), wsum),
            description=desc,
            directives=c.directives,
            source=loc,
        )
        for c, (b, desc, loc) in zip(checks, verdicts, strict=True)
    )
    return Score(exposure, rating(exposure), results, void)


# quadlet-2: quadlet-1's average raised to the floor of the worst open breakout path (score_table2.py).
MODEL_2 = "quadlet-2"
MODELS = (MODEL, MODEL_2)


def score_2(posture: ContainerPosture) -> Score:
    """quadlet-2: quadlet-1's average, raised to the floor of the worst open breakout path."""
    base = score(posture, CHECKS)
    floor, why, loc, _ = breakout(posture)
    row = CheckResult(
        name=BREAKOUT_ROW.name,
        json_field=BREAKOUT_ROW.json_field,
        weight=0,
        range=10,
        badness=_ceil_div(floor, 10),
        exposure=floor or None,
        description=why,
        directives=BREAKOUT_ROW.directives,
        source=loc,
    )
    exposure = max(base.exposure, floor)
    return Score(exposure, rating(exposure), (*base.checks, row), base.host_equivalent)


def score_model(posture: ContainerPosture, model: str = MODEL) -> Score:
    """Score with a named model (`quadlet-1`, the default, or `quadlet-2`)."""
    if model == MODEL:
        return score(posture)
    if model == MODEL_2:
        return score_2(posture)
    raise ValueError(f"unknown container model {model!r} (known: {', '.join(MODELS)})")


def rescore(
    checks: tuple[CheckResult, ...] | list[CheckResult], exclude: frozenset[str] = frozenset()
) -> int:
    """The exposure of already assessed rows without the excluded json_fields (the gate's
    `exclude-checks`), for either model: the weighted average, raised to a breakout floor if kept."""
    kept = [c for c in checks if c.json_field not in exclude]
    wsum = sum(c.weight for c in kept)
    bsum = sum(_ceil_div((c.badness or 0) * c.weight, c.range) for c in kept)
    average = _ceil_div(bsum * 100, wsum) if wsum else 0
    floors = [c.exposure or 0 for c in kept if c.weight == 0]
    return max([average, *floors])
