"""Helpers of the security suite: small hostile repositories, and the CLI run as a user runs it.

Every case runs `python -m unitgate` in a subprocess, so what is asserted is what a user (or a CI
log) sees: stdout and stderr together, the exit code, and that it finished at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

# A string that only the files outside the repository hold: it must never appear in any output.
CANARY = "UNITGATE-CANARY-4f1c9e27d3"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def _limit_memory(limit: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def unitgate(
    args: Sequence[str],
    cwd: Path,
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 30,
    memory: int | None = None,
) -> Run:
    """`unitgate ARGS` from `cwd` in a fresh interpreter, stdout a pipe (as /proc/self/fd/1 is in CI).
    stdin: these bytes, else an open pipe nobody writes to (as /dev/stdin often is in CI). The cache
    is the test's own unless `env` says otherwise (None in `env` unsets a variable). Fails the test
    when it does not finish."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR")}
    environ["UNITGATE_CACHE_DIR"] = str(cwd.parent / "cache")
    environ["NO_COLOR"] = "1"
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    read_end, write_end = os.pipe()
    preexec = None
    if memory is not None and sys.platform.startswith("linux"):
        preexec = lambda: _limit_memory(memory)  # noqa: E731
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "unitgate", *args],
            cwd=cwd,
            stdin=read_end if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ,
            preexec_fn=preexec,
        )
        try:
            out, err = proc.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"unitgate {' '.join(args)} did not finish within {timeout} s")
    finally:
        os.close(read_end)
        os.close(write_end)
    return Run(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def assert_sane(run: Run) -> None:
    """Finished as designed: a documented exit code, no crash."""
    assert run.code in (0, 1, 2), run.text[-2000:]
    assert "internal error" not in run.text, run.text[-2000:]
    assert "Traceback" not in run.text, run.text[-2000:]


def every_output(paths: Sequence[str], cwd: Path, **kw: object) -> dict[str, Run]:
    """The same paths through `explain` (text, json) and `check` (every format)."""
    runs = {f"explain-{f}": unitgate(["explain", "--format", f, *paths], cwd, **kw) for f in ("text", "json")}  # type: ignore[arg-type]
    for fmt in ("text", "github", "json", "sarif"):
        runs[f"check-{fmt}"] = unitgate(["check", "--format", fmt, *paths], cwd, **kw)  # type: ignore[arg-type]
    return runs


def make_repo(tmp_path: Path) -> Path:
    """An empty repository (a `.git` directory marks the work tree, which is the boundary)."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def make_host(tmp_path: Path) -> Path:
    """Files outside the repository, each holding the canary where a parser would quote it."""
    h = tmp_path / "host"
    (h / "units").mkdir(parents=True)
    (h / "dropins").mkdir()
    unit = f"[Service]\nExecStart=/bin/true\nEnvironment=TOKEN={CANARY}\n{CANARY} junk line\n[{CANARY}\n"
    (h / "app.service").write_text(unit)
    (h / "units" / "app.service").write_text(unit)
    conf = f"[Service]\nEnvironment=TOKEN={CANARY}\n{CANARY} junk line\n[{CANARY}\n"
    (h / "secret.conf").write_text(conf)
    (h / "dropins" / "10.conf").write_text(f"[Container]\nEnvironment=TOKEN={CANARY}\n{CANARY} junk\n")
    (h / "app.container").write_text(f"{CANARY} not a key-value pair\n[Container]\nImage=docker.io/x\n")
    (h / "secret-container.conf").write_text(f"{CANARY} not a key-value pair\n[Container]\nUser=0\n")
    return h


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def link(path: Path, target: str | Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


UNIT = "[Service]\nExecStart=/bin/true\n"
CONTAINER = "[Container]\nImage=docker.io/library/alpine:3\n"
