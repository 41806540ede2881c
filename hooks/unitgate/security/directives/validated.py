"""Directives that do not change the score but whose bad values systemd warns about.

Keyed by systemd's parser name (keys.KEYS / Release.directive), so every directive using a parser gets
its warnings: Documentation= that is not a URL, Environment= that is not KEY=VALUE, relative paths
(EnvironmentFile=, ReadWritePaths= and friends, Condition*/Assert* paths), time spans, resource
limits, CPUQuota=, StandardOutput=/StandardError= (and the obsolete `syslog`), KillMode=none. The
values are not kept: nothing scored depends on them. (KillMode=none's notice is in flags.py, with the
parser that keeps KillMode=.)
"""

from __future__ import annotations

from unitgate.memo import pattern
from unitgate.model import Assignment, Diagnostic
from unitgate.security.directives.state import (
    NOTICE,
    OK,
    Handler,
    Outcome,
    UnitState,
    decimal,
    path_problem,
    warn,
)
from unitgate.security.words import Extract, SpecifierError, UnitContext, WordError, split_words

_TIME_UNITS = (  # parse_time()'s table: the first unit that prefixes the rest wins
    *("seconds", "second", "sec", "s", "minutes", "minute", "min", "months", "month", "M"),
    *("msec", "ms", "m", "hours", "hour", "hr", "h", "days", "day", "d", "weeks", "week", "w"),
    *("years", "year", "y", "usec", "us", "μs", "µs"),
)
_WS = " \t\n\r"


def _digits_end(s: str, pos: int) -> int:
    """Where the run of ASCII digits from `pos` ends."""
    end, n = pos, len(s)
    while end < n and "0" <= s[end] <= "9":
        end += 1
    return end


def _number_end(s: str, pos: int) -> int:
    """Where parse_time()'s number from `pos` ends: digits, then optionally "." and more digits."""
    end = _digits_end(s, pos)
    return _digits_end(s, end + 1) if s.startswith(".", end) else end


def time_span_is_valid(text: str) -> bool:
    """parse_sec(): "infinity", or numbers each followed by an optional unit (seconds by default)."""
    s = text.strip(_WS)
    if s == "infinity":
        return True
    if not s:
        return False
    pos = 0
    while pos < len(s):
        rest = s[pos:].lstrip(_WS)
        if not rest:
            break
        pos = len(s) - len(rest)
        end = _number_end(s, pos)
        if end == pos or s[pos:end] == ".":
            return False
        pos = len(s) - len(s[end:].lstrip(_WS))
        unit = next((u for u in _TIME_UNITS if s.startswith(u, pos)), "")
        pos += len(unit)
    return True


