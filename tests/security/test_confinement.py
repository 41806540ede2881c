"""Nothing outside the repository is read: a symlink out is reported by name, its content never shown.

Each case links a unit, a drop-in, a quadlet file or a whole search directory to files outside the
repository that hold a canary string; no output of any command or format may contain it, and the
finding names the link and where it points.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sechelp import CANARY, CONTAINER, UNIT, assert_sane, every_output, link, unitgate, write

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "symlink"), reason="needs symlinks")

# id -> builds the case in (repo, host); returns (paths to check, link named, target named)
Case = Callable[[Path, Path], tuple[list[str], str, str]]


def unit_absolute(repo: Path, host: Path) -> tuple[list[str], str, str]:
    target = str(host / "app.service")
    link(repo / "units/app.service", target)
    return ["units/app.service"], "units/app.service", target


def unit_relative_in_root(repo: Path, host: Path) -> tuple[list[str], str, str]:
    target = "../../../../host/app.service"
    link(repo / "etc/systemd/system/app.service", target)
    return ["etc/systemd/system/app.service"], "etc/systemd/system/app.service", target


def dropin(repo: Path, host: Path) -> tuple[list[str], str, str]:
    write(repo / "units/app.service", UNIT)
    target = str(host / "secret.conf")
    link(repo / "units/app.service.d/10.conf", target)
    return ["units/app.service", "units/app.service.d/10.conf"], "units/app.service.d/10.conf", target


def dropin_proc_environ(repo: Path, host: Path) -> tuple[list[str], str, str]:
    write(repo / "units/app.service", UNIT)
    link(repo / "units/app.service.d/10.conf", "/proc/self/environ")
    return ["units/app.service"], "units/app.service.d/10.conf", "/proc/self/environ"


def container(repo: Path, host: Path) -> tuple[list[str], str, str]:
    target = str(host / "app.container")
    link(repo / "containers/app.container", target)
    return ["containers/app.container"], "containers/app.container", target


def container_dropin(repo: Path, host: Path) -> tuple[list[str], str, str]:
    write(repo / "containers/app.container", CONTAINER)
    target = str(host / "secret-container.conf")
    link(repo / "containers/app.container.d/10.conf", target)
    paths = ["containers/app.container", "containers/app.container.d/10.conf"]
    return paths, "containers/app.container.d/10.conf", target


def container_dropin_dir(repo: Path, host: Path) -> tuple[list[str], str, str]:
    write(repo / "containers/app.container", CONTAINER)
    target = str(host / "dropins")
    link(repo / "containers/app.container.d", target)
    return ["containers/app.container"], "containers/app.container.d", target


def control_dir(repo: Path, host: Path) -> tuple[list[str], str, str]:
    write(repo / "etc/systemd/system/app.service", UNIT)
    target = str(host / "units")
    link(repo / "etc/systemd/system.control", target)
    return ["etc/systemd/system/app.service"], "etc/systemd/system.control", target


def parent_dir(repo: Path, host: Path) -> tuple[list[str], str, str]:
    write(host / "etc-systemd/system/app.service", (host / "app.service").read_text())
    target = str(host / "etc-systemd")
    link(repo / "etc/systemd", target)
    return ["etc/systemd/system/app.service"], "etc/systemd", target


CASES: dict[str, Case] = {
    "unit symlink, absolute": unit_absolute,
    "unit symlink, relative out of the root": unit_relative_in_root,
    "drop-in symlink": dropin,
    "drop-in symlink to /proc/self/environ": dropin_proc_environ,
    ".container symlink": container,
    "container drop-in symlink": container_dropin,
    "container drop-in directory symlink": container_dropin_dir,
    "system.control directory symlink": control_dir,
    "etc/systemd directory symlink": parent_dir,
}


@pytest.mark.parametrize("build", CASES.values(), ids=CASES.keys())
def test_canary_never_printed(repo: Path, host: Path, build: Case) -> None:
    paths, _, _ = build(repo, host)
    for name, run in every_output(paths, repo).items():
        assert_sane(run)
        assert CANARY not in run.text, f"{name} printed content from outside the repository"


@pytest.mark.parametrize("build", CASES.values(), ids=CASES.keys())
def test_finding_names_link_and_target(repo: Path, host: Path, build: Case) -> None:
    paths, named_link, target = build(repo, host)
    named = (f"{named_link} is a symlink to {target}, outside", f"{named_link}, a symlink to {target} out")
    explain = unitgate(["explain", *paths], repo)
    assert_sane(explain)
    assert any(n in explain.err for n in named), explain.err
    check = unitgate(["check", "--format", "text", *paths], repo)
    assert_sane(check)
    assert check.code == 1, check.text  # a finding for that file, not "could not run"
    assert any(n in check.out for n in named), check.out
    data = json.loads(unitgate(["explain", "--format", "json", *paths], repo).out)
    codes = {d["code"] for unit in data for d in unit["diagnostics"]}
    assert "UG-INPUT-OUTSIDE-REPOSITORY" in codes


def test_links_inside_the_repository_still_work(repo: Path) -> None:
    """Aliases, masks and links between files of the repository are what systemd needs: kept."""
    write(repo / "common/app.service", UNIT + "NoNewPrivileges=yes\n")
    link(repo / "etc/systemd/system/app.service", "../../../common/app.service")
    link(repo / "etc/systemd/system/alias.service", "app.service")
    link(repo / "etc/systemd/system/masked.service", "/dev/null")
    write(repo / "common/hardening.conf", "[Service]\nPrivateTmp=yes\n")
    link(repo / "etc/systemd/system/app.service.d/10.conf", "../../../../common/hardening.conf")
    run = unitgate(["explain", "--format", "json", "etc/systemd/system/app.service"], repo)
    assert_sane(run)
    (unit,) = json.loads(run.out)
    assert unit["state"] == "loaded"
    assert not [d for d in unit["diagnostics"] if d["severity"] == "error"]
    decided = {c["name"]: c["source"] for c in unit["checks"]}
    assert decided["NoNewPrivileges="].endswith("common/app.service:3")
    assert decided["PrivateTmp="] == "etc/systemd/system/app.service.d/10.conf:2"
    masked = unitgate(["explain", "etc/systemd/system/masked.service"], repo)
    assert masked.code == 0 and "is masked" in masked.out


def test_outside_link_does_not_stop_other_files(repo: Path, host: Path) -> None:
    link(repo / "units/bad.service", str(host / "app.service"))
    write(repo / "units/good.service", UNIT)
    run = unitgate(["check", "units/bad.service", "units/good.service"], repo)
    assert_sane(run)
    assert run.code == 1
    assert "units/good.service" in run.out and "good.service" in run.out
    assert CANARY not in run.text
