"""Helpers of the gate-side security tests: a small repository in tmp_path, `python -m unitgate` as a
subprocess (what a user or a CI log sees), and the test for forged GitHub workflow commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

UNIT = "[Unit]\nDescription=demo\n\n[Service]\nExecStart=/usr/bin/demo\n"
HARDENING = "[Service]\nNoNewPrivileges=yes\nProtectSystem=strict\n"
POLICY = (
    "policy-version = 1\nmax-exposure = 9.9\n"
    '[require]\nNoNewPrivileges = true\nProtectSystem = ["strict", "full"]\n'
)
CONTAINER = "[Container]\nImage=docker.io/library/alpine:3\n"
FORMATS = ("text", "github", "json", "sarif")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def unitgate(
    args: Sequence[str],
    cwd: Path,
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    """`unitgate ARGS` run from `cwd` in a fresh interpreter; fails the test if it does not finish."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR")}
    environ.setdefault("UNITGATE_CACHE_DIR", str(cwd.parent / "unitgate-cache"))
    environ["NO_COLOR"] = "1"
    environ.update(env or {})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "unitgate", *args],
            cwd=cwd,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            env=environ,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"unitgate {' '.join(args)} did not finish within {timeout} s")
    run = Run(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))
    assert run.code in (0, 1, 2), run.text[-3000:]
    assert "internal error" not in run.text and "Traceback" not in run.text, run.text[-3000:]
    return run


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
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
