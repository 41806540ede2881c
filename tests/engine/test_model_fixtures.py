"""Each scoring model against its own release's systemd-analyze, on units that exercise what changed.

fixtures/systemd-models/cases holds small roots whose units differ between releases (PrivateTmp= and
friends' modes, load refusals, capability and address-family parsing, syscall groups, credentials'
TPM device, the template instance name, merged /usr, rows without a description). Each release's
answers were recorded with that release's binary, never typed by hand:

    SYSTEMD_ANALYZE=PATH python3 ../shared/tools/oracle.py fixtures/systemd-models/cases \
        fixtures/systemd-models/expected-systemdNNN.jsonl

    SYSTEMD_ANALYZE=PATH python3 tools/record_fixtures.py fixtures/systemd-models/cases \
        fixtures/systemd-models/expected-extra-systemdNNN.jsonl     # the --user units

(252: the host's systemd-analyze; the others: tools/get-systemd-analyze.sh). No systemd is needed here.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from unitgate.engine import analyze_paths
from unitgate.explain import unit_json
from unitgate.parse import dropins
from unitgate.security.releases import MODELS

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "systemd-models"
CASES = FIX / "cases"
NA = 2**64 - 1


def _records(model: str) -> list[dict[str, Any]]:
    out = []
    for kind in (
        "expected",
        "expected-extra",
    ):  # services (oracle.py), then --user units (record_fixtures.py)
        path = FIX / f"{kind}-{model.replace('-', '')}.jsonl"
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


PARAMS = [pytest.param(m, rec, id=f"{m}:{rec['root']}/{rec['unit']}") for m in MODELS for rec in _records(m)]


def _unit_path(rec: dict[str, Any]) -> Path:
    if rec.get("path"):
        return CASES / rec["root"] / rec["path"]
    for d in dropins.SYSTEM_UNIT_PATH:  # lib/ before usr/lib/: the oracle's merged view keeps lib/'s copy
        p = CASES / rec["root"] / d / rec["unit"]
        if os.path.lexists(p):
            return p
    raise AssertionError(f"no file for {rec['root']}/{rec['unit']}")


def _tenths(x: float | str | None) -> str | None:
    return None if x is None else f"{float(x):.1f}"


@pytest.mark.parametrize(("model", "rec"), PARAMS)
def test_model_matches_its_release(model: str, rec: dict[str, Any]) -> None:
    (result,) = analyze_paths([str(_unit_path(rec))], model)
    ours = unit_json(result)
    assert ours["model"] == model
    messages = "\n".join(d["message"] for d in ours["diagnostics"])
    if rec["error"]:
        refusal = rec["error"].splitlines()[-1]
        assert ours["state"] != "loaded", f"systemd refused ({refusal}); unitgate loaded"
        return
    assert ours["state"] == "loaded", f"systemd loaded it; unitgate: {ours['state']}\n{messages}"
    assert ours["unit"] == rec["analyzed_as"]
    assert (_tenths(ours["exposure"]), ours["rating"]) == (_tenths(rec["exposure"]), rec["rating"])
    want = [_row(c, None if c["badness"] == NA else c["badness"]) for c in rec["checks"]]
    assert [_row(c, c["badness"]) for c in ours["checks"]] == want
    # The same lines warned about (systemd's stderr as recorded, unitgate's diagnostics).
    root = (CASES / rec["root"]).resolve()
    theirs = {m[1] for m in map(AT_LINE.match, (rec.get("warnings") or "").splitlines()) if m}
    mine = {f"{Path(d['file']).resolve().relative_to(root)}:{d['line']}" for d in ours["diagnostics"]}
    assert {_unmerged(root, w) for w in theirs} == mine


AT_LINE = re.compile(r"^(?:/\S+/)?(\S+?:\d+): ")


def _unmerged(root: Path, where: str) -> str:
    """The oracle's merged-/usr view shows lib/ files as usr/lib/: map back to the case's file."""
    path, _, line = where.rpartition(":")
    if path.startswith("usr/lib/") and not (root / path).exists():
        path = path[4:]
    return f"{path}:{line}"


def _row(c: dict[str, Any], badness: int | None) -> tuple[object, ...]:
    return (c["name"], badness, _tenths(c["exposure"]), c["description"], c["set"])


def test_the_releases_disagree_on_these_fixtures() -> None:
    """The fixtures are worth having only if the releases answer them differently."""
    answers = {
        m: {(r["root"], r["unit"]): (r["exposure"], bool(r["error"])) for r in _records(m)} for m in MODELS
    }
    for older, newer in itertools.pairwise(MODELS):
        assert answers[older] != answers[newer], f"{older} and {newer} agree on every fixture"
