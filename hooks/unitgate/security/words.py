"""Word splitting and specifier expansion, as systemd's extract_first_word() and unit_full_printf() do."""

from __future__ import annotations

from unitgate.parse import unitname
from unitgate.records import dataclass

WHITESPACE = " \t\n\r"


class Extract:
    """The extract_first_word() flags the parsers here use: bits of an int (plain ints, not an
    IntFlag: building an enum class costs a hook run more than every lookup of these saves)."""

    NONE = 0
    UNQUOTE = 1  # "…" and '…' group a word; the quotes are removed
    RELAX = 2  # an unbalanced quote or trailing backslash ends the word instead of failing
    CUNESCAPE = 4  # decode C escapes
    UNESCAPE_RELAX = 8  # keep unknown escapes verbatim


class WordError(ValueError):
    """Unbalanced quotes or a dangling backslash (-EINVAL in systemd)."""


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "s": " ",
}


def _cunescape_one(s: str, i: int) -> tuple[str, int] | None:
    """Decode the escape whose letter is at s[i]; returns (text, characters consumed) or None."""
    c = s[i]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], 1
    for letter, width, base in (("x", 2, 16), ("u", 4, 16), ("U", 8, 16)):
        if c == letter:
            digits = s[i + 1 : i + 1 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                return None
            value = int(digits, base)
            if value == 0 or value > 0x10FFFF:
                return None
            return chr(value), width + 1
    if c in "01234567":
        digits = s[i : i + 3]
        if len(digits) != 3 or any(d not in "01234567" for d in digits):
            return None
        value = int(digits, 8)
        if value == 0 or value > 255:
            return None
        return chr(value), 3
    return None


def split_words(value: str, flags: int = Extract.NONE, separators: str = WHITESPACE) -> list[str]:
    """All words of `value`; raises WordError where systemd's extract_first_word() fails."""
    if "\\" not in value and not (flags & Extract.UNQUOTE and ('"' in value or "'" in value)):
        # Nothing to unescape or unquote (most values): the words are the runs between separators.
        if not separators:
            return [value] if value else []
        for other in separators[1:]:
            value = value.replace(other, separators[0])
        return [word for word in value.split(separators[0]) if word]
    words: list[str] = []
    pos: int | None = 0
    while pos is not None:
        word, pos = extract_first_word(value, pos, flags, separators)
        if word is not None:
            words.append(word)
    return words


def _run_end(value: str, start: int, stops: str) -> int:
    """Where the run from `start` ends: the first of `stops` found, else the end. C-level searches, one
    per stop, over a window that grows fourfold while nothing is found: a run costs time in its own
    length, never in the length of the rest of the value (a stop that never comes again is not sought
    to the end at every word)."""
    n = len(value)
    low, width = start, 64
    while True:
        high = min(n, low + width)
        end = high
        for stop in stops:
            found = value.find(stop, low, end)
            if found >= 0:
                end = found
        if end < high or high == n:
            return end
        low, width = high, width * 4


def extract_first_word(
    value: str, pos: int, flags: int = Extract.NONE, separators: str = WHITESPACE
) -> tuple[str | None, int | None]:
    """The next word from `pos`, and where to continue (None at the end), like extract_first_word()."""
    i, n = pos, len(value)
    while i < n and value[i] in separators:
        i += 1
    if i >= n:
        return None, None
    end = _run_end(value, i, separators)
    run = value[i:end]
    if "\\" not in run and not (flags & Extract.UNQUOTE and ('"' in run or "'" in run)):
        # Nothing to unescape or unquote before the next separator (most words): the word is that run.
        while end < n and value[end] in separators:
            end += 1
        return run, (end if end < n else None)
    plain = "\\'\"" + separators  # what ends a run of characters that stand for themselves
    word: list[str] = []
    quote = ""
    while True:
        if i >= n:
            if quote and not flags & Extract.RELAX:
                raise WordError("unbalanced quotes")
            return "".join(word), None
        c = value[i]
        if c == "\\":
            i += 1
            if i >= n:
                if flags & Extract.UNESCAPE_RELAX and (not quote or flags & Extract.RELAX):
                    word.append("\\")
                elif not flags & Extract.RELAX:
                    raise WordError("trailing backslash")
                return "".join(word), None
            if flags & Extract.CUNESCAPE:
                decoded = _cunescape_one(value, i)
                if decoded is not None:
                    word.append(decoded[0])
                    i += decoded[1]
                    continue
                if not flags & Extract.UNESCAPE_RELAX:
                    raise WordError(f"invalid escape sequence '\\{value[i]}'")
                word.append("\\" + value[i])
            else:
                word.append(value[i])
            i += 1
        elif quote:
            if c == quote:
                quote = ""
            else:
                word.append(c)
            i += 1
        elif c in "'\"" and flags & Extract.UNQUOTE:
            quote = c
            i += 1
        elif c in separators:
            while i < n and value[i] in separators:
                i += 1
            return "".join(word), (i if i < n else None)
        else:
            end = max(_run_end(value, i, plain), i + 1)  # i itself: a quote character kept as it is
            word.append(value[i:end])
            i = end


class SpecifierError(ValueError):
    """A `%x` that systemd does not know (-EBADSLT)."""


@dataclass(frozen=True)
class UnitContext:
    """What specifiers expand to for one unit, offline, in the system manager."""

    name: str  # e.g. foo@i.service
    fragment: str | None = None
    scope: str = "system"

    def expand(self, text: str) -> str:
        if "%" not in text:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c != "%":
                out.append(c)
                i += 1
                continue
            if i + 1 >= len(text):
                out.append("%")  # a trailing "%" is kept as is
                break
            spec = text[i + 1]
            if not (spec.isascii() and spec.isalnum()) and spec != "%":
                out.append("%" + spec)  # only "%" + a letter or digit is a specifier
                i += 2
                continue
            value = self._specifier(spec)
            if value is None:
                raise SpecifierError(f"unknown specifier '%{spec}'")
            out.append(value)
            i += 2
        return "".join(out)

    def _specifier(self, spec: str) -> str | None:
        prefix = unitname.prefix_of(self.name)
        instance = unitname.instance_of(self.name) or ""
        stem = unitname.split_type(self.name)[0]
        last = prefix.rsplit("-", 1)[-1] if "-" in prefix else ""
        user_scope = self.scope == "user"
        # Host-dependent values get fixed stand-ins: only files in the repository may decide a verdict.
        table = {
            "%": "%",
            "i": instance,
            "I": unescape(instance),
            "j": last,
            "J": unescape(last),
            "n": self.name,
            "N": stem,
            "p": prefix,
            "P": unescape(prefix),
            "f": "/" + unescape(instance or prefix),
            "y": self.fragment or "",
            "Y": (self.fragment or "").rpartition("/")[0],
            "c": "",
            "r": "",
            "R": "",
            "C": "/var/cache",
            "d": f"/run/credentials/{self.name}",
            "E": "/etc",
            "L": "/var/log",
            "S": "/var/lib",
            "t": "/run",
            "h": "/root",
            "s": "/bin/sh",
            "a": "x86-64",
            "A": "",
            "b": "00000000000000000000000000000000",
            "B": "",
            "H": "localhost",
            "l": "localhost",
            "q": "localhost",
            "m": "00000000000000000000000000000000",
            "M": "",
            "o": "linux",
            "v": "",
            "w": "",
            "W": "",
            "g": "root",
            "G": "0",
            "u": "root",
            "U": "0",
            "T": "/tmp",
            "V": "/var/tmp",
        }
        if user_scope:
            table.update(g="user", G="1000", u="user", U="1000", h="/home/user")
        return table.get(spec)


def unescape(text: str) -> str:
    """unit_name_unescape(): "\\xNN" sequences back to characters, "-" to "/"."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "-":
            out.append("/")
        elif c == "\\" and text[i + 1 : i + 2] == "x" and len(text) >= i + 4:
            try:
                out.append(chr(int(text[i + 2 : i + 4], 16)))
                i += 4
                continue
            except ValueError:
                out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)
