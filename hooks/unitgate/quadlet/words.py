"""Quadlet's word splitting (split.go, a port of systemd's extract_first_word): the flag sets the
lookups use and `split_words`. Positions, not string copies, keep long values linear."""

from __future__ import annotations


class Split:
    """split.go's flags: bits of an int (not an IntFlag: `enum` costs a hook run more than it gives)."""

    RELAX = 1
    CUNESCAPE = 2
    UNESCAPE_RELAX = 4
    UNESCAPE_SEPARATORS = 8
    KEEP_QUOTE = 16
    UNQUOTE = 32
    DONT_COALESCE_SEPARATORS = 64
    RETAIN_ESCAPE = 128
    RETAIN_SEPARATORS = 256


WHITESPACE_SEPARATORS = " \t\n\r"
EXEC_FLAGS = Split.RELAX | Split.UNQUOTE | Split.CUNESCAPE
STRV_FLAGS = Split.RETAIN_ESCAPE | Split.UNQUOTE


class SplitError(ValueError):
    pass


_HEX = "0123456789abcdefABCDEF"


def _c_unescape_one(p: str) -> tuple[int, str]:
    """cUnescapeOne without NUL: (chars consumed, character) or (-1, '')."""
    if not p:
        return -1, ""
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
    simple.update({"\\": "\\", '"': '"', "'": "'", "s": " "})
    c = p[0]
    if c in simple:
        return 1, simple[c]
    if c == "x":
        if len(p) < 3 or p[1] not in _HEX or p[2] not in _HEX or p[1:3] == "00":
            return -1, ""
        return 3, chr(int(p[1:3], 16))
    if c in "uU":
        n = 4 if c == "u" else 8
        digits = p[1 : 1 + n]
        if len(digits) < n or any(d not in _HEX for d in digits):
            return -1, ""
        v = int(digits, 16)
        if v == 0 or v > 0x10FFFF:
            return -1, ""
        return 1 + n, "\ufffd" if 0xD800 <= v <= 0xDFFF else chr(v)  # Go writes U+FFFD for surrogates
    if c in "01234567":
        digits = p[:3]
        if len(digits) < 3 or any(d not in "01234567" for d in digits):
            return -1, ""
        v = int(digits, 8)
        if v == 0 or v > 255:
            return -1, ""
        return 3, chr(v)
    return -1, ""


def _extract_first_word(s: str, p: int, n: int, seps: str, flags: int) -> tuple[str | None, int]:
    """One word starting at `p` and where the rest starts; None when there is no further word.

    `n` is where the input ends (Go marks the end with a 0 byte, so a NUL in the value ends it too).
    Positions, not the rest as a new string, keep splitting a long value linear. Raises SplitError."""
    out: list[str] = []
    quote = ""
    backslash = False
    if p >= n:
        return None, n
    # skip leading separators
    while p < n and s[p] in seps:
        if flags & Split.DONT_COALESCE_SEPARATORS:
            if not flags & Split.RETAIN_SEPARATORS:
                p += 1
            return "".join(out), p
        p += 1
    if p >= n:
        return None, n

    def word(rest_at: int) -> tuple[str | None, int]:
        return ("".join(out), rest_at) if out else (None, n)

    while True:
        c = s[p] if p < n else ""
        if backslash:
            if not c:
                if flags & Split.UNESCAPE_RELAX and (not quote or flags & Split.RELAX):
                    out.append("\\")
                    return word(n)
                if flags & Split.RELAX:
                    return word(n)
                raise SplitError("unbalanced escape")
            if flags & (Split.CUNESCAPE | Split.UNESCAPE_SEPARATORS):
                # The longest escape (\\UXXXXXXXX) is 9 characters: pass no more, or long values go quadratic.
                r, u = _c_unescape_one(s[p : p + 9]) if flags & Split.CUNESCAPE else (-1, "")
                if r > 0:
                    p += r - 1
                    out.append(u)
                elif flags & Split.UNESCAPE_SEPARATORS and (c in seps or c == "\\"):
                    out.append(c)
                elif flags & Split.UNESCAPE_RELAX:
                    out.append("\\" + c)
                else:
                    raise SplitError("unsupported escape char")
            else:
                out.append(c)
            backslash = False
            p += 1
        elif quote:
            while True:
                c = s[p] if p < n else ""
                if not c:
                    if flags & Split.RELAX:
                        return word(n)
                    raise SplitError("unbalanced quotes")
                if c == quote:
                    quote = ""
                    if flags & Split.UNQUOTE:
                        break
                elif c == "\\" and not flags & Split.RETAIN_ESCAPE:
                    backslash = True
                    break
                out.append(c)
                if not quote:
                    break
                p += 1
            p += 1
        else:
            while True:
                c = s[p] if p < n else ""
                if not c:
                    return word(n)
                if c in "'\"" and flags & (Split.KEEP_QUOTE | Split.UNQUOTE):
                    quote = c
                    if flags & Split.UNQUOTE:
                        break
                elif c == "\\" and not flags & Split.RETAIN_ESCAPE:
                    backslash = True
                    break
                elif c in seps:
                    if flags & Split.DONT_COALESCE_SEPARATORS:
                        if not flags & Split.RETAIN_SEPARATORS:
                            p += 1
                        return "".join(out), p
                    if not flags & Split.RETAIN_SEPARATORS:
                        while p < n and s[p] in seps:
                            p += 1
                        if p >= n:
                            return word(n)
                    return word(p)
                out.append(c)
                if quote:
                    break
                p += 1
            p += 1


def split_words(s: str, flags: int, seps: str = WHITESPACE_SEPARATORS) -> list[str]:
    """splitString. Like Go, an empty word (e.g. `""`) ends the list."""
    words: list[str] = []
    end = s.find("\0")
    end = len(s) if end < 0 else end
    pos = 0
    while True:
        w, pos = _extract_first_word(s, pos, end, seps, flags)
        if w is None:
            return words
        words.append(w)
