"""Devices, FIFOs and kernel files are never read: every such target finishes in seconds, no crash.

A committed symlink to /dev/zero used to exhaust memory, one to /proc/self/fd/1 or /dev/stdin (open
pipes in CI) or a FIFO used to block forever.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sechelp import CONTAINER, UNIT, assert_sane, link, unitgate, write

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks")
GiB = 1024 * 1024 * 1024
TIMEOUT = 20  # seconds: each run takes about one; a blocked read would never end


def _fifo(repo: Path) -> str:
    os.mkfifo(repo / "pipe")
    return str(repo / "pipe")


TARGETS: dict[str, Callable[[Path], str]] = {
    "/dev/zero": lambda _: "/dev/zero",
    "/dev/urandom": lambda _: "/dev/urandom",
    "/proc/self/fd/1": lambda _: "/proc/self/fd/1",
    "/dev/stdin": lambda _: "/dev/stdin",
    "FIFO in the repository": _fifo,
}


def unit_dropin(repo: Path, target: str) -> list[str]:
    write(repo / "units/app.service", UNIT)
    link(repo / "units/app.service.d/10.conf", target)
    return ["units/app.service"]


def type_dropin(repo: Path, target: str) -> list[str]:
    write(repo / "etc/systemd/system/app.service", UNIT)
    link(repo / "etc/systemd/system/service.d/10.conf", target)
    return ["etc/systemd/system/app.service"]


def container_dropin(repo: Path, target: str) -> list[str]:
    write(repo / "containers/app.container", CONTAINER)
    link(repo / "containers/app.container.d/10.conf", target)
    return ["containers/app.container"]


def quadlet_sibling(repo: Path, target: str) -> list[str]:
    write(repo / "containers/app.container", CONTAINER)
    link(repo / "containers/other.container", target)  # read while loading the search directory
    return ["containers/app.container"]


def unit_itself(repo: Path, target: str) -> list[str]:
    link(repo / "units/app.service", target)
    return ["units/app.service"]


def container_itself(repo: Path, target: str) -> list[str]:
    link(repo / "containers/app.container", target)
    return ["containers/app.container"]


PLACES: dict[str, Callable[[Path, str], list[str]]] = {
    "unit drop-in": unit_dropin,
    "type-wide drop-in": type_dropin,
    "container drop-in": container_dropin,
    "another .container in the directory": quadlet_sibling,
    "unit": unit_itself,
    ".container": container_itself,
}


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_explain_never_reads_special_files(
    repo: Path, place: Callable[[Path, str], list[str]], target: Callable[[Path], str]
) -> None:
    paths = place(repo, target(repo))
    run = unitgate(["explain", "--format", "json", *paths], repo, timeout=TIMEOUT, memory=2 * GiB)
    assert_sane(run)


# `check` reads what `explain` reads (plus the given paths): one target of each kind is enough here.
CHECK_TARGETS = {k: TARGETS[k] for k in ("/dev/zero", "/proc/self/fd/1", "FIFO in the repository")}


@pytest.mark.parametrize("target", CHECK_TARGETS.values(), ids=CHECK_TARGETS.keys())
@pytest.mark.parametrize(
    "place", [unit_dropin, type_dropin, container_dropin, quadlet_sibling], ids=list(PLACES)[:4]
)
def test_check_never_reads_special_files(
    repo: Path, place: Callable[[Path, str], list[str]], target: Callable[[Path], str]
) -> None:
    paths = place(repo, target(repo))
    run = unitgate(["check", "--format", "sarif", *paths], repo, timeout=TIMEOUT, memory=2 * GiB)
    assert_sane(run)
    if place is not quadlet_sibling:  # quadlet skips a sibling that is no file; a drop-in is reported
        assert run.code == 1  # a finding for that file; the unit itself is still checked


def test_special_dropin_is_named(repo: Path) -> None:
    paths = unit_dropin(repo, "/dev/zero")
    run = unitgate(["explain", *paths], repo, timeout=TIMEOUT, memory=2 * GiB)
    assert run.code == 0  # the unit itself is still analysed
    assert "units/app.service.d/10.conf is a symlink to /dev/zero, outside the repository" in run.err


def test_fifo_in_dropin_directory_is_not_read(repo: Path) -> None:
    write(repo / "units/app.service", UNIT)
    (repo / "units/app.service.d").mkdir()
    os.mkfifo(repo / "units/app.service.d/10.conf")  # systemd skips a FIFO when it lists drop-ins
    run = unitgate(["explain", "units/app.service"], repo, timeout=TIMEOUT)
    assert_sane(run)
    assert run.code == 0 and run.err == ""


@pytest.mark.parametrize("name", ["app.service", "app.container"])
def test_fifo_given_to_explain(repo: Path, name: str) -> None:
    os.mkfifo(repo / name)
    run = unitgate(["explain", name], repo, timeout=TIMEOUT)
    assert_sane(run)


@pytest.mark.parametrize("name", ["app.service", "app.container"])
def test_fifo_given_to_check(repo: Path, name: str) -> None:
    os.mkfifo(repo / name)
    run = unitgate(["check", name], repo, timeout=5)
    assert_sane(run)


def test_container_to_dev_zero_given_to_check(repo: Path) -> None:
    paths = container_itself(repo, "/dev/zero")
    run = unitgate(["check", *paths], repo, timeout=TIMEOUT, memory=1 * GiB)
    assert_sane(run)
