"""Quadlet's own unit-file parser (podman 5.4.2 `pkg/systemd/parser`), not systemd's.

Differences from systemd that matter here: lines split on `\\n` only, each physical line is trimmed
first, `\\` continues a line whatever precedes it and is removed (not replaced by a space), comments
and blank lines inside a continuation are skipped, and a key outside a group or a line without `=`
rejects the whole file.  Every assignment keeps the file:line of its first physical line.
"""

from __future__ import annotations

from unitgate import fsread
from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.quadlet.words import (
    EXEC_FLAGS,
    STRV_FLAGS,
    WHITESPACE_SEPARATORS,
    Split,
    SplitError,
    split_words,
)
from unitgate.records import dataclass, field

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Word splitting lives in words.py; its public names stay importable from here.
__all__ = [
    "EXEC_FLAGS",
    "GO_SPACE",
    "STRV_FLAGS",
    "WHITESPACE_SEPARATORS",
    "Group",
    "ParseResult",
    "QuadletFile",
    "QuadletParseError",
    "Split",
    "SplitError",
    "go_trim_right_space",
    "go_trim_space",
    "lookup",
    "lookup_all",
    "lookup_all_args",
    "lookup_all_key_val",
    "lookup_all_key_words",
    "lookup_all_strv",
    "lookup_boolean",
    "lookup_last_args",
    "lookup_last_assignment",
    "lookup_value",
    "parse_bool",
    "parse_file",
    "parse_text",
    "read_text",
    "split_words",
    "strip_quotes",
]


# Go's unicode.IsSpace; Python's str.isspace also accepts U+001C..U+001F, which Go does not trim.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_BYTES = frozenset(b"\t\n\v\f\r \x85\xa0")  # what `unicode.IsSpace(rune(byte))` accepts


def go_trim_space(s: str) -> str:
    """strings.TrimSpace."""
    start, end = 0, len(s)
    while start < end and s[start] in GO_SPACE:
        start += 1
    while end > start and s[end - 1] in GO_SPACE:
        end -= 1
    return s[start:end]


def go_trim_right_space(s: str) -> str:
    """strings.TrimRightFunc(s, unicode.IsSpace)."""
    end = len(s)
    while end > 0 and s[end - 1] in GO_SPACE:
        end -= 1
    return s[:end]


def _is_control(c: str) -> bool:
    o = ord(c)
    return o < 0x20 or 0x7F <= o <= 0x9F


@dataclass(frozen=True)
class Group:
    """One `[Name]` group after repeated headers are merged, lines in file order."""

    name: str
    lines: tuple[Assignment, ...]
    header: Location | None  # first header line; None for groups created by merging only


@dataclass(frozen=True)
class QuadletFile:
    """A parsed quadlet file (optionally with drop-ins merged in)."""

    path: str
    groups: tuple[Group, ...] = ()
    sources: tuple[str, ...] = ()  # files merged, in order
    headers: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (file, group) -> first line
    # Lookup's quote rule: False strips every leading/trailing `"` (5.0-5.8.1), True one matching pair
    # (5.8.2+); set by the converter from the release being modelled
    pair_quotes: bool = False

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def group(self, name: str) -> Group | None:
        for g in self.groups:
            if g.name == name:
                return g
        return None

    def lines(self, group: str) -> tuple[Assignment, ...]:
        g = self.group(group)
        return g.lines if g else ()

    def keys(self, group: str) -> tuple[str, ...]:
        """ListKeys: distinct keys in first-seen order."""
        seen: dict[str, None] = {}
        for a in self.lines(group):
            seen.setdefault(a.key, None)
        return tuple(seen)

    def merge(self, other: QuadletFile) -> QuadletFile:
        """UnitFile.Merge: append the other file's lines to the same-named groups."""
        groups = {g.name: g for g in self.groups}
        order = [g.name for g in self.groups]
        for g in other.groups:
            if g.name in groups:
                old = groups[g.name]
                groups[g.name] = Group(g.name, old.lines + g.lines, old.header or g.header)
            else:
                groups[g.name] = g
                order.append(g.name)
        headers = dict(self.headers)
        for k, v in other.headers.items():
            headers.setdefault(k, v)
        return QuadletFile(
            self.path,
            tuple(groups[n] for n in order),
            self.sources + other.sources,
            headers,
            self.pair_quotes,
        )


@dataclass(frozen=True)
class ParseResult:
    unit: QuadletFile | None  # None: quadlet refuses the file
    diagnostics: tuple[Diagnostic, ...] = ()


def _line_is_comment(line: str) -> bool:
    return not line or line[0] in "#;"


