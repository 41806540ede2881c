"""What each directive means: systemd 252's per-directive parsers, applied in merge order.

The base unit is applied first, then each drop-in. Each parser updates the unit's state exactly as
systemd's does (replace, accumulate, reset on empty, `~` lists decided by the first line...), and
records which line last changed each field, so a check can point at the line that decided it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.security import keys, names, syscalls
from unitgate.security.words import (
    WHITESPACE,
    Extract,
    SpecifierError,
    UnitContext,
    WordError,
    extract_first_word,
    split_words,
)

# Diagnostic codes (the gate maps them to rule ids).
UNKNOWN_KEY = "UG-KEY-UNKNOWN"
BAD_VALUE = "UG-VALUE-IGNORED"
FATAL_VALUE = "UG-VALUE-FATAL"
NOTICE = "UG-VALUE-NOTICE"

EXEC_SECTIONS = frozenset({"Service", "Socket", "Mount", "Swap"})
CGROUP_SECTIONS = EXEC_SECTIONS | {"Slice", "Scope"}
SECTIONS_BY_TYPE: dict[str, frozenset[str]] = {
    "service": frozenset({"Unit", "Service", "Install"}),
    "socket": frozenset({"Unit", "Socket", "Install"}),
    "mount": frozenset({"Unit", "Mount", "Install"}),
    "swap": frozenset({"Unit", "Swap", "Install"}),
    "slice": frozenset({"Unit", "Slice", "Install"}),
    "scope": frozenset({"Unit", "Scope", "Install"}),
    "timer": frozenset({"Unit", "Timer", "Install"}),
    "path": frozenset({"Unit", "Path", "Install"}),
    "automount": frozenset({"Unit", "Automount", "Install"}),
    "target": frozenset({"Unit", "Install"}),
    "device": frozenset({"Unit", "Install"}),
}
SERVICE_TYPES = ("simple", "exec", "forking", "oneshot", "dbus", "notify", "idle")
RESTART_MODES = ("no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always")
EMERGENCY_ACTIONS = (
    "none",
    "reboot",
    "reboot-force",
    "reboot-immediate",
    "poweroff",
    "poweroff-force",
    "poweroff-immediate",
    "exit",
    "exit-force",
    "soft-reboot",
    "soft-reboot-force",
    "kexec",
    "kexec-force",
    "halt",
    "halt-force",
    "halt-immediate",
)
KILL_MODES = ("control-group", "process", "mixed", "none")
NOBODY = "nobody"

# Booleans stored for the checks; every other boolean directive is only validated.
_SCORED_BOOLS = {
    "PrivateDevices": "private_devices",
    "PrivateMounts": "private_mounts",
    "PrivateNetwork": "private_network",
    "PrivateTmp": "private_tmp",
    "PrivateUsers": "private_users",
    "ProtectControlGroups": "protect_control_groups",
    "ProtectKernelModules": "protect_kernel_modules",
    "ProtectKernelTunables": "protect_kernel_tunables",
    "ProtectKernelLogs": "protect_kernel_logs",
    "ProtectClock": "protect_clock",
    "ProtectHostname": "protect_hostname",
    "LockPersonality": "lock_personality",
    "MemoryDenyWriteExecute": "memory_deny_write_execute",
    "NoNewPrivileges": "no_new_privileges",
    "RestrictRealtime": "restrict_realtime",
    "RestrictSUIDSGID": "restrict_suid_sgid",
    "RemoveIPC": "remove_ipc",
    "DynamicUser": "dynamic_user",
    "DefaultDependencies": "default_dependencies",
    "RemainAfterExit": "remain_after_exit",
}


@dataclass
class UnitState:
    """The loaded unit's settings (systemd's ExecContext/CGroupContext/Service fields we need).

    Mutable only while the files are applied; `origins` maps a field to the line that last set it.
    """

    unit_type: str
    default_dependencies: bool = True
    user: str | None = None
    group: str | None = None
    supplementary_groups: list[str] = field(default_factory=list)
    dynamic_user: bool = False
    remove_ipc: bool = False
    private_devices: bool = False
    private_mounts: bool = False
    private_network: bool = False
    private_tmp: bool = False
    private_users: bool = False
    protect_control_groups: bool = False
    protect_kernel_modules: bool = False
    protect_kernel_tunables: bool = False
    protect_kernel_logs: bool = False
    protect_clock: bool = False
    protect_hostname: bool = False
    lock_personality: bool = False
    memory_deny_write_execute: bool = False
    no_new_privileges: bool = False
    restrict_realtime: bool = False
    restrict_suid_sgid: bool = False
    protect_home: str = "no"
    protect_system: str = "no"
    protect_proc: str = "default"
    proc_subset: str = "all"
    keyring_mode: str = "private"
    umask: int = 0o022
    capability_bounding_set: int = names.CAP_ALL
    ambient_capabilities: int = 0
    syscall_filter: dict[str, int] | None = None  # name -> errno (-1: plain allow/deny entry)
    syscall_allow_list: bool = False
    syscall_archs: set[str] = field(default_factory=set)
    restrict_namespaces: int = names.NAMESPACE_FLAGS_INITIAL
    address_families: set[int] | None = None
    address_families_allow_list: bool = False
    root_directory: str | None = None
    root_image: str | None = None
    mount_images: bool = False
    load_credentials: dict[str, bool] = field(default_factory=dict)  # id -> encrypted
    set_credentials: dict[str, bool] = field(default_factory=dict)
    delegate: bool = False
    device_policy: str = "auto"
    device_allow: list[str] = field(default_factory=list)  # newest first, as systemd prepends
    ip_address_deny: set[tuple[int, int, int]] = field(default_factory=set)  # (version, prefixlen, addr)
    ip_address_allow: set[tuple[int, int, int]] = field(default_factory=set)
    ip_filters_ingress: list[str] = field(default_factory=list)
    ip_filters_egress: list[str] = field(default_factory=list)
    notify_access: str | None = None
    service_type: str | None = None  # unset: decided by service_add_extras()
    exec_start: list[Location] = field(default_factory=list)
    exec_stop: list[Location] = field(default_factory=list)
    remain_after_exit: bool = False
    restart: str = "no"
    restart_force_status: bool = False
    exit_type_cgroup: bool = False
    bus_name: str | None = None
    success_action: bool = False
    pam_name: str | None = None
    kill_mode: str = "control-group"
    origins: dict[str, Location] = field(default_factory=dict)

    def touch(self, name: str, where: Location) -> None:
        self.origins[name] = where


@dataclass(frozen=True)
class Outcome:
    """What applying one assignment did: diagnostics, and whether systemd stops there (fatal)."""

    diagnostics: tuple[Diagnostic, ...] = ()
    fatal: bool = False
    error: bool = False  # a fatal error that makes the load state "error" rather than "bad-setting"
    ignored: bool = False  # systemd dropped the whole line: it is not part of the merged unit


OK = Outcome()
Handler = Callable[[UnitState, Assignment, UnitContext], Outcome]


def _warn(a: Assignment, message: str, code: str = BAD_VALUE, ignored: bool = True) -> Outcome:
    """A warning; `ignored` says systemd dropped the whole line (so it decides nothing)."""
    diag = Diagnostic(a.location, f"{a.key}={a.value}: {message}", Severity.WARNING, code)
    return Outcome((diag,), ignored=ignored)


def _fatal(a: Assignment, message: str) -> Outcome:
    text = f"{a.key}={a.value}: {message}; systemd refuses to load the unit"
    return Outcome((Diagnostic(a.location, text, Severity.ERROR, FATAL_VALUE),), fatal=True)


def _reject(a: Assignment, problem: str, ignore: bool) -> Outcome:
    """Directives whose errors a "-" prefix turns from fatal into a warning."""
    return _warn(a, f"{problem}, ignored") if ignore else _fatal(a, problem)


def parse_boolean(value: str) -> bool | None:
    v = value.lower() if value.isascii() else value
    if v in names.BOOLEAN_TRUE:
        return True
    if v in names.BOOLEAN_FALSE:
        return False
    return None


def _is_fatal_bool(a: Assignment) -> bool:
    parser, ltype = keys.KEYS.get(f"{a.section}.{a.key}", ("", "0"))
    return parser == "config_parse_bool" and ltype == "true"


def _bool(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    b = parse_boolean(a.value)
    if b is None:
        if _is_fatal_bool(a):
            return _fatal(a, "not a boolean")
        return _warn(a, "not a boolean, ignored")
    attr = _SCORED_BOOLS.get(a.key)
    if attr is not None:
        setattr(state, attr, b)
        state.touch(attr, a.location)
    return OK


def _enum(attr: str, members: Sequence[str], boolean_yes: str | None = None) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        value: str | None = None
        if boolean_yes is not None:
            b = parse_boolean(a.value)
            if b is not None:
                value = boolean_yes if b else members[0]
        if value is None and a.value in members:
            value = a.value
        if value is None:
            return _warn(a, f"not one of {', '.join(members)}; ignored")
        setattr(state, attr, value)
        state.touch(attr, a.location)
        return OK

    return handle


def _parse_uid(text: str) -> bool:
    """parse_uid(): a decimal uid without sign or leading zeros, excluding the two invalid ids."""
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        return False
    uid = int(text)
    return uid < 2**32 - 1 and uid != 65535


def valid_user_name_relaxed(name: str) -> bool:
    """valid_user_group_name(…, ALLOW_NUMERIC|RELAX): systemd's lenient user/group name rule."""
    if not name:
        return False
    if _parse_uid(name):
        return True
    if name.startswith(" ") or name.endswith(" "):
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name) or ":" in name or "/" in name:
        return False
    if name.isascii() and name.isdigit():
        return False
    if name.startswith("-") and name[1:].isascii() and name[1:].isdigit():
        return False
    return name not in (".", "..")


