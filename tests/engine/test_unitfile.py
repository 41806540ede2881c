"""The unit-file syntax, as systemd 252's config_parse() reads it (no systemd needed)."""

from __future__ import annotations

import pytest

from unitgate.model import Severity
from unitgate.parse.unitfile import LONG_LINE_MAX, parse_unit_bytes

SECTIONS = frozenset({"Unit", "Service", "Install"})


def parse(text: bytes) -> tuple[list[tuple[str, str, str, int]], list[str], str | None]:
    p = parse_unit_bytes(text, "u.service", SECTIONS)
    values = [(a.section, a.key, a.value, a.location.line) for a in p.assignments]
    diags = [f"{d.location.line}:{d.code}" for d in p.diagnostics if d.severity is Severity.WARNING]
    return values, diags, None if p.fatal is None else f"{p.fatal.location.line}:{p.fatal.code}"


def test_comments_are_whole_lines_only() -> None:
    values, _, _ = parse(b"[Service]\n  # c\n; c\nNoNewPrivileges=yes # not a comment\n")
    assert values == [("Service", "NoNewPrivileges", "yes # not a comment", 4)]


@pytest.mark.parametrize(
    ("body", "value", "line"),
    [
        (b"A=\\\n# c\n; c\nyes\n", "yes", 4),  # comment lines inside a continuation are dropped
        (b"A=y\\\n  es\n", "y   es", 2),  # the backslash becomes a space; the next line is kept raw
        (b"A=y\\\\\\\nes\n", "y\\\\ es", 2),  # an odd run continues; backslashes stay
        (b"A=y\\\\\nB=1\n", "y\\\\", 1),  # an even run does not continue
        (b"A=x\\", "x", 2),  # a continuation open at end of file: one past the last line
    ],
)
def test_continuations(body: bytes, value: str, line: int) -> None:
    values, _, _ = parse(b"[Service]\n" + body)
    assert values[0][2:] == (value, line + 1)


def test_blank_line_ends_a_continuation() -> None:
    values, diags, _ = parse(b"[Service]\nA=\\\n\nyes\n")
    assert values == [("Service", "A", "", 3)]
    assert diags == ["4:UG-SYNTAX-MISSING-EQUALS"]


def test_open_continuation_at_eof_is_reported_one_past_the_last_line() -> None:
    values, _, _ = parse(b"[Service]\nA=x\\\n")
    assert values == [("Service", "A", "x", 3)]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r", b"\0"])
def test_line_ends(eol: bytes) -> None:
    values, _, _ = parse(eol.join([b"[Service]", b"A=1", b"B=2"]))
    assert [(v[1], v[2], v[3]) for v in values] == [("A", "1", 2), ("B", "2", 3)]


def test_whitespace_around_key_and_value() -> None:
    values, _, _ = parse(b"[Service]\n  A   =   b c   \n")
    assert values == [("Service", "A", "b c", 2)]


def test_repeated_sections_merge_and_first_header_is_remembered() -> None:
    p = parse_unit_bytes(b"[Service]\nA=1\n[Unit]\nB=2\n[Service]\nC=3\n", "u.service", SECTIONS)
    assert [a.section for a in p.assignments] == ["Service", "Unit", "Service"]
    assert dict(p.section_lines) == {"Service": 1, "Unit": 3}


@pytest.mark.parametrize("header", [b"[Service", b"[Service] # c", b'[Ser"vice]'])
def test_bad_section_headers_are_fatal(header: bytes) -> None:
    values, _, fatal = parse(b"[Unit]\nA=1\n" + header + b"\nB=2\n")
    assert fatal == "3:UG-SYNTAX-HEADER"
    assert values == [("Unit", "A", "1", 2)]


def test_unknown_sections_warn_once_and_drop_their_keys() -> None:
    values, diags, _ = parse(b"[Bogus]\nA=1\n[X-Mine]\nB=2\n[Service]\nC=3\n")
    assert values == [("Service", "C", "3", 6)]
    assert diags == ["1:UG-SYNTAX-UNKNOWN-SECTION"]


def test_assignment_outside_section_and_missing_parts() -> None:
    _, diags, _ = parse(b"A=1\n[Service]\nNoEquals\n=value\n")
    assert diags == ["1:UG-SYNTAX-OUTSIDE-SECTION", "3:UG-SYNTAX-MISSING-EQUALS", "4:UG-SYNTAX-MISSING-KEY"]


def test_bom_is_stripped_once_but_not_before_the_comment_test() -> None:
    values, _, _ = parse(b"\xef\xbb\xbf[Service]\nA=1\n")
    assert values == [("Service", "A", "1", 2)]
    _, diags, _ = parse(b"\xef\xbb\xbf# comment\n[Service]\n")
    assert diags == ["1:UG-SYNTAX-OUTSIDE-SECTION"]
    values, diags, fatal = parse(b"\xef\xbb\xbf\xef\xbb\xbf[Service]\nA=1\n")
    # The second BOM stays, so "[Service]" is not a header and everything is outside a section.
    assert (values, fatal) == ([], None)
    assert diags == ["1:UG-SYNTAX-OUTSIDE-SECTION", "2:UG-SYNTAX-OUTSIDE-SECTION"]


def test_invalid_utf8_is_fatal_except_in_comments() -> None:
    assert parse(b"[Service]\n# \xff\nA=1\n")[2] is None
    assert parse(b"[Service]\nA=\xff\n")[2] == "2:UG-SYNTAX-UTF8"
    assert parse(b"[Service]\nA=\xef\xb7\x90\n")[2] == "2:UG-SYNTAX-UTF8"  # U+FDD0, a noncharacter


def test_line_length_limit() -> None:
    ok = b"[Service]\nA=" + b"x" * (LONG_LINE_MAX - 3) + b"\n"
    assert parse(ok)[2] is None
    too_long = b"[Service]\nA=" + b"x" * (LONG_LINE_MAX - 2) + b"\n"
    assert parse(too_long)[2] == "2:UG-SYNTAX-LINE-TOO-LONG"
