"""unitgate against systemd-analyze on random units with random drop-ins.

One run per scoring model, against that release's binary: systemd-252 uses $SYSTEMD_ANALYZE or the host's
systemd-analyze; systemd-255/257/262 use $UNITGATE_SYSTEMD_255/_257/_262 (built with
../shared/tools/get-systemd-analyze.sh); a model whose binary is absent is skipped.
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
from .harness import ANALYZER_ENV, run_cases, systemd_analyze

pytestmark = pytest.mark.oracle

CASES = int(os.environ.get("UNITGATE_DIFF_CASES", "200"))
SEED = int(os.environ.get("UNITGATE_DIFF_SEED", "252"))
SHOWN = 3  # full reports in the failure message; every failing case number is listed


@pytest.mark.parametrize("model", sorted(ANALYZER_ENV))
def test_random_units_agree_with_systemd_analyze(tmp_path: Path, model: str) -> None:
    if systemd_analyze(model) is None:
        pytest.skip(f"no systemd-analyze for {model} (set ${ANALYZER_ENV[model]})")
    outcomes = list(run_cases((generate(SEED, i) for i in range(CASES)), tmp_path, model=model))
    assert len(outcomes) == CASES
    bad = [o for o in outcomes if not o.agree]
    if bad:
        reports = "\n\n".join(o.report() for o in bad[:SHOWN])
        pytest.fail(
            f"{model}: {len(bad)} of {CASES} cases disagree with systemd-analyze (seed {SEED}, cases "
            f"{[o.case.index for o in bad]}); the first {min(SHOWN, len(bad))}:\n\n{reports}",
            pytrace=False,
        )
    # Most cases must load, or the comparison would be mostly about refusals.
    refused = sum(not o.systemd.loaded for o in outcomes)
    assert refused <= CASES // 5, f"{refused} of {CASES} cases were refused by systemd-analyze"
