"""Rule pages: `unitgate rule ID` and docs/rules/ are one text, in step with the rule table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import ROOT, Run

from unitgate.findings import RULES
from unitgate.ruledocs import DOCS, files, page

DOCS_DIR = ROOT / "docs" / "rules"


def test_every_rule_has_a_page_and_only_rules_do() -> None:
    assert set(DOCS) == {r.id for r in RULES}
    assert sorted(p.name for p in DOCS_DIR.iterdir()) == sorted(files())


def test_docs_rules_match_the_generator() -> None:
    # Regenerate with: python -m unitgate.ruledocs docs/rules
    for name, text in files().items():
        assert (DOCS_DIR / name).read_text(encoding="utf-8") == text, name


def test_pages_carry_the_rule_table() -> None:
    for rule in RULES:
        text = page(rule.id)
        assert text.startswith(f"# {rule.id} {rule.name}\n")
        assert rule.summary in text and rule.help in text
        for heading in (
            "## What it checks",
            "## Why",
            "## How to fix it",
            "## How to suppress it",
            "## Example",
        ):
            assert heading in text


def test_rule_command_prints_the_page(run_cli: Callable[..., Run], tmp_path: Path) -> None:
    run = run_cli("rule", "UG201", cwd=tmp_path)
    assert run.code == 0
    assert run.out == (DOCS_DIR / "UG201.md").read_text(encoding="utf-8")
    assert run_cli("rule", "exposure-above-maximum", cwd=tmp_path).out == run.out
    listing = run_cli("rule", cwd=tmp_path)
    assert listing.out.splitlines()[0].startswith("UG101  required-directive-missing  error    A directive")
    unknown = run_cli("rule", "UG2O1", cwd=tmp_path)
    assert unknown.code == 2
    assert unknown.err == "unitgate: error: unknown rule 'UG2O1' (did you mean UG201?)\n"
