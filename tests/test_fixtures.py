"""unitgate against systemd-analyze 252.38 on small one-rule fixture units (fixtures/systemd/cases).

Each case is a tiny filesystem root; the unit files say which rule they pin (`# pins:` line, or the
case's README).  The expectations were recorded from the real `systemd-analyze security
--offline=true` and are never edited by hand:

    python3 ../shared/tools/oracle.py fixtures/systemd/cases fixtures/systemd/expected.jsonl
    python3 tools/record_fixtures.py      # other unit types, symlinks, instances, --user units

No systemd is needed to run these tests.  Known disagreements are listed in KNOWN_MISMATCHES and
marked xfail(strict=True), so a fix shows up as an XPASS failure and the entry must then be removed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from unitgate.analysis import UnitAnalysis
from unitgate.engine import Target, analyze_paths, load_unit
from unitgate.explain import unit_json
from unitgate.parse import dropins

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures" / "systemd"
CASES = FIX / "cases"
RECORDS: list[dict[str, Any]] = [
    json.loads(line)
    for name in ("expected.jsonl", "expected-extra.jsonl")
    for line in (FIX / name).read_text().splitlines()
    if line.strip()
]
NA = 2**64 - 1  # systemd's badness for "not applicable" (UINT64_MAX); unitgate uses None

# "case/unit" -> what unitgate gets wrong (systemd's recorded answer is right by definition).
_SYMLINK_OUT = (
    "deliberate: systemd 252 --root resolves an absolute unit symlink that leaves the unit dirs on the "
    "HOST (/opt/units/t.service is not found); unitgate resolves it inside the repository's root, "
    "because only files in the repository may decide a verdict"
)
_SLICE_CGROUP = "DevicePolicy=/DeviceAllow=/IPAddressDeny=/IPAddressAllow= in [Slice] are ignored by unitgate"
KNOWN_MISMATCHES: dict[str, str] = {
    "unit-symlink-file/t.service": _SYMLINK_OUT,
}
# Same, for the finer load-state comparison (bad-setting vs error vs masked vs not-found).
KNOWN_STATE_MISMATCHES: dict[str, str] = {
    "unit-symlink-file/t.service": _SYMLINK_OUT,
}


def rid(rec: dict[str, Any]) -> str:
    return f"{rec['root']}/{rec['unit']}"


def params(known: dict[str, str]) -> list[Any]:
    return [
        pytest.param(r, id=rid(r), marks=pytest.mark.xfail(strict=True, reason=known[rid(r)]))
        if rid(r) in known
        else pytest.param(r, id=rid(r))
        for r in RECORDS
    ]


def unit_path(rec: dict[str, Any]) -> Path:
    """The file handed to unitgate: the record's own, else the first entry of that name in the root."""
    case = CASES / rec["root"]
    if rec.get("path"):
        return case / rec["path"]
    for d in dropins.SYSTEM_UNIT_PATH:
        p = case / d / rec["unit"]
        if os.path.lexists(p):
            return p
    raise AssertionError(f"{rid(rec)}: no file for this unit in the case")


def analyse(rec: dict[str, Any]) -> dict[str, Any]:
    """unitgate's explain JSON for the unit systemd analysed."""
    path = unit_path(rec)
    want = rec.get("analyzed_as") or dropins.analysed_name(rec["unit"])
    results = analyze_paths([str(path)])
    match = [r for r in results if r.unit == want]
    chosen: UnitAnalysis
    if match:
        chosen = match[0]
    elif path.name != rec["unit"] and "@" in rec["unit"] and not path.name.endswith(".conf"):
        # An instance with no file of its own, given next to its template: load it by name.
        chosen = load_unit(Target(dropins.search_path_for(str(path.parent)), want, str(path)))
    elif len(results) == 1 and rec["error"]:
        chosen = results[0]
    else:
        raise AssertionError(f"{rid(rec)}: unitgate analysed {[r.unit for r in results]}, systemd {want}")
    return unit_json(chosen)


def tenths(x: float | str | None) -> str | None:
    return None if x is None else f"{float(x):.1f}"


