"""The README is tested: its console examples are run, its policies loaded, its rule table complete."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
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


def _block_after(marker: str, language: str) -> str:
    start = DOC.index(marker)
    return DOC[
        DOC.index(f"```{language}\n", start) + len(language) + 4 : DOC.index(
            "```\n", DOC.index(f"```{language}\n", start) + 4
        )
    ]


def test_baseline_example_is_what_the_command_prints(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    block = _block_after("### 2. Record a baseline", "text")
    command, _, expected = block.partition("\n")
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy)
    (copy / ".git").mkdir()
    run = run_cli(*shlex.split(command.removeprefix("$ "))[1:], cwd=copy)
    assert run.out == expected
    # The baseline the README's other examples use is the one this command writes.
    assert (copy / "legacy-baseline.json").read_bytes() == (EXAMPLE / "legacy-baseline.json").read_bytes()


def test_pre_commit_snippet_pins_a_commit() -> None:
    snippet = yaml.safe_load(_block_after("**pre-commit.**", "yaml"))
    hook = snippet["repos"][0]
    assert re.fullmatch(r"[0-9a-f]{40}", str(hook["rev"]))  # a commit SHA: there is no release tag
    assert hook["hooks"] == [{"id": "unitgate"}]
    assert "pre-commit try-repo" in DOC


def test_workflow_snippet_uses_the_action_inputs() -> None:
    workflow = yaml.safe_load(_block_after("**GitHub Actions.**", "yaml"))
    steps = workflow["jobs"]["unitgate"]["steps"]
    ours = next(s for s in steps if "unitgate@" in s.get("uses", ""))
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert set(ours["with"]) <= set(action["inputs"])
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == ours["with"]["sarif"]
