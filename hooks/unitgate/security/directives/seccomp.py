"""SystemCallFilter= and SystemCallArchitectures=: seccomp lists resolved through the syscall tables."""

from __future__ import annotations

from unitgate.memo import lru_cache
from unitgate.model import Assignment, Diagnostic
from unitgate.security import names, syscalls
from unitgate.security.directives.state import OK, Outcome, UnitState, safe_atoi, warn
from unitgate.security.releases import SYSTEMD_252, Release
from unitgate.security.words import Extract, UnitContext, WordError, split_words

SECCOMP_ERROR_NUMBER_KILL = 2**31 - 2  # INT_MAX - 1: "kill" counts as an error number


def _syscall_name_and_errno(word: str) -> tuple[str, int] | None:
    """parse_syscall_and_errno(): "name" or "name:ERRNO" (a name, a number, or "kill")."""
    name, colon, err = word.partition(":")
    if not colon:
        return name, -1
    if err == "kill":
        return (name, SECCOMP_ERROR_NUMBER_KILL) if name else None
    found = names.ERRNO_NAMES.get(err.upper()) if err.isascii() else None
    if found is None:
        number = safe_atoi(err)  # parse_errno() falls back to a number
        if number is None or not 0 <= number <= names.ERRNO_MAX:
            return None
        found = number
    return (name, found) if name else None


@lru_cache(maxsize=4096)
def _syscall_names(name: str, release: Release = SYSTEMD_252) -> tuple[str, ...] | None:
    """The syscalls a filter word stands for, or None for an unknown group."""
    if name.startswith("@"):
        members = release.syscall_group(name)
        if members is None:
            return None
        out: list[str] = []
        for member in members:
            if member.startswith("@"):
                out += _syscall_names(member, release) or ()
            else:  # a plain name, inline: a group has hundreds (one cached call each was most of it)
                out += _plain_syscall(member)
        return tuple(out)
    return _plain_syscall(name)


def _plain_syscall(name: str) -> tuple[str, ...]:
    if name in syscalls.NATIVE or name in syscalls.KNOWN_NON_NATIVE:
        return (syscalls.CANONICAL.get(name, name),)
    return ()  # libseccomp cannot resolve it: ignored


def syscall_filter(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.syscall_filter, state.syscall_allow_list = None, False
        state.touch("syscall_filter", a.location)
        return OK
    value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
    if state.syscall_filter is None:
        state.syscall_allow_list = not invert
        state.syscall_filter = dict.fromkeys(
            () if invert else _syscall_names("@default", state.release) or (), -1
        )
    try:
        words = split_words(value)
    except WordError:
        state.touch("syscall_filter", a.location)
        return warn(a, "invalid syntax, rest of the line ignored", ignored=False)
    diags: list[Diagnostic] = []
    for word in words:
        parsed = _syscall_name_and_errno(word)
        if parsed is None:
            diags += warn(a, f"cannot parse '{word}' as syscall[:errno], ignored").diagnostics
            continue
        name, errno = parsed
        if not invert and errno >= 0:
            diags += warn(a, f"allow-listed system calls cannot take an error number: '{word}'").diagnostics
            continue
        members = _syscall_names(name, state.release)
        if members is None:
            diags += warn(a, f"unknown system call group '{name}', ignored").diagnostics
            continue
        if not members and not name.startswith("@"):
            diags += warn(a, f"unknown system call '{name}', ignored").diagnostics
            continue
        keep = (not invert) == state.syscall_allow_list or (
            invert and state.syscall_allow_list and errno >= 0
        )
        if keep:  # several hundred names for a group such as @system-service: one update
            state.syscall_filter.update(dict.fromkeys(members, errno))
        else:
            for member in members:
                state.syscall_filter.pop(member, None)
    state.touch("syscall_filter", a.location)
    return Outcome(tuple(diags))


def syscall_archs(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.syscall_archs = set()
        state.touch("syscall_archs", a.location)
        return OK
    try:
        words = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return warn(a, "invalid syntax, ignored")
    diags: list[Diagnostic] = []
    for word in words:
        if word in names.SECCOMP_ARCHES:
            state.syscall_archs.add(word)
            state.touch("syscall_archs", a.location)
        else:
            diags += warn(a, f"unknown system call architecture '{word}', ignored").diagnostics
    return Outcome(tuple(diags))