def diagnostics(ours: dict[str, Any]) -> str:
    return "\n".join(
        f"  {d['file']}:{d['line']}: {d['severity']}: {d['message']}" for d in ours["diagnostics"]
    )


@pytest.mark.parametrize("rec", params(KNOWN_MISMATCHES))
def test_matches_systemd(rec: dict[str, Any]) -> None:
    ours = analyse(rec)
    name = rid(rec)
    if rec["error"]:
        last = rec["error"].strip().splitlines()[-1]
        assert ours["state"] != "loaded", (
            f"{name}: systemd refused the unit ({last!r}) but unitgate loaded it "
            f"({ours['exposure']} {ours['rating']})\n{diagnostics(ours)}"
        )
        if last.endswith("is masked."):
            assert ours["state"] == "masked", f"{name}: systemd says masked, unitgate says {ours['state']}"
        return
    assert ours["state"] == "loaded", (
        f"{name}: systemd analysed it ({rec['exposure']} {rec['rating']}) but unitgate says "
        f"{ours['state']}\n{diagnostics(ours)}"
    )
    problems: list[str] = []
    if ours["unit"] != rec["analyzed_as"]:
        problems.append(f"unit name: systemd {rec['analyzed_as']}, unitgate {ours['unit']}")
    if (tenths(ours["exposure"]), ours["rating"]) != (tenths(rec["exposure"]), rec["rating"]):
        problems.append(
            f"overall: systemd {tenths(rec['exposure'])} {rec['rating']}, "
            f"unitgate {tenths(ours['exposure'])} {ours['rating']}"
        )
    theirs = {c["name"]: c for c in rec["checks"]}
    mine = {c["name"]: c for c in ours["checks"]}
    if set(theirs) != set(mine):
        problems.append(
            f"check names: only systemd {set(theirs) - set(mine)}, only unitgate {set(mine) - set(theirs)}"
        )
    elif list(theirs) != list(mine):
        problems.append("row order differs from systemd's (text and JSON tables)")
    for cname in sorted(set(theirs) & set(mine)):
        t, m = theirs[cname], mine[cname]
        want = {
            "badness": None if t["badness"] == NA else t["badness"],
            "exposure": tenths(t["exposure"]),
            "description": t["description"],
            "weight": t["weight"],
            "range": t["range"],
            "set": t["set"],
        }
        got = {**{k: m[k] for k in want}, "exposure": tenths(m["exposure"])}
        problems += [
            f"{cname} {k}: systemd {want[k]!r}, unitgate {got[k]!r}" for k in want if want[k] != got[k]
        ]
    assert not problems, f"{name} ({unit_path(rec).relative_to(CASES)}):\n  " + "\n  ".join(problems)


STATE_OF_ERROR = (
    ("is masked.", "masked"),
    ("not found.", "not-found"),
    ("has a bad unit file setting.", "bad-setting"),
    ("failed to load properly", "error"),
)


@pytest.mark.parametrize("rec", [p for p in params(KNOWN_STATE_MISMATCHES) if p.values[0]["error"]])
def test_load_state_kind(rec: dict[str, Any]) -> None:
    """For refused units: the same kind of refusal (systemd's last stderr line says which)."""
    last = rec["error"].strip().splitlines()[-1]
    want = next((state for text, state in STATE_OF_ERROR if text in last), None)
    if want is None:
        pytest.skip(f"no load state in {last!r}")
    ours = analyse(rec)
    assert ours["state"] == want, (
        f"{rid(rec)}: systemd {want} ({last!r}), unitgate {ours['state']}\n" + diagnostics(ours)
    )


def test_every_case_has_a_recorded_unit() -> None:
    recorded = {r["root"] for r in RECORDS}
    cases = {p.name for p in CASES.iterdir() if p.is_dir()}
    assert cases - recorded == set(), "cases with no recorded unit (re-run the recorders)"
    assert recorded - cases == set(), "records for cases that no longer exist"


def test_every_case_says_what_it_pins() -> None:
    missing = [p.name for p in CASES.iterdir() if p.is_dir() and not (p / "README").is_file()]
    assert missing == []
