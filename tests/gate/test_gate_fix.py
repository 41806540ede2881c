"""`unitgate fix`: one drop-in per unit that makes it pass `unitgate check`, never a base-unit edit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import Run, write_tree

POLICY = """\
policy-version = 1
max-exposure = 8.0

[require]
NoNewPrivileges = true
PrivateTmp = true
ProtectSystem = ["strict", "full"]
ProtectKernelTunables = true
"""

LEGACY = "[Unit]\nDescription=legacy backup job\n\n[Service]\nExecStart=/usr/bin/backup\n"

CONTAINER_POLICY = """\
policy-version = 1

[container]
max-exposure = 2.0

[container.require]
NoNewPrivileges = true
ReadOnly = true
DropCapability = "all"
"""

CONTAINER = "[Container]\nImage=quay.io/example/app:1.0\nUser=1000\nUserNS=auto\nDropCapability=all\n"


def test_fix_writes_one_dropin_that_passes_check(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "units/backup.service": LEGACY})
    assert run_cli("check", "units/backup.service", cwd=repo).code == 1

    run = run_cli("fix", "units/backup.service", cwd=repo)
    assert run.code == 0, run.out + run.err
    out = run.out.splitlines()
    assert (
        out[0].startswith("backup.service: wrote units/backup.service.d/50-unitgate.conf (")
        and "exposure 9.6 -> " in out[0]
    )
    assert out[0].endswith("(maximum 8.0), findings 5 -> 0")
    # Required lines first, then exposure savings; behaviour-changing lines are marked.
    assert out[1:5] == [
        "  + NoNewPrivileges=yes",
        "  + PrivateTmp=yes   [changes behaviour: writable paths]",
        "  + ProtectKernelTunables=yes",
        "  + ProtectSystem=strict   [changes behaviour: writable paths]",
    ]
    assert out[-1] == "Review the drop-ins and test the services before committing them."
    dropin = (repo / "units/backup.service.d/50-unitgate.conf").read_text(encoding="utf-8")
    assert dropin.startswith("# Written by `unitgate fix` so that backup.service meets its policy")
    assert "[Service]\n# required by the policy\nNoNewPrivileges=yes\n" in dropin
    assert "# required by the policy; changes behaviour: writable paths\nProtectSystem=strict\n" in dropin
    assert "# lowers exposure by " in dropin
    assert (repo / "units/backup.service").read_text(encoding="utf-8") == LEGACY  # never edited

    after = run_cli("check", "units/backup.service", cwd=repo)
    assert after.code == 0, after.out
    assert after.out.startswith("All checks passed: 1 unit")

    again = run_cli("fix", "units/backup.service", cwd=repo)
    assert again.out == "backup.service: meets its policy, nothing to write\n"
    assert again.code == 0


def test_fix_diff_writes_nothing(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "units/backup.service": LEGACY})
    run = run_cli("fix", "--diff", "units/backup.service", cwd=repo)
    assert run.code == 0, run.out
    assert run.out.startswith(
        "--- a/units/backup.service.d/50-unitgate.conf\n+++ b/units/backup.service.d/50-unitgate.conf\n"
    )
    assert "+NoNewPrivileges=yes\n" in run.out
    assert "backup.service: would write units/backup.service.d/50-unitgate.conf" in run.out
    assert "findings 5 -> 0" in run.out
    assert not (repo / "units/backup.service.d").exists()


def test_fix_name_is_configurable(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "backup.service": LEGACY})
    run = run_cli("fix", "--name", "10-hardening.conf", "backup.service", cwd=repo)
    assert run.code == 0, run.out
    assert (repo / "backup.service.d/10-hardening.conf").is_file()
    assert run_cli("fix", "--name", "../x.conf", "backup.service", cwd=repo).code == 2


def test_fix_reports_a_line_it_cannot_override(repo: Path, run_cli: Callable[..., Run]) -> None:
    hardened = (
        LEGACY + "NoNewPrivileges=yes\nPrivateTmp=yes\nProtectSystem=strict\nProtectKernelTunables=yes\n"
    )
    write_tree(
        repo,
        {
            ".unitgate.toml": POLICY.replace("8.0", "9.9"),
            "web.service": hardened,
            "web.service.d/override.conf": "[Service]\nProtectSystem=no\n",
        },
    )
    run = run_cli("fix", "web.service", cwd=repo)
    assert run.code == 1
    assert "still failing: web.service.d/override.conf:2:1: UG102" in run.out
    assert (
        "(decided by a drop-in applied after 50-unitgate.conf: edit that line, or pick a later --name)"
        in run.out
    )
    assert run_cli("fix", "--name", "zz-unitgate.conf", "web.service", cwd=repo).code == 0
    assert run_cli("check", "web.service", cwd=repo).code == 0


def test_fix_container_dropin(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": CONTAINER_POLICY, "app.container": CONTAINER})
    assert run_cli("check", "app.container", cwd=repo).code == 1
    run = run_cli("fix", "app.container", cwd=repo)
    assert run.code == 0, run.out
    dropin = (repo / "app.container.d/50-unitgate.conf").read_text(encoding="utf-8")
    assert "[Container]\n# required by the policy\nNoNewPrivileges=true\n" in dropin
    assert "# required by the policy; changes behaviour: writable paths\nReadOnly=true\n" in dropin
    assert (repo / "app.container").read_text(encoding="utf-8") == CONTAINER
    assert run_cli("check", "app.container", cwd=repo).code == 0
