"""savings() keeps its score up to date step by step: the same steps as re-scoring at every step."""

from __future__ import annotations

import glob
import os

import pytest

from unitgate.engine import analyze_paths
from unitgate.gate.exposure import savings, score
from unitgate.policy import canonical_check

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "systemd")
UNITS = sorted(glob.glob(os.path.join(FIXTURES, "**", "*.service"), recursive=True))[:120]


@pytest.mark.skipif(not UNITS, reason="no fixture units")
def test_same_scores_as_rescoring() -> None:
    compared = 0
    for analysis in analyze_paths(UNITS):
        if analysis.exposure is None:
            continue
        checks = list(analysis.checks)
        for excluded in (frozenset(), frozenset({canonical_check("PrivateNetwork")})):
            for target in (0, 20, 50, 90):
                ours = savings(checks, excluded, target)
                # The order of candidates is savings()'s own; the scores along it must be the definition's.
                fixed: frozenset[str] = frozenset()
                for check, reached in ours:
                    fixed |= {check.json_field}
                    assert reached == score(checks, excluded, fixed), (analysis.unit, check.json_field)
                # It stops at the first step that reaches the target, and only there.
                assert all(reached > target for _, reached in ours[:-1])
                if not ours:
                    assert score(checks, excluded) <= target
                compared += 1
    assert compared > 100