def _line_is_group(line: str) -> bool:
    if not line or line[0] != "[":
        return False
    end = line.find("]")
    return end != -1 and all(c in " \t" for c in line[end + 1 :])


def _split_key_value(line: str) -> tuple[str, str]:
    """parseKeyValuePair's byte-wise trimming (a key ending in the UTF-8 byte 0x85/0xA0 loses it)."""
    raw = line.encode("utf-8", "surrogateescape")
    key_end = raw.index(b"=")
    value_start = key_end + 1
    while key_end > 0 and raw[key_end - 1] in _GO_SPACE_BYTES:
        key_end -= 1
    while value_start < len(raw) and raw[value_start] in _GO_SPACE_BYTES:
        value_start += 1
    return (
        raw[:key_end].decode("utf-8", "surrogateescape"),
        raw[value_start:].decode("utf-8", "surrogateescape"),
    )


class QuadletParseError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_text(text: str, path: str) -> QuadletFile:
    """UnitFile.Parse; raises QuadletParseError with quadlet's message and the line it concerns."""
    lines = text.removesuffix("\n").split("\n")
    groups: dict[str, list[Assignment]] = {}
    order: list[str] = []
    headers: dict[tuple[str, str], int] = {}
    current: str | None = None
    remaining: list[str] = []  # non-empty pieces of a pending continuation (joined once: linear)
    start_line = 0  # first physical line of the pending continuation
    for idx, physical in enumerate(lines):
        lineno = idx + 1
        line = go_trim_space(physical)
        first = lineno
        if _line_is_comment(line):
            if remaining:
                continue  # comments and blank lines inside a continuation are skipped
        else:
            if line.endswith("\\"):
                line = line[:-1]
                if idx != len(lines) - 1:
                    if not remaining:
                        start_line = lineno
                    if line:
                        remaining.append(line)
                    continue
            if remaining:
                line = "".join(remaining) + line
                first = start_line
                remaining = []
        if _line_is_comment(line):
            continue
        if _line_is_group(line):
            name = line[1 : line.find("]")]
            if not name or any(c in "[]" or _is_control(c) for c in name):
                raise QuadletParseError(lineno, f"invalid group name: {name}")
            current = name
            if name not in groups:
                groups[name] = []
                order.append(name)
            headers.setdefault((path, name), lineno)
            continue
        eq = line.find("=")
        if eq <= 0:
            raise QuadletParseError(
                lineno,
                f"file contains line {lineno}: “{line}” which is not a key-value pair, group, or comment",
            )
        if current is None:
            raise QuadletParseError(lineno, "key file does not start with a group")
        key, value = _split_key_value(line)
        if not key or "=" in key or key[0] == " " or key[-1] == " ":
            raise QuadletParseError(lineno, f"invalid key name: {key}")
        groups[current].append(Assignment(current, key, value, Location(path, first)))
    # A continuation still open at EOF (only comments/blank lines followed it) is silently dropped.
    return QuadletFile(
        path,
        tuple(Group(n, tuple(groups[n]), Location(path, headers[(path, n)])) for n in order),
        (path,),
        headers,
    )


def read_text(path: str) -> str:
    """The file's text, read only inside its repository (fsread: regular files, bounded); else Refused."""
    return fsread.read_confined(path, fsread.boundary_for(path)).decode("utf-8", "surrogateescape")


def parse_file(path: str, display: str | None = None) -> ParseResult:
    """ParseUnitFile: a refused file gives an ERROR diagnostic worded like quadlet's."""
    shown = display or path
    try:
        text = read_text(path)
    except fsread.Refused as e:
        # Never quadlet's "error loading" wording with content: only the paths involved.
        r = e.refusal
        return ParseResult(None, (Diagnostic(Location(shown), r.message, Severity.ERROR, r.code),))
    except OSError as e:
        return ParseResult(
            None,
            (
                Diagnostic(
                    Location(shown), f"error loading {shown!r}, {e.strerror}", Severity.ERROR, "UGQ001"
                ),
            ),
        )
    try:
        return ParseResult(parse_text(text, shown))
    except QuadletParseError as e:
        msg = f'quadlet refuses the file: error loading "{shown}", {e.message}'
        return ParseResult(None, (Diagnostic(Location(shown, e.line), msg, Severity.ERROR, "UGQ001"),))


# ---------------------------------------------------------------------------------------------
# Lookups (unitfile.go); results keep the Assignment (file:line) each value came from.


def _apply_line_continuation(raw: str) -> str:
    return raw.replace("\\\n", "")  # values never contain newlines here; kept for fidelity


