"""The built-in policies with containers (baseline@2, strict@2), as a user runs them:
`unitgate check --policy FILE` with a policy that extends one."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitgate.cli import main

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "quadlet"
HARDENED_ROOTLESS = FIX / "rootless/home/alice/.config/containers/systemd/apps/hardened.container"


def _check(tmp_path: Path, builtin: str, unit: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'policy-version = 1\nextends = "{builtin}"\n')
    rc = main(["check", "--format", "text", "--policy", str(policy), str(unit)])
    return rc, capsys.readouterr().out


@pytest.mark.parametrize("builtin", ["baseline@2", "strict@2"])
def test_privileged_container_fails(builtin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _check(tmp_path, builtin, FIX / "sibling/privileged.container", capsys)
    assert rc == 1
    assert "passes --privileged to podman, which the policy forbids" in out
    assert "mounts /, which the policy forbids (Volume=/)" in out


@pytest.mark.parametrize("builtin", ["baseline@2", "strict@2"])
def test_hardened_rootless_container_passes(
    builtin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out = _check(tmp_path, builtin, HARDENED_ROOTLESS, capsys)
    assert rc == 0, out
    assert "All checks passed: 1 unit" in out


def test_runtime_socket_written_with_a_specifier_fails_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out = _check(tmp_path, "baseline@2", FIX / "specifiers/sock.container", capsys)
    assert rc == 1 and "mounts /run/podman/podman.sock, which the policy forbids" in out


def test_default_rootful_container_passes_baseline_not_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(tmp_path, "baseline@2", FIX / "sibling/defaults.container", capsys)[0] == 0
    rc, out = _check(tmp_path, "strict@2", FIX / "sibling/defaults.container", capsys)
    assert rc == 1 and "UserNS=" in out