def _user(attr: str) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        if not a.value:
            setattr(state, attr, None)
            state.touch(attr, a.location)
            return OK
        try:
            name = ctx.expand(a.value)
        except SpecifierError as exc:
            return _fatal(a, str(exc))
        if not valid_user_name_relaxed(name):
            return _fatal(a, "invalid user/group name or numeric ID")
        setattr(state, attr, name)
        state.touch(attr, a.location)
        if attr == "user" and name == NOBODY:
            return _warn(a, "the 'nobody' user should not run services", NOTICE, ignored=False)
        return OK

    return handle


def _supplementary_groups(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.supplementary_groups = []
        state.touch("supplementary_groups", a.location)
        return OK
    try:
        words = split_words(a.value)
    except WordError:
        return _fatal(a, "invalid syntax")
    for word in words:
        try:
            name = ctx.expand(word)
        except SpecifierError as exc:
            return _fatal(a, str(exc))
        if not valid_user_name_relaxed(name):
            return _fatal(a, f"invalid group name '{name}'")
        state.supplementary_groups.append(name)
        state.touch("supplementary_groups", a.location)
    return OK


def _path_is_valid(path: str) -> bool:
    return len(path) < 4096 and all(len(p) <= 255 for p in path.split("/"))


def _is_normalized(path: str) -> bool:
    return ".." not in path.split("/")


def _path_problem(path: str) -> str | None:
    """path_simplify_and_warn(PATH_CHECK_ABSOLUTE): why systemd rejects the path, if it does."""
    if not path.startswith("/"):
        return "path is not absolute"
    if not _is_normalized(path):
        return "path is not normalized"
    if not _path_is_valid(path):
        return "path is too long"
    return None


def _root_path(attr: str | None) -> Handler:
    """RootDirectory=/RootImage=/RootVerity=: config_parse_unit_path_printf with fatal errors."""

    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        try:
            path = ctx.expand(a.value)
        except SpecifierError as exc:
            return _fatal(a, str(exc))
        problem = _path_problem(path) if path else None
        if problem is not None:
            return _fatal(a, problem)
        if attr is not None:
            setattr(state, attr, re.sub(r"/+", "/", path) if path else None)
            state.touch(attr, a.location)
        return OK

    return handle


def _working_directory(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """A "-" prefix turns every error into a warning; "~" (the home directory) is always fine."""
    value, ignore = (a.value[1:], True) if a.value.startswith("-") else (a.value, False)
    if not value or value == "~":
        return OK
    try:
        path = ctx.expand(value)
    except SpecifierError as exc:
        return _reject(a, str(exc), ignore)
    problem = _path_problem(path)
    if problem is None:
        return OK
    return _reject(a, problem, ignore)


def _pid_file(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Relative paths live under /run; a path with ".." stops the load (state "error")."""
    if not a.value:
        return OK
    try:
        path = ctx.expand(a.value)
    except SpecifierError as exc:
        return _warn(a, f"{exc}, ignored")
    if not path.startswith("/"):
        path = "/run/" + path
    if not _is_normalized(path):
        fatal = _fatal(a, "path is not normalized")
        return Outcome(fatal.diagnostics, fatal=True, error=True)
    return OK


def _security_label(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """SELinuxContext=/AppArmorProfile=/SmackProcessLabel=: a bad specifier is fatal without "-"."""
    value, ignore = (a.value[1:], True) if a.value.startswith("-") else (a.value, False)
    try:
        ctx.expand(value)
    except SpecifierError as exc:
        return _reject(a, str(exc), ignore)
    return OK


def _umask(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not re.fullmatch(r"[0-7]+", a.value) or int(a.value, 8) > 0o7777:
        return _warn(a, "not an octal mode (at most 07777), ignored")
    state.umask = int(a.value, 8)
    state.touch("umask", a.location)
    return OK


def _safe_atoi(word: str) -> int | None:
    """safe_atoi(): C strtol with base 0 (0x hex, 0 octal, 0b/0o prefixes), optional sign."""
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


def capability_mask(words: Sequence[str]) -> int:
    """The OR of the named capabilities; unknown names are dropped silently, as systemd does."""
    mask = 0
    for word in words:
        number = _safe_atoi(word)
        if number is not None:
            if 0 <= number <= names.CAP_NUMERIC_MAX:
                mask |= 1 << number
            continue
        bit = names.CAPABILITIES.get(word.upper()) if word.isascii() else None
        if bit is not None:
            mask |= 1 << bit
    return mask


def _split_lenient(value: str, flags: Extract) -> list[str]:
    """Words up to the first syntax error (capability_set_from_string stops there silently)."""
    try:
        return split_words(value, flags)
    except WordError:
        return split_words(value, flags | Extract.RELAX)[:-1]


def _capabilities(attr: str, initial: int) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
        total = capability_mask(_split_lenient(value, Extract.UNQUOTE))
        current = getattr(state, attr)
        # systemd 252 replaces whenever the set still equals its initial value (for the bounding set,
        # "all"), even if a previous line put it there; otherwise it merges.
        if total == 0 or current == initial:
            new = (~total & names.CAP_ALL) if invert else total
        elif invert:
            new = current & ~total
        else:
            new = current | total
        setattr(state, attr, new)
        state.touch(attr, a.location)
        return OK

    return handle


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
        number = _safe_atoi(err)  # parse_errno() falls back to a number
        if number is None or not 0 <= number <= names.ERRNO_MAX:
            return None
        found = number
    return (name, found) if name else None


@lru_cache(maxsize=1024)
def _syscall_names(name: str) -> tuple[str, ...] | None:
    """The syscalls a filter word stands for, or None for an unknown group."""
    if name.startswith("@"):
        members = syscalls.GROUPS.get(name)
        if members is None:
            return None
        out: tuple[str, ...] = ()
        for member in members:
            out += _syscall_names(member) or ()
        return out
    if name in syscalls.NATIVE or name in syscalls.KNOWN_NON_NATIVE:
        return (syscalls.CANONICAL.get(name, name),)
    return ()  # libseccomp cannot resolve it: ignored


def _syscall_filter(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.syscall_filter, state.syscall_allow_list = None, False
        state.touch("syscall_filter", a.location)
        return OK
    value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
    if state.syscall_filter is None:
        state.syscall_filter = {}
        state.syscall_allow_list = not invert
        if not invert:
            for name in _syscall_names("@default") or []:
                state.syscall_filter[name] = -1
    try:
        words = split_words(value)
    except WordError:
        state.touch("syscall_filter", a.location)
        return _warn(a, "invalid syntax, rest of the line ignored", ignored=False)
    diags: list[Diagnostic] = []
    for word in words:
        parsed = _syscall_name_and_errno(word)
        if parsed is None:
            diags += _warn(a, f"cannot parse '{word}' as syscall[:errno], ignored").diagnostics
            continue
        name, errno = parsed
        if not invert and errno >= 0:
            diags += _warn(a, f"allow-listed system calls cannot take an error number: '{word}'").diagnostics
            continue
        members = _syscall_names(name)
        if members is None:
            diags += _warn(a, f"unknown system call group '{name}', ignored").diagnostics
            continue
        if not members and not name.startswith("@"):
            diags += _warn(a, f"unknown system call '{name}', ignored").diagnostics
            continue
        keep = (not invert) == state.syscall_allow_list or (
            invert and state.syscall_allow_list and errno >= 0
        )
        for member in members:
            if keep:
                state.syscall_filter[member] = errno
            else:
                state.syscall_filter.pop(member, None)
    state.touch("syscall_filter", a.location)
    return Outcome(tuple(diags))


def _syscall_archs(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.syscall_archs = set()
        state.touch("syscall_archs", a.location)
        return OK
    try:
        words = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return _warn(a, "invalid syntax, ignored")
    diags: list[Diagnostic] = []
    for word in words:
        if word in names.SECCOMP_ARCHES:
            state.syscall_archs.add(word)
            state.touch("syscall_archs", a.location)
        else:
            diags += _warn(a, f"unknown system call architecture '{word}', ignored").diagnostics
    return Outcome(tuple(diags))


def _address_families(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    state.touch("address_families", a.location)
    if not a.value:
        state.address_families, state.address_families_allow_list = None, False
        return OK
    if a.value == "none":
        # The set is freed, not emptied: the next line decides the mode afresh.
        state.address_families, state.address_families_allow_list = None, True
        return OK
    value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
    if state.address_families is None:
        state.address_families, state.address_families_allow_list = set(), not invert
    try:
        words = split_words(value, Extract.UNQUOTE)
    except WordError:
        return _warn(a, "invalid syntax, rest of the line ignored", ignored=False)
    diags: list[Diagnostic] = []
    for word in words:
        af = names.ADDRESS_FAMILIES.get(word.upper()) if word.isascii() else None
        if af is None:
            diags += _warn(a, f"unknown address family '{word}', ignored").diagnostics
        elif (not invert) == state.address_families_allow_list:
            state.address_families.add(af)
        else:
            state.address_families.discard(af)
    return Outcome(tuple(diags))


def _restrict_namespaces(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.restrict_namespaces = names.NAMESPACE_FLAGS_INITIAL
    elif (b := parse_boolean(a.value)) is not None:
        state.restrict_namespaces = 0 if b else names.NAMESPACE_FLAGS_ALL
    else:
        value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
        try:
            words = split_words(value)
        except WordError:
            return _warn(a, "invalid syntax, ignored")
        if any(w not in names.NAMESPACES for w in words):
            return _warn(a, "unknown namespace type; the whole line is ignored")
        flags = 0
        for w in words:
            flags |= names.NAMESPACES[w]
        if state.restrict_namespaces == names.NAMESPACE_FLAGS_INITIAL:
            state.restrict_namespaces = (~flags & names.NAMESPACE_FLAGS_ALL) if invert else flags
        elif invert:
            state.restrict_namespaces &= ~flags
        else:
            state.restrict_namespaces |= flags
    state.touch("restrict_namespaces", a.location)
    return OK


_LOCALHOST_NAMES = ("localhost", "localhost.", "localhost.localdomain", "localhost.localdomain.")
_KEYWORD_PREFIXES = {
    "any": ((4, 0, 0), (6, 0, 0)),
    "localhost": ((4, 8, 0x7F000000), (6, 128, 1)),
    "link-local": ((4, 16, 0xA9FE0000), (6, 64, 0xFE80 << 112)),
    "multicast": ((4, 4, 0xE0000000), (6, 8, 0xFF << 120)),
}


def _is_localhost_name(word: str) -> bool:
    w = word.lower()
    return w in _LOCALHOST_NAMES or w.endswith(tuple("." + n for n in _LOCALHOST_NAMES))


def _prefix(word: str) -> tuple[int, int, int] | None:
    """in_addr_prefix_from_string_auto(), with the address masked to the prefix."""
    addr, slash, length = word.partition("/")
    if "%" in addr or (slash and not (length.isascii() and length.isdigit())):
        return None
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    bits = 32 if ip.version == 4 else 128
    plen = int(length) if slash else bits
    if plen > bits:
        return None
    mask = ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)
    return ip.version, plen, int(ip) & mask


def _ip_prefixes(attr: str) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        target: set[tuple[int, int, int]] = getattr(state, attr)
        state.touch(attr, a.location)
        if not a.value:
            target.clear()
            return OK
        try:
            words = split_words(a.value)
        except WordError:
            return _warn(a, "invalid syntax, ignored")
        diags: list[Diagnostic] = []
        for word in words:
            key = "localhost" if _is_localhost_name(word) else word
            if key in _KEYWORD_PREFIXES:
                target.update(_KEYWORD_PREFIXES[key])
                continue
            prefix = _prefix(word)
            if prefix is None:
                diags += _warn(a, f"invalid address prefix '{word}', ignored").diagnostics
            else:
                target.add(prefix)
        return Outcome(tuple(diags))

    return handle


def _ip_filter_paths(attr: str) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        target: list[str] = getattr(state, attr)
        if not a.value:
            target.clear()
        else:
            try:
                path = ctx.expand(a.value)
            except SpecifierError as exc:
                return _warn(a, f"{exc}, ignored")
            if not path.startswith("/"):
                return _warn(a, "path is not absolute, ignored")
            target.append(path)
        state.touch(attr, a.location)
        return OK

    return handle


def _device_allow(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.device_allow.clear()
        state.touch("device_allow", a.location)
        return OK
    try:
        words = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return _warn(a, "cannot extract the device path and rights, ignored")
    if not words:
        return _warn(a, "cannot extract the device path and rights, ignored")
    try:
        path = ctx.expand(words[0])
    except SpecifierError as exc:
        return _warn(a, f"{exc}, ignored")
    rest = a.value.split(None, 1)[1].strip() if len(a.value.split(None, 1)) > 1 else ""
    if not path.startswith(("block-", "char-")):
        path = re.sub(r"/+", "/", path).rstrip("/") or "/"
        if not path.startswith("/dev/") and not path.startswith("/run/systemd/inaccessible/"):
            return _warn(a, f"invalid device node path '{path}', ignored")
    if rest and any(c not in "rwm" for c in rest):
        return _warn(a, f"invalid device rights '{rest}', ignored")
    rights = "".join(c for c in "rwm" if not rest or c in rest)
    state.device_allow.insert(0, f"{path}:{rights}")
    state.touch("device_allow", a.location)
    return OK


def _delegate(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if state.unit_type not in ("service", "scope"):  # the unit types that can delegate
        return _warn(a, "Delegate= is not supported for this unit type, ignored")
    b = parse_boolean(a.value) if a.value else True
    state.delegate = True if b is None else b
    state.touch("delegate", a.location)
    return OK


def _credential(attr: str, encrypted: bool) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        target: dict[str, bool] = getattr(state, attr)
        if not a.value:
            target.clear()
        else:
            ident = a.value.split(":", 1)[0]
            if not ident or "/" in ident:
                return _warn(a, "credential name is not valid, ignored")
            target[ident] = encrypted
        state.touch(attr, a.location)
        return OK

    return handle


def _mount_images(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """MountImages=SOURCE:DEST[:OPTIONS]...: only complete, absolute pairs count as images."""
    if not a.value:
        state.mount_images = False
        state.touch("mount_images", a.location)
        return OK
    try:
        tuples = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return _warn(a, "invalid syntax, ignored")
    diags: list[Diagnostic] = []
    for item in tuples:
        source, _, rest = item.partition(":")
        dest = rest.partition(":")[0]
        try:
            source, dest = ctx.expand(source.removeprefix("-")), ctx.expand(dest)
        except SpecifierError as exc:
            diags += _warn(a, f"{exc}, ignored").diagnostics
            continue
        if not source.startswith("/") or not dest.startswith("/"):
            diags += _warn(a, f"'{item}' needs an absolute source and destination, ignored").diagnostics
            continue
        state.mount_images = True
        state.touch("mount_images", a.location)
    return Outcome(tuple(diags))


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
        if any(ord(ch) < 0x20 or ch in "\"'\\\x7f" for ch in path):
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


def _exec(attr: str | None) -> Handler:
    """ExecStart= and friends: count commands (where service_verify() needs them) and refuse what
    systemd refuses."""

    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        commands: list[Location] = getattr(state, attr) if attr else []
        if not a.value:
            commands.clear()
            return OK
        count, error, ignorable, warned = _parse_commands(a.value, ctx)
        commands.extend([a.location] * count)
        diags = _warn(a, "unknown escape sequences kept as they are").diagnostics if warned else ()
        if error is None:
            return Outcome(diags)
        if ignorable:
            return Outcome(diags + _warn(a, f"{error}, ignored").diagnostics, ignored=count == 0)
        fatal = _fatal(a, error)
        return Outcome(diags + fatal.diagnostics, fatal=True)

    return handle


def _service_type(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if a.value not in SERVICE_TYPES:
        return _warn(a, f"not one of {', '.join(SERVICE_TYPES)}; ignored")
    state.service_type = a.value
    state.touch("service_type", a.location)
    return OK


def _set_string(attr: str, members: Sequence[str] | None = None) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        if members is not None and a.value not in members:
            return _warn(a, f"not one of {', '.join(members)}; ignored")
        setattr(state, attr, a.value or None)
        state.touch(attr, a.location)
        return OK

    return handle


def bus_name_is_valid(name: str) -> bool:
    """sd-bus's service_name_is_valid(): dotted elements, at least two; ":" starts a unique name."""
    unique = name.startswith(":")
    body = name[1:] if unique else name
    if not body or len(name) > 255:
        return False
    elements = body.split(".")
    if len(elements) < 2:
        return False
    for element in elements:
        if not element or (not unique and element[0].isdigit()):
            return False
        if not all(c.isascii() and (c.isalnum() or c in "_-") for c in element):
            return False
    return True


def _bus_name(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    try:
        name = ctx.expand(a.value)
    except SpecifierError as exc:
        return _warn(a, f"{exc}, ignored")
    if name and not bus_name_is_valid(name):
        return _warn(a, "not a valid D-Bus name, ignored")
    state.bus_name = name or None
    state.touch("bus_name", a.location)
    return OK


def _flag_if_set(attr: str, truth: Callable[[str], bool]) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        setattr(state, attr, truth(a.value))
        state.touch(attr, a.location)
        return OK

    return handle


# Command lines only validated (their count matters to no check): Service and Socket ones alike.
_OTHER_EXEC = (
    "ExecCondition",
    "ExecStartPre",
    "ExecStartPost",
    "ExecReload",
    "ExecStopPre",
    "ExecStopPost",
    "ExecMount",
    "ExecUnmount",
    "ExecRemount",
    "ExecActivate",
    "ExecDeactivate",
)
# Directives valid in exec or cgroup sections, by key; the section check uses keys.KEYS.
_HANDLERS: dict[str, Handler] = {
    "User": _user("user"),
    "Group": _user("group"),
    "SupplementaryGroups": _supplementary_groups,
    "RootDirectory": _root_path("root_directory"),
    "RootImage": _root_path("root_image"),
    "RootVerity": _root_path(None),
    "WorkingDirectory": _working_directory,
    "SELinuxContext": _security_label,
    "AppArmorProfile": _security_label,
    "SmackProcessLabel": _security_label,
    "MountImages": _mount_images,
    "UMask": _umask,
    "CapabilityBoundingSet": _capabilities("capability_bounding_set", names.CAP_ALL),
    "AmbientCapabilities": _capabilities("ambient_capabilities", 0),
    "SystemCallFilter": _syscall_filter,
    "SystemCallArchitectures": _syscall_archs,
    "RestrictAddressFamilies": _address_families,
    "RestrictNamespaces": _restrict_namespaces,
    "ProtectSystem": _enum("protect_system", names.ENUMS["ProtectSystem"], "yes"),
    "ProtectHome": _enum("protect_home", names.ENUMS["ProtectHome"], "yes"),
    "ProtectProc": _enum("protect_proc", names.ENUMS["ProtectProc"]),
    "ProcSubset": _enum("proc_subset", names.ENUMS["ProcSubset"]),
    "KeyringMode": _enum("keyring_mode", names.ENUMS["KeyringMode"]),
    "DevicePolicy": _enum("device_policy", names.ENUMS["DevicePolicy"]),
    "DeviceAllow": _device_allow,
    "Delegate": _delegate,
    "IPAddressAllow": _ip_prefixes("ip_address_allow"),
    "IPAddressDeny": _ip_prefixes("ip_address_deny"),
    "IPIngressFilterPath": _ip_filter_paths("ip_filters_ingress"),
    "IPEgressFilterPath": _ip_filter_paths("ip_filters_egress"),
    "LoadCredential": _credential("load_credentials", False),
    "LoadCredentialEncrypted": _credential("load_credentials", True),
    "SetCredential": _credential("set_credentials", False),
    "SetCredentialEncrypted": _credential("set_credentials", True),
    "PAMName": _set_string("pam_name"),
    **{k: _exec(None) for k in _OTHER_EXEC},
    "KillMode": _set_string("kill_mode", KILL_MODES),
}
_SERVICE_HANDLERS: dict[str, Handler] = {
    "NotifyAccess": _enum("notify_access", names.ENUMS["NotifyAccess"]),
    "Type": _service_type,
    "ExecStart": _exec("exec_start"),
    "ExecStop": _exec("exec_stop"),
    "Restart": _set_string("restart", RESTART_MODES),
    "BusName": _bus_name,
    "PIDFile": _pid_file,
    "RestartForceExitStatus": _flag_if_set("restart_force_status", bool),
    "ExitType": _flag_if_set("exit_type_cgroup", lambda v: v == "cgroup"),
}
_UNIT_HANDLERS: dict[str, Handler] = {
    "SuccessAction": _flag_if_set("success_action", lambda v: v not in ("", "none")),
}


def handler_for(section: str, key: str) -> Handler | None:
    if section == "Service" and key in _SERVICE_HANDLERS:
        return _SERVICE_HANDLERS[key]
    if section == "Unit" and key in _UNIT_HANDLERS:
        return _UNIT_HANDLERS[key]
    if section in CGROUP_SECTIONS and key in _HANDLERS:
        return _HANDLERS[key]
    return None


@cache
def _keys_by_section() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for name in keys.KEYS:
        section, _, key = name.partition(".")
        grouped.setdefault(section, []).append(key)
    return {section: tuple(names) for section, names in grouped.items()}


def _did_you_mean(section: str, key: str) -> str:
    """' (did you mean ProtectSystem=?)' for a misspelt key; where a known key sits in another section,
    which one. Only computed for unknown keys, so it costs nothing for a unit systemd can read."""
    import difflib

    by_section = _keys_by_section()
    elsewhere = [
        s for s in ("Unit", "Service", "Install", *sorted(by_section)) if key in by_section.get(s, ())
    ]
    if elsewhere:
        return f" ({key}= belongs in [{elsewhere[0]}])"
    close = difflib.get_close_matches(key, by_section.get(section, ()), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}=?)" if close else ""


def apply(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Apply one assignment as systemd's parser for its directive would."""
    spec = keys.KEYS.get(f"{a.section}.{a.key}")
    if spec is None:
        if a.key.startswith("X-"):
            return OK
        message = f"unknown key '{a.key}' in section [{a.section}], ignored{_did_you_mean(a.section, a.key)}"
        return Outcome((Diagnostic(a.location, message, Severity.WARNING, UNKNOWN_KEY),), ignored=True)
    handler = handler_for(a.section, a.key)
    if handler is not None:
        return handler(state, a, ctx)
    if spec[0] == "config_parse_bool":
        return _bool(state, a, ctx)
    return OK


def new_state(unit_type: str, scope: str) -> UnitState:
    """Defaults before any file is applied (services: KeyringMode=private; user units: inherit)."""
    keyring = "inherit" if scope == "user" else ("private" if unit_type == "service" else "shared")
    return UnitState(
        unit_type=unit_type,
        keyring_mode=keyring,
        notify_access="none" if unit_type == "service" else None,
    )


# Non-service units are refused when the setting that defines them is missing (each type's verify).
_REQUIRED_BY_TYPE = {
    "socket": (
        "Socket",
        (
            *("ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenFIFO", "ListenSpecial"),
            *("ListenNetlink", "ListenMessageQueue", "ListenUSBFunction"),
        ),
        "socket has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, ...)",
    ),
    "timer": (
        "Timer",
        (
            *("OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec"),
            *("OnCalendar", "OnClockChange", "OnTimezoneChange"),
        ),
        "timer has no value setting (OnCalendar=, OnBootSec=, ...)",
    ),
    "path": (
        "Path",
        ("PathExists", "PathExistsGlob", "PathChanged", "PathModified", "DirectoryNotEmpty"),
        "path unit has no path setting (PathExists=, PathChanged=, ...)",
    ),
    "mount": ("Mount", ("What",), "mount unit has no What= setting"),
}


def verify_other(unit_type: str, applied: Sequence[Assignment], where: Location) -> Diagnostic | None:
    """The load-time refusals of sockets, timers, paths and mounts."""
    rule = _REQUIRED_BY_TYPE.get(unit_type)
    if rule is None:
        return None
    section, required, message = rule
    present: dict[str, bool] = {}
    for a in applied:
        if a.section == section and a.key in required:
            present[a.key] = bool(a.value)  # an empty assignment resets the list
    if any(present.values()):
        return None
    return Diagnostic(where, f"{message}; systemd refuses to load the unit", Severity.ERROR, FATAL_VALUE)


def verify_service(state: UnitState, where: Location) -> Diagnostic | None:
    """service_verify(): settings that only fail in combination, after all files are applied."""
    if state.service_type is None:  # service_add_extras() picks the type
        state.service_type = "dbus" if state.bus_name else "simple" if state.exec_start else "oneshot"
    oneshot = state.service_type == "oneshot"
    message = None
    if not state.exec_start and not state.exec_stop and not state.success_action:
        message = "service has no ExecStart=, ExecStop= or SuccessAction="
    elif not oneshot and not state.exec_start:
        message = "service has no ExecStart=, which only Type=oneshot services may omit"
    elif not state.remain_after_exit and not state.exec_start and not state.success_action:
        message = "service has no ExecStart= and no SuccessAction=, and RemainAfterExit=yes is not set"
    elif not oneshot and len(state.exec_start) > 1:
        where = state.exec_start[1]
        message = "service has more than one ExecStart=, which only Type=oneshot services may have"
    elif oneshot and state.restart in ("always", "on-success"):
        where = state.origins.get("restart", where)
        message = "Restart=always/on-success is not allowed for Type=oneshot services"
    elif oneshot and state.restart_force_status:
        where = state.origins.get("restart_force_status", where)
        message = "RestartForceExitStatus= is not allowed for Type=oneshot services"
    elif oneshot and state.exit_type_cgroup:
        where = state.origins.get("exit_type_cgroup", where)
        message = "ExitType=cgroup is not allowed for Type=oneshot services"
    elif state.service_type == "dbus" and not state.bus_name:
        where = state.origins.get("service_type", where)
        message = "Type=dbus needs BusName="
    elif state.pam_name and state.kill_mode not in ("control-group", "mixed"):
        where = state.origins.get("kill_mode", where)
        message = "PAMName= needs KillMode=control-group or mixed"
    if message is None:
        return None
    return Diagnostic(where, f"{message}; systemd refuses to load the unit", Severity.ERROR, FATAL_VALUE)
