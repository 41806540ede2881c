"""The small grammars the engine reads with string methods (a hook run imports no `re` for them) accept
exactly what the regular expressions they replaced accept: every string up to four characters over
an alphabet of the characters that matter to them."""

from __future__ import annotations

import itertools
import re

import pytest

from unitgate.parse.dropins import link_target
from unitgate.security.directives import validated
from unitgate.security.directives.state import collapse_slashes, safe_atoi
from unitgate.security.words import WHITESPACE, Extract, split_words


def _strings(alphabet: str, longest: int = 4) -> list[str]:
    return ["".join(p) for n in range(longest + 1) for p in itertools.product(alphabet, repeat=n)]


def _old_safe_atoi(word: str) -> int | None:
    m = re.fullmatch(r"[ \t\n\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", word)
    if m is None:
        return None
    digits = m.group(2)
    if digits[:2].lower() in ("0x", "0o", "0b"):
        value = int(digits, 0)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    return -value if m.group(1) == "-" else value


def test_safe_atoi() -> None:
    for word in _strings("0178xXbOf+- \t٣_"):
        assert safe_atoi(word) == _old_safe_atoi(word), word


def test_collapse_slashes() -> None:
    for path in _strings("/a.", 6):
        assert collapse_slashes(path) == re.sub(r"/+", "/", path), path


def test_size_and_nice_limits() -> None:
    size = re.compile(r"[0-9]+(?:\.[0-9]+)?\s*[KMGTPE]?B?|[0-9]+")
    nice = re.compile(r"[+-]?[0-9]+")
    for part in _strings("09.KBT \u3000x+-٣"):
        assert (validated._size(part) is not None) == (size.fullmatch(part) is not None), part
        ok = nice.fullmatch(part) is not None and (
            -20 <= int(part) <= 19 if part[0] in "+-" else 0 <= int(part) <= 40
        )
        assert validated._rlimit_part_is_valid("nice", part) == ok, part
        magnitude = re.fullmatch(r"([0-9]+)\s*([KMGTPE])B?", part)
        if part.isascii() and part.isdigit():
            continue  # a plain number is compared as itself before any unit is looked for
        expected = (
            float(magnitude[1]) * float(1024 ** ("KMGTPE".index(magnitude[2]) + 1)) if magnitude else None
        )
        assert validated._rlimit_magnitude(part) == expected, part


def test_time_span_numbers() -> None:
    number = re.compile(r"[0-9]*(?:\.[0-9]*)?")
    for text in _strings("09.s \u0663", 5):
        for pos in range(len(text) + 1):
            match = number.match(text, pos)  # always matches (it may be empty)
            assert match is not None
            assert validated._number_end(text, pos) == match.end(), (text, pos)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("/dev/null", "/dev/null"),
        ("foo.service", "foo.service"),
        ("../x/foo.service", "../x/foo.service"),
        ("foo.service\n", None),
        ("foo .service", None),
        ("foo\u00a0.service", None),  # \s is Unicode whitespace, and so is str.split()'s
        ("a=b.service", None),
        ("[Unit]", None),
        ("#.service", None),
        ("x;.service", None),
    ],
)
def test_a_checked_out_symlink_is_one_word(tmp_path: object, text: str, target: str | None) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "alias.service"
    path.write_text(text, encoding="utf-8")
    assert link_target(str(path)) == target


def test_words_without_quotes_or_escapes_split_at_separators() -> None:
    for value in _strings("a \t'\"", 5):
        if "\\" in value or "'" in value or '"' in value:
            continue
        expected = [w for w in re.split("[" + WHITESPACE + "]", value) if w]
        assert split_words(value) == expected, value
        assert split_words(value, Extract.UNQUOTE | Extract.CUNESCAPE) == expected, value
    for value in _strings("a:'\"", 5):  # quotes are plain characters unless unquoting
        assert split_words(value, separators=":") == [w for w in value.split(":") if w], value


def test_words_cost_time_in_their_own_length() -> None:
    """A stop that never comes again is not sought to the end of the value at every word."""
    import time

    for value in ("a " * 200_000, "a\\ " * 100_000, '"a" ' * 100_000):
        started = time.perf_counter()
        words = split_words(value, Extract.UNQUOTE)
        assert len(words) in (200_000, 1, 100_000)
        assert time.perf_counter() - started < 5  # quadratic: minutes
