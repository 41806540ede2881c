"""Shared helpers for the gate's tests: throwaway unit trees and in-process CLI runs."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from unitgate import cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "gate"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in ("GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UNITGATE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def write_tree(root: Path, files: Mapping[str, str | None]) -> Path:
    """Create `files` under `root`: text content, or None for a symlink to /dev/null (a mask)."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.symlink_to(os.devnull)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """`unitgate ARGS...` in-process, from `cwd`: exit code, stdout, stderr."""

    def run(*args: str, cwd: Path) -> Run:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty 'repository' (a .git directory stops policy discovery here)."""
    (tmp_path / ".git").mkdir()
    return tmp_path
