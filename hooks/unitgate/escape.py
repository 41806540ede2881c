"""The one escaping layer between repository content and whoever reads unitgate's output.

Paths, unit names, values and policy strings come from the repository under check, which in CI belongs
to whoever opened the pull request. Everything unitgate prints goes through here:

- `text(s)`: control characters (C0, DEL, C1), line and paragraph separators, and the invisible
  bidirectional controls become visible escapes (`\\x1b`, `\\u202e`), so no value can move the
  cursor, recolour the terminal, hide text, or start a new line; `##[` becomes `##\\x5b`, because the
  GitHub runner obeys its legacy `##[command]` syntax anywhere in a line of the log.
- `path(p)`: `text(p)`, and `./` in front when the path would otherwise begin with `::` (after leading
  blanks, which the runner skips), so no line that begins with a path can be read as a workflow command.
- `bounded(s)`: at most `limit` characters, the rest replaced by a marker that says how much was cut.
- `json_text(doc)`: a serialized JSON document with the same characters written as `\\uXXXX` escapes:
  the same values for a JSON reader, nothing raw for a terminal or the runner.

Imports nothing of unitgate's, so every layer (engine messages, gate, reporters, the CLI) can use it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

# C0 controls (TAB included: a tab inside a value is as invisible as any other), DEL, C1, the line and
# paragraph separators, the zero-width and bidirectional formatting characters (the "Trojan Source"
# set) and the byte-order mark.
# Every one of them is outside `str.isprintable()` (categories Cc, Cf, Zl, Zp), so printable text, by
# far the most common, skips the pattern (compiled on first use: a hook run usually never needs it).
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
_LEGACY_COMMAND = "##["  # actions/runner ActionCommand.TryParse: found anywhere in a line
_COMMAND = "::"  # actions/runner ActionCommand.TryParseV2: at the start, after TrimStart()

MESSAGE_LIMIT = 2000  # characters of one finding's message (GitHub cuts annotations at 4096)
VALUE_LIMIT = 200  # characters of one quoted repository value inside a message


def _visible(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def text(value: str) -> str:
    """`value` with nothing a terminal or the GitHub runner would act on."""
    if not value.isprintable():
        import re  # only unprintable text needs it: `re` (with enum, functools) is ~7 ms of a hook start

        value = re.sub(_UNSAFE, _visible, value)
    return value.replace(_LEGACY_COMMAND, "##\\x5b")


def path(value: str) -> str:
    """A path for the start of a line: `text(value)`, never beginning with `::`."""
    shown = text(value)
    return "./" + shown if shown.lstrip().startswith(_COMMAND) else shown


def plain_line(line: str) -> str:
    """A line of plain (non-command) output, made unable to start a workflow command; lines built from
    `text`/`path` already are, this is the last guard for the `github` format."""
    line = text(line)
    return "./" + line if line.lstrip().startswith(_COMMAND) else line


def bounded(value: str, limit: int = VALUE_LIMIT) -> str:
    """At most `limit` characters (plus the marker): long repository values are cut, never dropped."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}…[{len(value) - limit} more characters]"


def quote(value: str, limit: int = VALUE_LIMIT) -> str:
    """A repository value for a message: bounded, then escaped."""
    return text(bounded(value, limit))


_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"  # unprintable too


def json_text(document: str) -> str:
    """A JSON text (as `json.dumps` writes it: C0 already escaped) with every other unsafe character
    written as a `\\uXXXX` escape and `##[` as `##\\u005b`: the same document to any JSON reader."""
    # json.dumps writes ASCII unless told otherwise: then only DEL can need an escape (checks in O(1)
    # and one memchr, where isprintable() reads every character).
    unsafe = not document.isascii() or "\x7f" in document
    if unsafe and not document.isprintable():
        import re

        document = re.sub(_JSON_UNSAFE, lambda m: f"\\u{ord(m[0]):04x}", document)
    # "#" is rare in a unit's JSON, and looking for one character is far cheaper than for three.
    return document.replace(_LEGACY_COMMAND, "##\\u005b") if "#" in document else document
