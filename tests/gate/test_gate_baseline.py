# ruff: noqa: E501  (expected output lines are compared whole)
"""The baseline: `unitgate baseline` records today's findings; `check` then fails only on new ones."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, write_tree

LEGACY = "[Unit]\nDescription=legacy backup job\n\n[Service]\nExecStart=/usr/bin/backup\n"
WEB = "[Unit]\nDescription=web\n\n[Service]\nExecStart=/usr/bin/web\nNoNewPrivileges=yes\nProtectSystem=no\n"


def legacy_repo(repo: Path, run_cli: Callable[..., Run]) -> Run:
    write_tree(repo, {"units/backup.service": LEGACY, "units/web.service": WEB, "README": "not a unit\n"})
    return run_cli("baseline", cwd=repo)


def test_baseline_records_every_unit(repo: Path, run_cli: Callable[..., Run]) -> None:
    run = legacy_repo(repo, run_cli)
    assert run.code == 0
    assert run.out == (
        "Recorded 19 findings in 2 units to .unitgate-baseline.json. `unitgate check` now fails only on new "
        "findings and on exposures above the recorded ones.\n"
    )
    data = json.loads((repo / ".unitgate-baseline.json").read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert sorted(data["units"]) == ["units/backup.service", "units/web.service"]
    assert data["units"]["units/backup.service"]["exposure"] == 9.6
    assert {f["rule"] for f in data["units"]["units/web.service"]["findings"]} == {"UG101", "UG102", "UG201"}


def test_check_passes_on_baselined_findings_after_unrelated_edits(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    legacy_repo(repo, run_cli)
    # An unrelated edit that moves every line down: the fingerprints do not carry line numbers.
    moved = WEB.replace("Description=web\n", "Description=web server\nDocumentation=man:web(8)\n\n")
    write_tree(repo, {"units/web.service": moved})
    run = run_cli("check", "units/backup.service", "units/web.service", cwd=repo)
    assert run.code == 0, run.out
    assert run.out == (
        "All checks passed: 2 units from 2 files; policy: built-in default (baseline@2).\n"
        "Baseline: 5 baselined findings remain (.unitgate-baseline.json).\n"
    )


def test_check_fails_on_new_findings_only(repo: Path, run_cli: Callable[..., Run]) -> None:
    legacy_repo(repo, run_cli)
    write_tree(repo, {"units/web.service": WEB + "ProtectKernelTunables=no\n"})
    run = run_cli("check", "units/web.service", cwd=repo)
    assert run.code == 1
    assert run.out == (
        "units/web.service:8:1: UG102 web.service: ProtectKernelTunables=no is not accepted by the policy: write ProtectKernelTunables=yes\n"
        "\n"
        "Found 1 error in 1 unit from 1 file; policy: built-in default (baseline@2).\n"
        "Baseline: 3 baselined findings remain (.unitgate-baseline.json); web.service improved; "
        "`unitgate check --update-baseline` records it.\n"
    )


def test_exposure_above_the_recorded_one_fails(repo: Path, run_cli: Callable[..., Run]) -> None:
    legacy_repo(repo, run_cli)
    write_tree(repo, {"units/web.service": WEB + "NotifyAccess=all\nAmbientCapabilities=CAP_SYS_ADMIN\n"})
    run = run_cli("check", "units/web.service", cwd=repo)
    assert run.code == 1
    assert "UG201 web.service: exposure 9.7 is above the maximum 8.5: " in run.out
    assert "(the baseline records 9.4)" in run.out


def test_update_baseline_tightens_and_stale_entries_are_reported(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    legacy_repo(repo, run_cli)
    write_tree(repo, {"units/web.service": WEB.replace("ProtectSystem=no", "ProtectSystem=strict")})
    run = run_cli("check", "--update-baseline", "units/web.service", cwd=repo)
    assert run.code == 0
    assert run.out.endswith(
        "Baseline: 2 baselined findings remain (.unitgate-baseline.json); web.service tightened.\n"
    )
    data = json.loads((repo / ".unitgate-baseline.json").read_text(encoding="utf-8"))
    web = data["units"]["units/web.service"]
    assert web["exposure"] < 9.4
    assert "UG102" not in {f["rule"] for f in web["findings"]}
    # Tightened: weakening the unit again is a new finding.
    write_tree(repo, {"units/web.service": WEB})
    assert run_cli("check", "units/web.service", cwd=repo).code == 1

    (repo / "units/backup.service").unlink()
    run = run_cli("check", "units/web.service", cwd=repo)
    assert (
        "stale entries for files that no longer exist: units/backup.service (`unitgate baseline` drops them)"
        in run.out
    )
    assert run_cli("baseline", cwd=repo).out.startswith(
        "Recorded 9 findings in 1 unit to .unitgate-baseline.json; dropped 1 stale entry."
    )


def test_a_broken_baseline_is_an_error(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {"units/web.service": WEB, ".unitgate-baseline.json": "{}"})
    run = run_cli("check", "units/web.service", cwd=repo)
    assert run.code == 2
    assert run.err.endswith("not a unitgate baseline (version 1)\n")
    assert run_cli("check", "--baseline", "missing.json", "units/web.service", cwd=repo).code == 2


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 1, "units": {"units/web.service": "not an entry"}}',
        '{"version": 1, "units": {"units/web.service": {"exposure": "high"}}}',
        '{"version": 1, "units": {"units/web.service": {"exposure": Infinity}}}',
        '{"version": 1, "units": {"units/web.service": {"findings": [{"rule": "UG101"}]}}}',
        "[" * 100000,
    ],
)
def test_a_baseline_unitgate_did_not_write_is_an_error_not_a_crash(
    repo: Path, run_cli: Callable[..., Run], content: str
) -> None:
    # The baseline is repository content: in a pull request, whoever opened it wrote it.
    write_tree(repo, {"units/web.service": WEB, ".unitgate-baseline.json": content})
    run = run_cli("check", "units/web.service", cwd=repo)
    assert run.code == 2
    assert run.err.startswith("unitgate: error: ") and "internal error" not in run.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_baseline_that_is_a_fifo_or_leads_out_is_refused_without_waiting(
    repo: Path, run_cli: Callable[..., Run], tmp_path_factory: pytest.TempPathFactory
) -> None:
    write_tree(repo, {"units/web.service": WEB})
    os.mkfifo(repo / ".unitgate-baseline.json")  # nobody writes to it: opening it would wait forever
    run = run_cli("check", "units/web.service", cwd=repo)
    assert (run.code, "not a regular file" in run.err) == (2, True), run.err
    (repo / ".unitgate-baseline.json").unlink()
    outside = tmp_path_factory.mktemp("host") / "secret.json"
    outside.write_text('{"version": 1, "units": {}}')
    (repo / ".unitgate-baseline.json").symlink_to(outside)
    run = run_cli("check", "units/web.service", cwd=repo)
    assert run.code == 2 and "outside the repository" in run.err, run.err


def test_recording_replaces_a_planted_link_instead_of_writing_through_it(
    repo: Path, run_cli: Callable[..., Run], tmp_path_factory: pytest.TempPathFactory
) -> None:
    write_tree(repo, {"units/web.service": WEB})
    victim = tmp_path_factory.mktemp("host") / "profile"
    victim.write_text("untouched\n")
    (repo / ".unitgate-baseline.json").symlink_to(victim)
    assert run_cli("baseline", cwd=repo).code == 0
    assert victim.read_text() == "untouched\n"
    assert not (repo / ".unitgate-baseline.json").is_symlink()
    assert json.loads((repo / ".unitgate-baseline.json").read_text())["version"] == 1


def test_units_of_one_name_in_two_roots_have_their_own_entries(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    """hosts/b's web.service lacks NoNewPrivileges= when the baseline is recorded; hosts/a's has it.
    When hosts/a's loses it later, that is new: b's recorded finding must not cover it."""
    a, b = "hosts/a/etc/systemd/system/web.service", "hosts/b/etc/systemd/system/web.service"
    write_tree(repo, {a: WEB, b: WEB.replace("NoNewPrivileges=yes\n", "")})
    assert run_cli("baseline", cwd=repo).code == 0
    data = json.loads((repo / ".unitgate-baseline.json").read_text(encoding="utf-8"))
    mine = {key: {f["directive"] for f in unit["findings"]} for key, unit in data["units"].items()}
    assert "NoNewPrivileges" in mine[b] and "NoNewPrivileges" not in mine[a]
    assert data["units"][a]["exposure"] < data["units"][b]["exposure"]  # each host's own
    assert run_cli("check", a, b, cwd=repo).code == 0  # nothing new yet, checked together
    write_tree(repo, {a: WEB.replace("NoNewPrivileges=yes\n", "")})
    for paths in ([a], [a, b], [b, a]):
        run = run_cli("check", *paths, cwd=repo)
        assert run.code == 1, (paths, run.out)
        assert f"{a}:4:1: UG101 web.service: NoNewPrivileges= is not set" in run.out, run.out


def test_a_policy_scoring_two_releases_is_baselined_once_per_unit(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    """Each unit is judged once per scoring model; its findings are still its own, not left over."""
    policy = 'policy-version = 1\nextends = "baseline@1"\nscoring = ["systemd-252", "systemd-257"]\n'
    write_tree(repo, {".unitgate.toml": policy})
    legacy_repo(repo, run_cli)
    run = run_cli("check", "units/backup.service", "units/web.service", cwd=repo)
    assert run.code == 0, run.out
    write_tree(repo, {"units/web.service": WEB + "ProtectKernelTunables=no\n"})
    run = run_cli("check", "units/web.service", cwd=repo)
    assert run.code == 1 and "UG102 web.service: ProtectKernelTunables=no" in run.out, run.out
