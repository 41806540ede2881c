"""Helpers of the gate-side security tests: a small repository in tmp_path, `python -m unitgate` as a
subprocess (what a user or a CI log sees), and the test for forged GitHub workflow commands."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import sechelp
from sechelp import Run, assert_sane

UNIT = "[Unit]\nDescription=demo\n\n[Service]\nExecStart=/usr/bin/demo\n"
HARDENING = "[Service]\nNoNewPrivileges=yes\nProtectSystem=strict\n"
POLICY = (
    "policy-version = 1\nmax-exposure = 9.9\n"
    '[require]\nNoNewPrivileges = true\nProtectSystem = ["strict", "full"]\n'
)
CONTAINER = "[Container]\nImage=docker.io/library/alpine:3\n"
FORMATS = ("text", "github", "json", "sarif")


def unitgate(
    args: Sequence[str],
    cwd: Path,
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60,
) -> Run:
    """`unitgate ARGS` run from `cwd` (sechelp.unitgate, with stdin at its end when none is given);
    fails the test unless it finished as designed."""
    run = sechelp.unitgate(args, cwd, stdin=b"" if stdin is None else stdin, env=env, timeout=timeout)
    assert_sane(run)
    return run


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, content in files.items():
        sechelp.write(root / name, content)
    return root


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def git_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.invalid")
    git(root, "config", "user.name", "t")
    git(root, "config", "commit.gpgsign", "false")
    return root


# What the runner treats as a command: `::name ...::` at the start of a line after leading blanks
# (actions/runner ActionCommand.TryParseV2, after TrimStart), and the legacy `##[name ...]` anywhere.
_OURS = re.compile(r"::(error|warning|notice) file=[^,\s:]*,line=\d+,title=[^:]*::")
_OURS_SUMMARY = re.compile(r"::(error|warning|notice) title=unitgate::")


def forged_commands(output: str) -> list[str]:
    """Lines (split on CR and LF, as a log viewer and the runner may split them) that the runner would
    read as a workflow command unitgate did not write."""
    forged = []
    for line in re.split(r"\r\n|\r|\n", output):
        if "##[" in line:
            forged.append(line)
        stripped = line.lstrip()
        if stripped.startswith("::") and not (
            line == stripped and (_OURS.match(line) or _OURS_SUMMARY.match(line))
        ):
            forged.append(line)
    return forged
