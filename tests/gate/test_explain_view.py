"""`unitgate explain` for people: fits the terminal, `--failing`, `--sort exposure`; JSON unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import FIXTURES, Run

EXAMPLE = FIXTURES / "example"
UNIT = "units/web.service.d/override.conf"


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def _table(run: Run) -> list[str]:
    return run.out.split("\n\n")[0].splitlines()


def test_fits_columns(run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    wide = run_cli("explain", UNIT, cwd=EXAMPLE)
    assert max(len(line) for line in _table(wide)) > 120  # piped, no COLUMNS: full-width rows
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_cli("explain", UNIT, cwd=EXAMPLE)
    assert narrow.code == 0
    table = _table(narrow)
    assert max(len(line) for line in table) <= 80
    assert table[0] == "   NAME                        DESCRIPTION           EXPOSURE  DECIDED BY"
    # A wrapped description continues under its column; a long path keeps its file name and line.
    assert "✗  ProtectSystem=              Service has full           0.2  …/override.conf:4" in table
    assert "                               access to the OS" in table
    assert narrow.out.endswith(wide.out.split("\n\n", 1)[1])  # the summary lines are the same
    assert run_cli("explain", "--width", "100", UNIT, cwd=EXAMPLE).out != narrow.out


def test_failing_rows_sorted_by_exposure(run_cli: Callable[..., Run]) -> None:
    everything = _table(run_cli("explain", UNIT, cwd=EXAMPLE))
    failing = _table(run_cli("explain", "--failing", UNIT, cwd=EXAMPLE))
    assert failing[0] == everything[0]
    assert failing[1:] == [line for line in everything[1:] if line.startswith("✗")]
    by_cost = _table(run_cli("explain", "--failing", "--sort", "exposure", UNIT, cwd=EXAMPLE))
    assert sorted(by_cost[1:]) == sorted(failing[1:])
    assert by_cost[1].startswith("✗  PrivateNetwork=")
    exposures = [float(line.split()[-2]) for line in by_cost[1:] if line.split()[-2][0].isdigit()]
    assert exposures == sorted(exposures, reverse=True)


def test_json_is_unchanged(run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    plain = run_cli("explain", "--format", "json", UNIT, cwd=EXAMPLE).out
    monkeypatch.setenv("COLUMNS", "60")
    flags = run_cli("explain", "--format", "json", "--failing", "--sort", "exposure", UNIT, cwd=EXAMPLE).out
    assert flags == plain
