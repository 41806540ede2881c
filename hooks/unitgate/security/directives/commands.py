"""ExecStart= and the other command lines: counted and validated as config_parse_exec() does."""

from __future__ import annotations

from unitgate.model import Assignment, Location
from unitgate.parse.unitfile import UNSAFE_CHARS
from unitgate.security.directives.state import NOTICE, OK, Handler, Outcome, UnitState, fatal, warn
from unitgate.security.releases import ADDED_IN
from unitgate.security.words import (
    WHITESPACE,
    Extract,
    SpecifierError,
    UnitContext,
    WordError,
    extract_first_word,
)

_EXEC_WORD = Extract.UNQUOTE | Extract.CUNESCAPE


def _exec_word(value: str, pos: int) -> tuple[str | None, int | None, bool]:
    """extract_first_word_and_warn(): an unknown escape is kept (with a warning), not an error."""
    try:
        word, nxt = extract_first_word(value, pos, _EXEC_WORD)
        return word, nxt, False
    except WordError as exc:
        if "escape" not in str(exc):
            raise
    word, nxt = extract_first_word(value, pos, _EXEC_WORD | Extract.UNESCAPE_RELAX)
    return word, nxt, True


def _exec_prefixes(word: str) -> tuple[str, bool, bool]:
    """Strip config_parse_exec()'s prefix characters; a repeated or conflicting one ends the prefix."""
    ignore = argv0 = no_env = plus = bang = bang2 = False
    end = len(word)
    for i, c in enumerate(word):
        if c == "-" and not ignore:
            ignore = True
        elif c == "@" and not argv0:
            argv0 = True
        elif c == ":" and not no_env:
            no_env = True
        elif c == "+" and not (plus or bang or bang2):
            plus = True
        elif c == "!" and not (plus or bang2):
            bang2, bang = bang, True
        else:
            end = i
            break
    return word[end:], ignore, argv0


def _parse_commands(value: str, ctx: UnitContext) -> tuple[int, str | None, bool, bool]:
    """Count the commands on an Exec*= line: (count, error, error is ignorable, escape warning)."""
    count, pos, warned = 0, 0, False
    n = len(value)
    while True:
        try:
            first, nxt, w = _exec_word(value, pos)
        except WordError:
            return count, "unbalanced quoting in the executable path", True, warned
        warned |= w
        if first is None:
            return count, None, False, warned
        pos = nxt if nxt is not None else n
        if first == ";":
            continue
        path, ignore, argv0 = _exec_prefixes(first)
        if not path:
            return count, "empty executable path", ignore, warned
        try:
            path = ctx.expand(path)
        except SpecifierError as exc:
            return count, str(exc), ignore, warned
        if path.endswith("/"):
            return count, "executable path specifies a directory", ignore, warned
        if not UNSAFE_CHARS.isdisjoint(path):
            return count, "executable name contains special characters", ignore, warned
        if not path.startswith("/") and ("/" in path or path in (".", "..") or len(path) > 255):
            return count, "neither a valid executable name nor an absolute path", ignore, warned
        args = 0
        while pos < n:
            while pos < n and value[pos] in WHITESPACE:
                pos += 1
            if pos >= n:
                break
            rest = value[pos : pos + 3]  # enough to tell ";" and "\\;" (copying the whole rest is quadratic)
            if rest[0] == ";" and (len(rest) == 1 or rest[1] in WHITESPACE):
                pos += 1
                break
            if rest.startswith("\\;") and (len(rest) == 2 or rest[2] in WHITESPACE):
                pos += 2
                args += 1
                continue
            try:
                word, nxt, w = _exec_word(value, pos)
            except WordError:
                return count, "unbalanced quoting", ignore, warned
            warned |= w
            pos = nxt if nxt is not None else n
            if word is None:
                break
            try:
                ctx.expand(word)
            except SpecifierError as exc:
                return count, str(exc), ignore, warned
            args += 1
        if argv0 and args == 0:
            return count, "empty executable name or zeroeth argument", ignore, warned
        count += 1
        if pos >= n:
            return count, None, False, warned


def _double_bang(value: str) -> bool:
    """Does a command on the line start with the old `!!` (ambient capabilities) prefix?"""
    start = True
    for token in value.split():
        if start:
            prefix = token[: len(token) - len(token.lstrip("-@:+!|"))]
            if "!!" in prefix and "+" not in prefix.partition("!!")[0]:
                return True
        start = token == ";"
    return False


def exec_lines(attr: str | None) -> Handler:
    """ExecStart= and friends: count commands (where service_verify() needs them) and refuse what
    systemd refuses."""

    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        commands: list[Location] = getattr(state, attr) if attr else []
        if not a.value:
            commands.clear()
            return OK
        count, error, ignorable, warned = _parse_commands(a.value, ctx)
        commands.extend([a.location] * count)
        diags = warn(a, "unknown escape sequences kept as they are").diagnostics if warned else ()
        if state.release.has("exec_double_bang_ignored") and _double_bang(a.value):
            notice = f"the !! prefix is ignored since systemd {ADDED_IN['exec_double_bang_ignored']}"
            diags += warn(a, notice, NOTICE, ignored=False).diagnostics
        if error is None:
            return Outcome(diags)
        if ignorable:
            return Outcome(diags + warn(a, f"{error}, ignored").diagnostics, ignored=count == 0)
        refusal = fatal(a, error)
        return Outcome(diags + refusal.diagnostics, fatal=True)

    return handle