def _time(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if time_span_is_valid(a.value):
        return OK
    return warn(a, "not a time span, ignored")


def _time_or_empty(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Timeouts whose empty value resets to the default."""
    return OK if not a.value.strip(_WS) else _time(state, a, ctx)


_RLIMIT_KIND = {
    "RLIMIT_CPU": "sec",
    "RLIMIT_RTTIME": "usec",
    "RLIMIT_NICE": "nice",
    **dict.fromkeys(
        ("RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_AS"), "size"
    ),
    **dict.fromkeys(("RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE"), "size"),
}


def _rlimit_part_is_valid(kind: str, part: str) -> bool:
    if part == "infinity":
        return True
    if kind in ("sec", "usec"):
        return time_span_is_valid(part)
    if kind == "nice":
        digits = part[1:] if part.startswith(("+", "-")) else part
        if not (digits.isascii() and digits.isdigit()):
            return False
        value = -decimal(digits) if part.startswith("-") else decimal(digits)
        return -20 <= value <= 19 if part[0] in "+-" else 0 <= value <= 40
    if kind == "size":
        return _size(part) is not None
    return part.isascii() and part.isdigit()


def _size(part: str) -> tuple[str, str] | None:
    """A size as the limits read it, split into its number and its unit letter ("" for none): digits,
    optionally "." and digits, blanks, then optionally one of KMGTPE and optionally "B"."""
    end = _digits_end(part, 0)
    if end == 0:
        return None
    if part.startswith(".", end):
        fraction = _digits_end(part, end + 1)
        if fraction == end + 1:
            return None
        end = fraction
    rest = part[end:].lstrip()
    unit = rest[:1] if rest[:1] and rest[:1] in "KMGTPE" else ""
    return (part[:end], unit) if rest[len(unit) :] in ("", "B") else None


def _rlimit(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Limit*=: VALUE or SOFT:HARD, each a number (sizes and times for some limits) or infinity;
    a soft limit above the hard one is refused too."""
    kind = _RLIMIT_KIND.get(_rlimit_name(state, a), "number")
    parts = a.value.split(":")
    if len(parts) > 2 or not all(_rlimit_part_is_valid(kind, p) for p in parts):
        return warn(a, "not a resource limit, ignored")
    if len(parts) == 2:
        soft, hard = (_rlimit_magnitude(p) for p in parts)
        if (parts[0] == "infinity" and parts[1] != "infinity") or (
            soft is not None and hard is not None and soft > hard
        ):
            return warn(a, "the soft limit is above the hard limit, ignored")
    return OK


def _rlimit_magnitude(part: str) -> float | None:
    """A comparable size of one limit (None where the comparison is not obvious)."""
    if part == "infinity":
        return float("inf")
    if part.isascii() and part.isdigit():
        return float(part)
    size = _size(part)
    if size is not None and size[0].isdigit() and size[1]:  # whole number and a unit: 512K, 4 GB
        return float(size[0]) * float(1024 ** ("KMGTPE".index(size[1]) + 1))
    return None


def _rlimit_name(state: UnitState, a: Assignment) -> str:
    spec = state.release.directive(f"{a.section}.{a.key}")
    return spec[1] if spec else ""


def _documentation(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        return OK
    diags: list[Diagnostic] = []
    for word in _words(a):
        if not _documentation_url_is_valid(word):
            message = f"'{word}' is not a documentation URL (http:, https:, file:, man:, info:), ignored"
            diags += warn(a, message).diagnostics
    return Outcome(tuple(diags))


def _documentation_url_is_valid(url: str) -> bool:
    for prefix in ("http://", "https://", "file:/", "info:", "man:"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            return bool(rest) and rest.isascii()
    return False


def _environment(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        return OK
    try:
        words = split_words(a.value, Extract.UNQUOTE | Extract.CUNESCAPE)
    except WordError:
        return warn(a, "invalid syntax, ignored")
    diags: list[Diagnostic] = []
    for word in words:
        try:
            text = ctx.expand(word)
        except SpecifierError as exc:
            diags += warn(a, f"{exc}, ignored").diagnostics
            continue
        name, eq, value = text.partition("=")
        bad_value = any((ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F for c in value)
        # An ASCII identifier is exactly [A-Za-z_][A-Za-z0-9_]*, systemd's env_name_is_valid() letters.
        if not eq or not (name.isascii() and name.isidentifier()) or bad_value:
            diags += warn(a, f"'{text}' is not a KEY=VALUE assignment, ignored").diagnostics
    return Outcome(tuple(diags))


def _path_of(a: Assignment, ctx: UnitContext, text: str) -> Outcome | None:
    """A warning when `text` (specifiers expanded) is not an absolute, normalized path."""
    try:
        path = ctx.expand(text)
    except SpecifierError as exc:
        return warn(a, f"{exc}, ignored")
    problem = path_problem(path)
    return None if problem is None else warn(a, f"{problem}, ignored")


def _env_file(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        return OK
    return _path_of(a, ctx, a.value.removeprefix("-")) or OK


def _path_list(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """ReadWritePaths= and friends: words with optional "-" and "+" prefixes, each an absolute path."""
    if not a.value:
        return OK
    try:
        words = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return warn(a, "invalid syntax, ignored")
    diags: list[Diagnostic] = []
    for word in words:
        found = _path_of(a, ctx, word.removeprefix("-").removeprefix("+"))
        if found is not None:
            diags += found.diagnostics
    return Outcome(tuple(diags), ignored=False)


def _condition_path(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        return OK
    return _path_of(a, ctx, a.value.removeprefix("|").removeprefix("!")) or OK


def _cpu_quota(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """parse_permyriad_unbounded(): N%, N.N%, N.NN%, N‰, N‱ and more than zero."""
    if not a.value:
        return OK
    m = pattern(r"([0-9]+)(?:\.([0-9]{1,2}))?%|([0-9]+)(?:\.([0-9]))?‰|([0-9]+)‱").fullmatch(a.value)
    if m is not None and any(g and decimal(g) for g in m.groups()):
        return OK
    return warn(a, "not a CPU quota (a percentage above 0), ignored")


_EXEC_OUTPUTS = ("inherit", "null", "tty", "journal", "kmsg", "journal+console", "kmsg+console", "socket")
_OBSOLETE_OUTPUTS = {"syslog": "journal", "syslog+console": "journal+console"}


def _exec_output(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    value = a.value
    if value in _OBSOLETE_OUTPUTS:
        message = f"'{value}' is obsolete and means '{_OBSOLETE_OUTPUTS[value]}'; update the unit"
        return warn(a, message, NOTICE, ignored=False)
    for prefix in ("file:", "append:", "truncate:"):
        if value.startswith(prefix):
            return _path_of(a, ctx, value[len(prefix) :]) or OK
    if value.startswith("fd:") or value in _EXEC_OUTPUTS:
        return OK
    return warn(a, "not an output type, ignored")


def _words(a: Assignment) -> list[str]:
    try:
        return split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return []


def _warn_compat(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Directives systemd accepts only to say it ignores them (removed, or not yet enabled)."""
    spec = state.release.directive(f"{a.section}.{a.key}")
    if spec is None or spec[1] not in ("DISABLED_LEGACY", "DISABLED_EXPERIMENTAL"):
        return OK  # disabled at compile time: only a debug message
    return warn(a, f"systemd {state.release.version} no longer supports {a.key}= and ignores it", NOTICE)


def _memory_limit(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if a.key != "MemoryLimit":
        return OK
    return warn(a, "MemoryLimit= is deprecated: use MemoryMax=", NOTICE, ignored=False)


# systemd's parser -> the warnings it prints (the value itself is not kept).
VALIDATORS: dict[str, Handler] = {
    "config_parse_sec": _time,
    "config_parse_sec_fix_0": _time,
    "config_parse_service_timeout": _time_or_empty,
    "config_parse_service_timeout_abort": _time_or_empty,
    "config_parse_rlimit": _rlimit,
    "config_parse_documentation": _documentation,
    "config_parse_environ": _environment,
    "config_parse_unit_env_file": _env_file,
    "config_parse_namespace_path_strv": _path_list,
    "config_parse_unit_condition_path": _condition_path,
    "config_parse_cpu_quota": _cpu_quota,
    "config_parse_exec_output": _exec_output,
    "config_parse_warn_compat": _warn_compat,
    "config_parse_memory_limit": _memory_limit,
}
