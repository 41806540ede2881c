"""Fidelity on real units: 1,683 Debian services against what systemd-analyze 252 recorded.

The corpus lives outside the repository (../shared/corpus beside the checkout, or $UNITGATE_CORPUS);
the test skips where it is absent. Values are compared exactly: overall exposure, and every check's
badness and per-check exposure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from unitgate.engine import analyze_paths
from unitgate.explain import unit_json

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("UNITGATE_CORPUS", REPO.parent / "shared/corpus/debian-bookworm"))
NA = 2**64 - 1
UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system")

pytestmark = pytest.mark.skipif(not (CORPUS / "expected.jsonl").is_file(), reason="shared corpus not present")


def _records() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for line in (CORPUS / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for d in UNIT_DIRS:
            path = CORPUS / "units" / rec["root"] / d / rec["unit"]
            if path.is_file():
                out.append((path, rec))
                break
    return out


def _fmt(value: float | str | None) -> str | None:
    return None if value is None else f"{float(value):.1f}"


def _na(badness: int) -> int | None:
    return None if badness == NA else badness  # systemd prints "not applicable" as UINT64_MAX


def test_every_corpus_unit_matches_systemd_analyze() -> None:
    records = _records()
    assert len(records) == 1683
    results = {r.path: unit_json(r) for r in analyze_paths([str(p) for p, _ in records])}
    mismatches = []
    for path, rec in records:
        got = results[str(path)]
        mine = {c["name"]: (c["badness"], _fmt(c["exposure"])) for c in got["checks"]}
        theirs = {c["name"]: (_na(c["badness"]), _fmt(c["exposure"])) for c in rec["checks"]}
        if _fmt(got["exposure"]) != _fmt(rec["exposure"]) or mine != theirs:
            bad = sorted(n for n in theirs if mine.get(n) != theirs[n])
            mismatches.append(
                f"{rec['root']}/{rec['unit']}: {got['exposure']} vs {rec['exposure']} {bad[:3]}"
            )
    assert not mismatches, "\n".join(mismatches[:20])
