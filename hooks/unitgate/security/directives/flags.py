"""Booleans, enumerations and plain strings: directives whose value is one word from a fixed set."""

from __future__ import annotations

from unitgate.model import Assignment
from unitgate.security.directives.state import (
    NOTICE,
    OK,
    Handler,
    Outcome,
    UnitState,
    fatal,
    parse_boolean,
    warn,
)
from unitgate.security.words import SpecifierError, UnitContext

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SERVICE_TYPES = ("simple", "exec", "forking", "oneshot", "dbus", "notify", "idle")
RESTART_MODES = ("no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always")
KILL_MODES = ("control-group", "process", "mixed", "none")

# Booleans stored for the checks; every other boolean directive is only validated.
SCORED_BOOLS = {
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


def _is_fatal_bool(state: UnitState, a: Assignment) -> bool:
    parser, ltype = state.release.directive(f"{a.section}.{a.key}") or ("", "0")
    return parser == "config_parse_bool" and ltype == "true"


def scored_bool(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    b = parse_boolean(a.value)
    if b is None:
        if _is_fatal_bool(state, a):
            return fatal(a, "not a boolean")
        return warn(a, "not a boolean, ignored")
    attr = SCORED_BOOLS.get(a.key)
    if attr is not None:
        setattr(state, attr, b)
        state.touch(attr, a.location)
    return OK


def enum_of(attr: str, members: Sequence[str], boolean_yes: str | None = None) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        value: str | None = None
        if boolean_yes is not None:
            b = parse_boolean(a.value)
            if b is not None:
                value = boolean_yes if b else members[0]
        if value is None and a.value in members:
            value = a.value
        if value is None:
            return warn(a, f"not one of {', '.join(members)}; ignored")
        setattr(state, attr, value)
        state.touch(attr, a.location)
        return OK

    return handle


def umask(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value or any(c not in "01234567" for c in a.value) or int(a.value, 8) > 0o7777:
        return warn(a, "not an octal mode (at most 07777), ignored")
    state.umask = int(a.value, 8)
    state.touch("umask", a.location)
    return OK


def service_type(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if a.value not in SERVICE_TYPES:
        return warn(a, f"not one of {', '.join(SERVICE_TYPES)}; ignored")
    state.service_type = a.value
    state.touch("service_type", a.location)
    return OK


def set_string(attr: str, members: Sequence[str] | None = None) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        if members is not None and a.value not in members:
            return warn(a, f"not one of {', '.join(members)}; ignored")
        setattr(state, attr, a.value or None)
        state.touch(attr, a.location)
        return OK

    return handle


def kill_mode(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Empty resets to control-group; `none` works but gets systemd's deprecation notice."""
    if a.value and a.value not in KILL_MODES:
        return warn(a, f"not one of {', '.join(KILL_MODES)}; ignored")
    state.kill_mode = a.value or "control-group"
    state.touch("kill_mode", a.location)
    if a.value == "none":
        message = "KillMode=none is unsafe and deprecated (systemd does not manage the processes' lifetime)"
        return warn(a, message, NOTICE, ignored=False)
    return OK


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


def bus_name(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    try:
        name = ctx.expand(a.value)
    except SpecifierError as exc:
        return warn(a, f"{exc}, ignored")
    if not bus_name_is_valid(name):  # an empty name too: it does not reset, the previous one stays
        return warn(a, "not a valid D-Bus name, ignored")
    state.bus_name = name
    state.touch("bus_name", a.location)
    return OK


def flag_if_set(attr: str, truth: Callable[[str], bool]) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        setattr(state, attr, truth(a.value))
        state.touch(attr, a.location)
        return OK

    return handle
