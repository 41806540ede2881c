"""The README is tested: its console examples are run, its policies loaded, its rule table complete."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, Run

from unitgate.findings import RULES
from unitgate.policy import from_data, tomllib

DOC = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = FIXTURES / "example"


def blocks(language: str) -> list[str]:
    """The fenced blocks of one language, dedented (blocks may sit inside list items)."""
    found = []
    for match in re.finditer(rf"^( *)```{language}\n(.*?)^\1```$", DOC, flags=re.M | re.S):
        indent = len(match[1])
        found.append("".join(line[indent:] for line in match[2].splitlines(keepends=True)))
    return found


CONSOLE = blocks("console")


@pytest.mark.parametrize("block", CONSOLE, ids=[b.splitlines()[0] for b in CONSOLE])
def test_console_examples(
    block: str, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The example stands for a repository of its own (paths in `github` output are repository-relative).
    example = tmp_path / "example"
    shutil.copytree(EXAMPLE, example, symlinks=True)
    (example / ".git").mkdir()
    command, _, expected = block.partition("\n")
    words = shlex.split(command.removeprefix("$ "))
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        monkeypatch.setenv(name, value)
    assert words[0] == "unitgate"
    run = run_cli(*words[1:], cwd=example)
    assert run.out + run.err == expected


def test_there_are_examples() -> None:
    assert len(CONSOLE) >= 5


@pytest.mark.parametrize("block", blocks("toml"))
def test_policy_examples_are_valid(block: str) -> None:
    policy = from_data(tomllib.loads(block), "README.md")
    assert policy.require


def test_every_rule_is_documented() -> None:
    for rule in RULES:
        assert f"| {rule.id} | {rule.name} | {rule.level.value} |" in DOC


def test_readme_hook_id_matches_manifest() -> None:
    assert "id: unitgate" in (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: unitgate" in DOC
