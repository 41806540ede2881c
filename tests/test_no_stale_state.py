"""The Python API sees the tree as it is now: a drop-in added between two analyses in one process
counts in the second (directory listings are cached for one run only)."""

from __future__ import annotations

from pathlib import Path

from unitgate.engine import analyze_paths


def test_a_dropin_added_between_runs_is_seen(tmp_path: Path) -> None:
    unit = tmp_path / "app.service"
    unit.write_text("[Service]\nExecStart=/x\n")
    (first,) = analyze_paths([str(unit)])
    dropin = tmp_path / "app.service.d" / "10-harden.conf"
    dropin.parent.mkdir()
    dropin.write_text("[Service]\nPrivateTmp=yes\nNoNewPrivileges=yes\n")
    (second,) = analyze_paths([str(unit)])
    assert len(second.sources) == len(first.sources) + 1
    assert second.exposure is not None and first.exposure is not None
    assert second.exposure < first.exposure