def lookup_last_assignment(unit: QuadletFile, group: str, key: str) -> Assignment | None:
    for a in reversed(unit.lines(group)):
        if a.key == key:
            return a
    return None


def strip_quotes(v: str, pair_only: bool) -> str:
    """Lookup's quote removal after trailing space: all `"` at both ends (5.0.0-5.8.1), or one
    matching surrounding pair (5.8.2+, so `"a" "b"` keeps its inner quotes)."""
    v = go_trim_right_space(v)
    if not pair_only:
        return v.strip('"')
    return v[1:-1] if len(v) >= 2 and v[0] == '"' and v[-1] == '"' else v


def lookup(unit: QuadletFile, group: str, key: str) -> Assignment | None:
    """Lookup: the last value, trailing space removed, quotes stripped as the file's release does."""
    a = lookup_last_assignment(unit, group, key)
    if a is None:
        return None
    v = strip_quotes(_apply_line_continuation(a.value), unit.pair_quotes)
    return Assignment(a.section, a.key, v, a.location)


def lookup_value(unit: QuadletFile, group: str, key: str) -> str | None:
    a = lookup(unit, group, key)
    return None if a is None else a.value


def parse_bool(v: str) -> bool:
    return v.lower() in ("1", "yes", "true", "on")


def lookup_boolean(unit: QuadletFile, group: str, key: str) -> tuple[bool, Assignment] | None:
    """LookupBoolean: anything but 1/yes/true/on (any case) is false, without an error."""
    a = lookup(unit, group, key)
    return None if a is None else (parse_bool(a.value), a)


def lookup_all(unit: QuadletFile, group: str, key: str) -> tuple[Assignment, ...]:
    """LookupAll: every value in order; an empty value drops all earlier ones."""
    out: list[Assignment] = []
    for a in unit.lines(group):
        if a.key == key:
            if a.value == "":
                out = []
            else:
                out.append(Assignment(a.section, a.key, _apply_line_continuation(a.value), a.location))
    return tuple(out)


def _split_each(values: Iterable[Assignment], flags: int, drop_on_error: bool) -> tuple[Assignment, ...]:
    out: list[Assignment] = []
    for a in values:
        try:
            words = split_words(a.value, flags)
        except SplitError:
            if drop_on_error:
                continue
            raise
        out.extend(Assignment(a.section, a.key, w, a.location) for w in words)
    return tuple(out)


def lookup_all_strv(unit: QuadletFile, group: str, key: str) -> tuple[Assignment, ...]:
    """LookupAllStrv: whitespace split keeping backslashes, quotes removed."""
    out: list[Assignment] = []
    for a in lookup_all(unit, group, key):
        try:
            words = split_words(a.value, STRV_FLAGS)
        except SplitError:
            # splitStringAppend returns the list as it was before this value on error
            continue
        out.extend(Assignment(a.section, a.key, w, a.location) for w in words)
    return tuple(out)


def lookup_all_args(unit: QuadletFile, group: str, key: str) -> tuple[Assignment, ...]:
    """LookupAllArgs: exec-like split with C unescaping; a value that fails to split is skipped."""
    return _split_each(lookup_all(unit, group, key), EXEC_FLAGS, drop_on_error=True)


def lookup_last_args(unit: QuadletFile, group: str, key: str) -> tuple[Assignment, ...] | None:
    """LookupLastArgs: the last value, exec-like split (None if absent or unsplittable)."""
    a = lookup_last_assignment(unit, group, key)
    if a is None:
        return None
    try:
        words = split_words(_apply_line_continuation(a.value), EXEC_FLAGS)
    except SplitError:
        return None
    return tuple(Assignment(a.section, a.key, w, a.location) for w in words)


def lookup_all_key_val(unit: QuadletFile, group: str, key: str) -> dict[str, Assignment]:
    """LookupAllKeyVal before 5.6: `K=V` words into a map, later keys win; words without `=` are
    ignored."""
    res: dict[str, Assignment] = {}
    for a in lookup_all_args(unit, group, key):
        k, sep, v = a.value.partition("=")
        if sep:
            res[k] = Assignment(a.section, k, v, a.location)
    return res


def lookup_all_key_words(unit: QuadletFile, group: str, key: str) -> dict[str, tuple[Assignment, bool]]:
    """LookupAllKeyVal (5.6+): like `lookup_all_key_val`, and a word without `=` maps to its line with
    `True` (podman gets `--env K`: the host's value)."""
    res: dict[str, tuple[Assignment, bool]] = {}
    for a in lookup_all_args(unit, group, key):
        k, sep, v = a.value.partition("=")
        res[k] = (Assignment(a.section, k, v, a.location), not sep)
    return res
