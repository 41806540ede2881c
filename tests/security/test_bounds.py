"""Amplification bounds: huge files are not read, junk lines do not multiply into gigabytes of
output, long continued values parse in linear time, deep directory trees do not exhaust recursion."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from sechelp import CONTAINER, UNIT, MiB, assert_sane, unitgate, write

GiB = 1024 * MiB
MEMORY = 1 * GiB  # address space for one run: a read of everything would fail under it


def _junk(path: Path, head: str, size: int, line: bytes = b"junk line without equals\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(head.encode())
        f.write(line * (size // len(line)))
    return path


@pytest.mark.parametrize("name", ["units/app.service", "containers/app.container"])
def test_50_mb_file_is_not_read(repo: Path, name: str) -> None:
    _junk(repo / name, UNIT if name.endswith(".service") else CONTAINER, 50 * MiB)
    for args in (["explain", name], ["check", "--format", "sarif", name]):
        started = time.monotonic()
        run = unitgate(args, repo, timeout=60, memory=MEMORY)
        assert_sane(run)
        assert "larger than 4 MiB: not read" in run.text
        assert len(run.text) < 100_000
        assert time.monotonic() - started < 30


def test_50_mb_dropin_is_not_read(repo: Path) -> None:
    write(repo / "units/app.service", UNIT)
    _junk(repo / "units/app.service.d/10.conf", "[Service]\n", 50 * MiB)
    run = unitgate(["check", "--format", "json", "units/app.service"], repo, timeout=60, memory=MEMORY)
    assert_sane(run)
    assert run.code == 1
    assert "units/app.service.d/10.conf" in run.out and "larger than 4 MiB" in run.out


def test_junk_lines_are_counted_not_listed(repo: Path) -> None:
    """Just under the size cap, 3.5 MB of junk lines: one warning per line used to make ~150 MB of
    SARIF and gigabytes of memory; the first warnings are listed, the rest counted in one summary."""
    _junk(repo / "units/app.service", UNIT, int(3.5 * MiB), b"x\n")
    run = unitgate(["explain", "--format", "json", "units/app.service"], repo, timeout=60, memory=MEMORY)
    assert_sane(run)
    (unit,) = json.loads(run.out)
    assert len(unit["diagnostics"]) <= 1001
    (summary,) = [d for d in unit["diagnostics"] if d["code"] == "UG-INPUT-TOO-MANY-DIAGNOSTICS"]
    lines = int(3.5 * MiB) // 2
    assert summary["message"].startswith(f"{lines - 1000} more warnings in this file are not listed")
    sarif = unitgate(["check", "--format", "sarif", "units/app.service"], repo, timeout=60, memory=MEMORY)
    assert_sane(sarif)
    assert len(sarif.out) < 5 * MiB


def _podman_args(path: Path, lines: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        f.write("[Container]\nImage=docker.io/library/alpine:3\nPodmanArgs=")
        f.writelines(f"--label=l{i}=v \\\n" for i in range(lines))
        f.write("--label=end=1\n")
    return path


def test_long_continued_podman_args_parse_in_linear_time(repo: Path) -> None:
    """3.7 MB of PodmanArgs= over 180,000 continued lines: about 3 s; the quadratic split took ~50 s."""
    _podman_args(repo / "containers/app.container", 180_000)
    started = time.monotonic()
    run = unitgate(["explain", "containers/app.container"], repo, timeout=90, memory=MEMORY)
    assert_sane(run)
    assert run.code == 0
    assert time.monotonic() - started < 30


def test_10_mb_podman_args_is_not_read(repo: Path) -> None:
    _podman_args(repo / "containers/app.container", 500_000)
    run = unitgate(["check", "containers/app.container"], repo, timeout=60, memory=MEMORY)
    assert_sane(run)
    assert run.code == 1 and "larger than 4 MiB" in run.out


def test_deeply_nested_quadlet_directories(repo: Path) -> None:
    """quadlet searches its directories recursively: 1,200 levels ended in RecursionError."""
    top = repo / "etc/containers/systemd"
    write(top / "app.container", CONTAINER)
    deep = str(top)
    for _ in range(1200):  # one level at a time: os.makedirs itself recurses
        deep += "/d"
        os.mkdir(deep)
    write(Path(deep) / "deep.container", CONTAINER)
    try:
        run = unitgate(["explain", "etc/containers/systemd/app.container"], repo, timeout=60)
    finally:  # pytest's own clean-up (shutil.rmtree) recurses too: take the tree down level by level
        os.remove(os.path.join(deep, "deep.container"))
        for _ in range(1200):
            os.rmdir(deep)
            deep = os.path.dirname(deep)
    assert_sane(run)
    assert run.code == 0


def test_odd_dropins_do_not_stop_the_run(repo: Path) -> None:
    """A dangling drop-in symlink (skipped by systemd) and a directory named `d.conf` (skipped by
    systemd) used to abort the whole run with exit 2; both units are checked now."""
    write(repo / "units/app.service", UNIT)
    (repo / "units/app.service.d/d.conf").mkdir(parents=True)
    (repo / "units/app.service.d/10.conf").symlink_to("missing.conf")
    write(repo / "units/other.service", UNIT)
    run = unitgate(["check", "units/app.service", "units/other.service"], repo)
    assert_sane(run)
    assert run.code == 1
    assert "app.service" in run.out and "other.service" in run.out
    assert "units/app.service.d/10.conf" in run.out and "leads nowhere" in run.out
    assert "d.conf" not in run.out


def test_a_huge_blob_in_git_history_is_not_read_whole(tmp_path: Path) -> None:
    """`--staged` asks git for the last committed pyproject.toml (was it a policy?). 80 MiB of it is
    not collected: past 64 MiB git is stopped, and the file is taken as a policy, so the files it may
    have governed are checked (the safe reading: more is checked, never less)."""
    from gate_cli import git, git_repo

    root = git_repo(tmp_path / "repo")
    write(root / "units/a.service", UNIT)
    with (root / "pyproject.toml").open("wb") as f:
        f.write(b"#" * (80 * MiB))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "huge")
    write(root / "pyproject.toml", "[project]\nname = 'x'\n")
    git(root, "add", "pyproject.toml")
    run = unitgate(["check", "--staged"], root, timeout=120, memory=MEMORY)
    assert_sane(run)
    assert run.code == 1 and "units/a.service" in run.out
