# ruff: noqa: E501  (expected messages are compared whole)
"""Parsing `# unitgate:` comments and applying them."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitgate import suppress
from unitgate.findings import Finding
from unitgate.model import Location


def parse(text: str) -> tuple[list[suppress.Suppression], list[str]]:
    suppressions, findings = suppress.parse("u.service", text)
    return suppressions, [f"{f.rule}@{f.location.line}: {f.message}" for f in findings]


def test_next_line_skips_blank_and_comment_lines() -> None:
    found, broken = parse(
        '[Service]\n# unitgate: disable=UG102,NoNewPrivileges reason="needs setuid ping"\n\n# other\nNoNewPrivileges=no\n'
    )
    assert broken == []
    assert found == [
        suppress.Suppression(
            Location("u.service", 2), ("UG102", "Service.NoNewPrivileges"), "needs setuid ping", False, 5
        )
    ]


@pytest.mark.parametrize(
    "comment",
    [
        '# unitgate: disable-next-line=UG201 reason="x"',
        "; unitgate: disable=UG201 reason='x'",
        '  #unitgate:disable=UG201   reason = "x"  ',
    ],
)
def test_spellings(comment: str) -> None:
    found, broken = parse(f"{comment}\n[Service]\n")
    assert broken == []
    assert [(s.targets, s.reason, s.line) for s in found] == [(("UG201",), "x", 2)]


def test_file_wide() -> None:
    found, _ = parse('# unitgate: disable-file=Unit.After,PrivateNetwork reason="LAN service"\n[Service]\n')
    assert [(s.targets, s.file_wide) for s in found] == [(("Unit.After", "Service.PrivateNetwork"), True)]


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "# unitgate: disable=UG201",
            'UG401@1: suppression of UG201 has no reason: write # unitgate: disable=UG201 reason="why this is acceptable"',
        ),
        (
            '# unitgate: disable-file=PrivateTmp reason=""',
            'UG401@1: suppression of PrivateTmp has no reason: write # unitgate: disable-file=PrivateTmp reason="why this is acceptable"',
        ),
        (
            "# unitgate: ignore=UG201",
            "UG403@1: malformed unitgate comment: expected disable=... or disable-file=..., found 'ignore=UG201'; write # unitgate: disable=UG101,NoNewPrivileges reason=\"...\"",
        ),
        (
            '# unitgate: disable=UG999 reason="x"',
            "UG403@1: malformed unitgate comment: unknown rule id 'UG999'; write # unitgate: disable=UG101,NoNewPrivileges reason=\"...\"",
        ),
        (
            '# unitgate: disable=no-new-privs reason="x"',
            "UG403@1: malformed unitgate comment: 'no-new-privs' is neither a rule id (UG101) nor a directive name; write # unitgate: disable=UG101,NoNewPrivileges reason=\"...\"",
        ),
        (
            "# unitgate: disable=UG201 because reasons",
            'UG403@1: malformed unitgate comment: expected reason="..." after the targets, found \'because reasons\'; write # unitgate: disable=UG101,NoNewPrivileges reason="..."',
        ),
    ],
    ids=["no reason", "empty reason", "unknown keyword", "unknown rule", "bad target", "junk"],
)
def test_broken_comments_are_findings(comment: str, expected: str) -> None:
    assert parse(f"{comment}\n[Service]\n")[1] == [expected]


def test_ordinary_comments_are_left_alone() -> None:
    assert parse("# unitgate is great\n# see unitgate docs\n[Service]\n") == ([], [])


def test_continuation_lines_are_one_directive() -> None:
    found, _ = parse('# unitgate: disable=UG102 reason="x"\nExecStart=/bin/a \\\n  --flag\nUser=x\n')
    assert found[0].line == 2


def test_apply() -> None:
    line = suppress.Suppression(Location("u.service", 3), ("Service.User",), "r", False, 4)
    whole = suppress.Suppression(Location("base.service", 1), ("UG201",), "r", True)
    unused = suppress.Suppression(Location("u.service", 8), ("UG101",), "r", False, 9)
    findings = [
        Finding("UG103", Location("u.service", 4), "m", "u.service", "User"),  # suppressed by `line`
        Finding("UG103", Location("u.service", 5), "m", "u.service", "User"),  # another line: kept
        Finding("UG201", Location("u.service", 1), "m", "u.service"),  # file-wide in a source of the unit
        Finding("UG401", Location("u.service", 4), "m"),  # never suppressible
    ]
    applied = suppress.apply(
        findings,
        {"u.service": [line, unused], "base.service": [whole]},
        {"u.service": ("base.service", "u.service")},
    )
    assert applied.kept == (findings[1], findings[3])
    assert applied.suppressed == (findings[0], findings[2])
    assert applied.unused == (unused,)
    assert suppress.unused_finding(unused).message == (
        "unused suppression: no UG101 finding on the next line; remove the comment"
    )


def test_a_reasonless_suppression_cannot_excuse_itself(tmp_path: Path) -> None:
    """`disable-file=UG401,UG101` without a reason: the missing reason (UG401) still fails the run."""
    from unitgate import gate

    (tmp_path / ".git").mkdir()
    (tmp_path / ".unitgate.toml").write_text("policy-version = 1\n[require]\nNoNewPrivileges = true\n")
    unit = tmp_path / "app.service"
    unit.write_text("# unitgate: disable-file=UG401,UG101\n[Service]\nExecStart=/x\n")
    result = gate.check([str(unit)])
    assert "UG401" in {f.rule for f in result.findings}
    assert result.exit_code == gate.EXIT_FINDINGS
    assert "UG401" in suppress.UNSUPPRESSIBLE
