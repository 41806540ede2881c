"""Load refusals decided after every file is applied: settings that only fail in combination."""

from __future__ import annotations

from collections.abc import Sequence

from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.security.directives.state import FATAL_VALUE, UnitState

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
