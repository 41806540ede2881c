"""unitgate against systemd-analyze on random units with random drop-ins.

UNITGATE_DIFF_CASES (default 200) cases from seed UNITGATE_DIFF_SEED (default fixed). Every case must
agree on: loaded vs refused, the overall exposure and rating, and each check's badness, exposure,
description, ✓/✗ mark, weight and range, and the row order. Skipped where systemd-analyze is absent.
For thousands of cases with a summary, use `python -m tests.differential.run`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .generator import generate
from .harness import run_cases, systemd_analyze

pytestmark = pytest.mark.oracle

if systemd_analyze() is None:
    pytest.skip("systemd-analyze is not installed", allow_module_level=True)

CASES = int(os.environ.get("UNITGATE_DIFF_CASES", "200"))
SEED = int(os.environ.get("UNITGATE_DIFF_SEED", "252"))
SHOWN = 3  # full reports in the failure message; every failing case number is listed


def test_random_units_agree_with_systemd_analyze(tmp_path: Path) -> None:
    outcomes = list(run_cases((generate(SEED, i) for i in range(CASES)), tmp_path))
    assert len(outcomes) == CASES
    bad = [o for o in outcomes if not o.agree]
    if bad:
        reports = "\n\n".join(o.report() for o in bad[:SHOWN])
        pytest.fail(
            f"{len(bad)} of {CASES} cases disagree with systemd-analyze (seed {SEED}, cases "
            f"{[o.case.index for o in bad]}); the first {min(SHOWN, len(bad))}:\n\n{reports}",
            pytrace=False,
        )
    # Most cases must load, or the comparison would be mostly about refusals.
    refused = sum(not o.systemd.loaded for o in outcomes)
    assert refused <= CASES // 5, f"{refused} of {CASES} cases were refused by systemd-analyze"
