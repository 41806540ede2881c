"""Fidelity on real units: 1,683 Debian services against what each systemd release recorded.

The corpus lives outside the repository (../shared/corpus beside the checkout, or $UNITGATE_CORPUS);
the test skips where it is absent. Values are compared exactly: overall exposure, and every check's
badness and per-check exposure, for every scoring model (expected.jsonl is 252's; the newer
releases' files were recorded on a merged-/usr view). The lines systemd-analyze warned about must be
the lines unitgate reports a diagnostic for.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from unitgate.engine import analyze_paths
from unitgate.explain import unit_json

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("UNITGATE_CORPUS", REPO.parent / "shared/corpus/debian-bookworm"))
NA = 2**64 - 1
UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system")

EXPECTED = {
    "systemd-252": "expected.jsonl",
    "systemd-255": "expected-systemd255.jsonl",
    "systemd-257": "expected-systemd257.jsonl",
    "systemd-262": "expected-systemd262.jsonl",
}
AT_LINE = re.compile(r"^(\S+?):(\d+): ")

pytestmark = pytest.mark.skipif(not (CORPUS / "expected.jsonl").is_file(), reason="shared corpus not present")


def _records(name: str) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
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


def _warned_lines(path: Path, rec: dict[str, Any], got: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(systemd's, unitgate's) warned-about lines as root-relative "file:line" (usr/ as recorded)."""
    root = CORPUS / "units" / rec["root"]
    theirs = set()
    for m in map(AT_LINE.match, (rec.get("warnings") or "").splitlines()):
        if m:  # the merged-/usr view shows lib/ files under usr/lib/
            f = m[1] if (root / m[1]).exists() or not m[1].startswith("usr/lib/") else m[1][4:]
            theirs.add(f"{f}:{m[2]}")
    ours = {
        f"{Path(d['file']).resolve().relative_to(root.resolve())}:{d['line']}" for d in got["diagnostics"]
    }
    return theirs, ours


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_every_corpus_unit_matches_systemd_analyze(model: str) -> None:
    if not (CORPUS / EXPECTED[model]).is_file():
        pytest.skip(f"no recording for {model}")
    records = _records(EXPECTED[model])
    assert len(records) == 1683
    results = {r.path: unit_json(r) for r in analyze_paths([str(p) for p, _ in records], model)}
    mismatches = []
    for path, rec in records:
        got = results[str(path)]
        theirs_warned, ours_warned = _warned_lines(path, rec, got)
        if theirs_warned != ours_warned:
            mismatches.append(f"{rec['root']}/{rec['unit']}: warnings {theirs_warned} vs {ours_warned}")
        mine = {c["name"]: (c["badness"], _fmt(c["exposure"])) for c in got["checks"]}
        theirs = {c["name"]: (_na(c["badness"]), _fmt(c["exposure"])) for c in rec["checks"]}
        if _fmt(got["exposure"]) != _fmt(rec["exposure"]) or mine != theirs:
            bad = sorted(n for n in theirs if mine.get(n) != theirs[n])
            mismatches.append(
                f"{rec['root']}/{rec['unit']}: {got['exposure']} vs {rec['exposure']} {bad[:3]}"
            )
    assert not mismatches, "\n".join(mismatches[:20])
