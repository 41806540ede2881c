"""systemd's unit-file syntax, as `config_parse()` in systemd 252 applies it.

Only syntax lives here: physical lines, comments, continuations, section headers and the split at `=`.
What a value means is decided per directive in `unitgate.security.settings`.
"""

from __future__ import annotations

from unitgate.memo import pattern
from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterator

LONG_LINE_MAX = 1024 * 1024  # systemd's LONG_LINE_MAX: one byte less is the longest line it reads
BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\n\r"  # systemd's WHITESPACE, used by strstrip()
_COMMENTS = b"#;"
_LINE_END = rb"\r\n|\r|\n|\0"  # read_line() accepts all four

# Codes of syntax diagnostics; the gate maps them to rule ids.
LINE_TOO_LONG = "UG-SYNTAX-LINE-TOO-LONG"
INVALID_UTF8 = "UG-SYNTAX-UTF8"
BAD_HEADER = "UG-SYNTAX-HEADER"
UNKNOWN_SECTION = "UG-SYNTAX-UNKNOWN-SECTION"
OUTSIDE_SECTION = "UG-SYNTAX-OUTSIDE-SECTION"
MISSING_EQUALS = "UG-SYNTAX-MISSING-EQUALS"
MISSING_KEY = "UG-SYNTAX-MISSING-KEY"
TOO_MANY = "UG-INPUT-TOO-MANY-DIAGNOSTICS"
# Warnings kept per file: a file of millions of junk lines must not cost gigabytes of diagnostics
# (the rest are counted, in one summary diagnostic). Errors are always kept: they end the file.
MAX_DIAGNOSTICS = 1000


def too_many(path: str, dropped: int) -> Diagnostic:
    """The summary that stands for the warnings of a file past MAX_DIAGNOSTICS."""
    message = f"{dropped} more warnings in this file are not listed (only the first {MAX_DIAGNOSTICS} are)"
    return Diagnostic(Location(path), message, Severity.WARNING, TOO_MANY)


@dataclass(frozen=True)
class ParsedFile:
    """One unit file or drop-in, read the way systemd reads it.

    `fatal` is set when systemd stops reading the file at that line: a main unit file then fails to
    load (state "error"); for a drop-in, only the lines before it apply.
    """

    path: str
    assignments: tuple[Assignment, ...]
    section_lines: tuple[tuple[str, int], ...]  # (section, line of its first header)
    diagnostics: tuple[Diagnostic, ...]
    fatal: Diagnostic | None = None


def physical_lines(data: bytes) -> Iterator[bytes]:
    """Split like read_line(): "\\n", "\\r", "\\r\\n" and NUL each end a line; no empty tail line."""
    if b"\0" not in data:
        yield from data.splitlines()  # bytes.splitlines() knows exactly \n, \r and \r\n
        return
    start = 0
    for m in pattern(_LINE_END).finditer(data):
        yield data[start : m.start()]
        start = m.end()
    if start < len(data):
        yield data[start:]


def _is_valid_utf8(raw: bytes) -> str | None:
    """Decode as systemd's utf8_is_valid() would accept it, else None.

    Python rejects overlong forms and surrogates already; systemd also rejects the noncharacters
    U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isascii():
        return text
    for ch in text:
        o = ord(ch)
        if 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE:
            return None
    return text


# What string_is_safe() refuses: control characters, quotes, backslash and DEL (a set: tested in C).
UNSAFE_CHARS = frozenset([chr(c) for c in range(0x20)] + ['"', "'", "\\", "\x7f"])


def _string_is_safe(name: str) -> bool:
    """string_is_safe(): no control characters, quotes, backslash or DEL."""
    return UNSAFE_CHARS.isdisjoint(name)


def _logical_lines(data: bytes) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, logical line) pairs as config_parse() forms them.

    A `None` line means the physical line at that number is too long (systemd stops there).
    """
    bom_seen = False
    continuation: bytes | None = None
    line = 0
    for buf in physical_lines(data):
        if len(buf) >= LONG_LINE_MAX:
            yield line + 1, None
            return
        line += 1
        # The comment test looks at the raw buffer, before the BOM is stripped (a BOM-prefixed comment
        # on line 1 is therefore not a comment) and before continuation handling (comments inside a
        # continuation are dropped).
        stripped = buf.lstrip(_WHITESPACE)
        if stripped[:1] and stripped[:1] in _COMMENTS:
            continue
        chunk = buf
        if not bom_seen and buf.startswith(BOM):
            chunk = buf[len(BOM) :]
            bom_seen = True
        if continuation is not None:
            if len(continuation) + len(chunk) > LONG_LINE_MAX:
                yield line, None
                return
            logical = continuation + chunk
        else:
            logical = chunk
        if logical.endswith(b"\\") and _ends_escaped(logical):
            # The escaping backslash becomes a space; the next physical line is appended raw.
            continuation = logical[:-1] + b" "
            continue
        continuation = None
        yield line, logical
    if continuation is not None:
        yield line + 1, continuation


