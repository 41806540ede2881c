"""The Python API sees the tree as it is now: a drop-in added between two analyses in one process
counts in the second (directory listings are cached for one run only)."""

from __future__ import annotations

import shutil
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


def test_a_dropin_edited_between_runs_is_seen(tmp_path: Path) -> None:
    """Drop-ins shared by many units are read once per run, not once per process."""
    system = tmp_path / "etc" / "systemd" / "system"
    system.mkdir(parents=True)
    (system / "a.service").write_text("[Service]\nExecStart=/x\n")
    (system / "b.service").write_text("[Service]\nExecStart=/x\n")
    shared = system / "service.d" / "10-harden.conf"
    shared.parent.mkdir()
    shared.write_text("[Service]\nPrivateTmp=yes\n")
    first = analyze_paths([str(system / "a.service"), str(system / "b.service")])
    shared.write_text("[Service]\nPrivateTmp=yes\nNoNewPrivileges=yes\nProtectSystem=strict\n")
    second = analyze_paths([str(system / "a.service"), str(system / "b.service")])
    for before, after in zip(first, second, strict=True):
        assert before.exposure is not None and after.exposure is not None
        assert after.exposure < before.exposure


def test_a_directory_swapped_for_a_link_out_between_runs_is_refused(tmp_path: Path) -> None:
    """Resolved directories are remembered for one run only: a directory replaced by a symlink out of
    the repository before the next run is refused there, never followed."""
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    system = repo / "etc" / "systemd" / "system"
    system.mkdir(parents=True)
    (system / "app.service").write_text("[Service]\nExecStart=/x\n")
    (outside / "systemd" / "system").mkdir(parents=True)
    (outside / "systemd" / "system" / "app.service").write_text("[Service]\nExecStart=/x\nPrivateTmp=yes\n")
    (first,) = analyze_paths([str(system / "app.service")])
    assert first.exposure is not None
    shutil.rmtree(repo / "etc")
    (repo / "etc").symlink_to(outside)
    (second,) = analyze_paths([str(system / "app.service")])
    assert second.exposure is None
    assert "UG-INPUT-OUTSIDE-REPOSITORY" in {d.code for d in second.diagnostics}