def _ends_escaped(logical: bytes) -> bool:
    """True when the line ends in an odd run of backslashes (each backslash escapes the next char)."""
    if not logical.endswith(b"\\"):
        return False
    run = len(logical) - len(logical.rstrip(b"\\"))
    return run % 2 == 1


def _stripped_lines(data: bytes) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, None) for each non-empty logical line, stripped; (line number, "", code)
    for the line where systemd stops reading (LINE_TOO_LONG, INVALID_UTF8), and nothing after it."""
    for line, logical in _logical_lines(data):
        if logical is None:
            yield line, "", LINE_TOO_LONG
            return
        raw = logical.strip(_WHITESPACE)
        if not raw:
            continue
        text = _is_valid_utf8(raw)
        if text is None:
            yield line, "", INVALID_UTF8
            return
        yield line, text, None


_PLAIN_EXCLUDED = (b"\0", b"\r", b"\\")


def _plain_lines(data: bytes) -> list[tuple[int, str, None]] | None:
    """_stripped_lines() for the common file, in one pass: ASCII (so valid UTF-8, no BOM), "\n"
    line ends only, no backslash (so no continuation) and shorter than a long line. None for any
    other file, which takes the general path."""
    if len(data) >= LONG_LINE_MAX or not data.isascii() or any(b in data for b in _PLAIN_EXCLUDED):
        return None
    out = []
    for line, physical in enumerate(data.decode("ascii").split("\n"), 1):
        text = physical.strip(" \t\n\r")
        if text and text[0] not in "#;":  # a comment line: its first non-blank character
            out.append((line, text, None))
    return out


def parse_unit_bytes(data: bytes, path: str, sections: frozenset[str]) -> ParsedFile:
    """Parse a unit file's bytes; `sections` are the section names valid for the unit type."""
    assignments: list[Assignment] = []
    headers: dict[str, int] = {}
    diags: list[Diagnostic] = []
    section: str | None = None
    section_ignored = False
    dropped = 0

    def diag(line: int, message: str, code: str, severity: Severity = Severity.WARNING) -> Diagnostic:
        nonlocal dropped
        d = Diagnostic(Location(path, line), message, severity, code)
        if len(diags) < MAX_DIAGNOSTICS or severity is Severity.ERROR:
            diags.append(d)
        else:
            dropped += 1
        return d

    def done(fatal: Diagnostic | None = None) -> ParsedFile:
        summary = (too_many(path, dropped),) if dropped else ()
        return ParsedFile(path, tuple(assignments), tuple(headers.items()), (*diags, *summary), fatal)

    lines = _plain_lines(data)
    for line, text, error in _stripped_lines(data) if lines is None else lines:
        if error == LINE_TOO_LONG:
            message = "line too long (systemd reads at most 1 MiB per line)"
            return done(diag(line, message, LINE_TOO_LONG, Severity.ERROR))
        if error == INVALID_UTF8:
            return done(diag(line, "line is not valid UTF-8", INVALID_UTF8, Severity.ERROR))
        if text.startswith("["):
            if not text.endswith("]") or len(text) < 2:
                return done(diag(line, f"invalid section header '{text}'", BAD_HEADER, Severity.ERROR))
            name = text[1:-1]
            if not _string_is_safe(name):
                return done(
                    diag(line, f"bad characters in section header '{text}'", BAD_HEADER, Severity.ERROR)
                )
            if name in sections:
                section, section_ignored = name, False
                headers.setdefault(name, line)
            else:
                if not name.startswith("X-"):
                    diag(line, f"unknown section '{name}', ignored", UNKNOWN_SECTION)
                section, section_ignored = None, True
            continue
        if section is None:
            if not section_ignored:
                diag(line, "assignment outside of any section, ignored", OUTSIDE_SECTION)
            continue
        key, eq, value = text.partition("=")
        if not eq:
            diag(line, "missing '=', line ignored", MISSING_EQUALS)
            continue
        if not key:
            diag(line, "missing key name before '=', line ignored", MISSING_KEY)
            continue
        assignments.append(
            Assignment(section, key.strip(" \t\n\r"), value.strip(" \t\n\r"), Location(path, line))
        )
    return done()
