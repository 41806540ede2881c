"""Load refusals decided after every file is applied: settings that only fail in combination."""

from __future__ import annotations

from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.security.directives.state import FATAL_VALUE, UnitState

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

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
    elif oneshot and state.restart_force_status and not state.release.has("oneshot_restart_force_status"):
        where = state.origins.get("restart_force_status", where)
        message = "RestartForceExitStatus= is not allowed for Type=oneshot services"
    elif oneshot and state.exit_type_cgroup:
        where = state.origins.get("exit_type_cgroup", where)
        message = "ExitType=cgroup is not allowed for Type=oneshot services"
    elif state.service_type == "dbus" and not state.bus_name:
        where = state.origins.get("service_type", where)
        message = "Type=dbus needs BusName="
    elif state.service_type == "forking" and state.private_pids and state.release.has("private_pids"):
        where = state.origins.get("private_pids", where)
        message = "Type=forking does not support PrivatePIDs=yes"
    elif _pam_kill_mode_refused(state) and not state.release.has("private_pids"):
        where = state.origins.get("kill_mode", where)
        message = "PAMName= needs KillMode=control-group or mixed"
    if message is None:
        return None
    return Diagnostic(where, f"{message}; systemd refuses to load the unit", Severity.ERROR, FATAL_VALUE)


def _pam_kill_mode_refused(state: UnitState) -> bool:
    return bool(state.pam_name) and state.kill_mode not in ("control-group", "mixed")


_EXEC_TYPES = frozenset({"service", "socket", "mount", "swap"})
_API_VFS = ("/proc", "/sys", "/dev")


def _below_api_vfs(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in _API_VFS)


def needs_mount_namespace(state: UnitState) -> bool:
    """exec_needs_mount_namespace() on the patched context (DynamicUser= implies ProtectSystem=strict)."""
    lists = state.namespace_lists
    private_mounts = state.private_mounts
    if private_mounts is None and not state.release.has("private_mounts_tristate"):
        private_mounts = False
    network = state.private_network or lists.get("NetworkNamespacePath", False)
    rooted = state.root_directory not in (None, "/") or bool(state.root_image)  # exec_context_with_rootfs()
    api_vfs = lists.get("MountAPIVFS", rooted)  # exec_context_get_effective_mount_apivfs()
    return (
        bool(state.root_image or state.root_mstack)
        or state.mount_images
        or any(lists.get(k, False) for k in _NAMESPACE_LISTS)
        or state.dynamic_user
        or _private_tmp_namespace(state)
        or state.private_devices
        or private_mounts is True
        or (private_mounts is None and network)
        or state.protect_system != "no"
        or state.protect_home != "no"
        or state.protect_kernel_tunables
        or state.protect_kernel_modules
        or state.protect_kernel_logs
        or _cgroup_mount(state)
        or state.protect_proc != "default"
        or state.proc_subset != "all"
        or lists.get("PrivateIPC", False)
        or lists.get("IPCNamespacePath", False)
        or state.private_pids
        or (bool(state.root_directory) and api_vfs)
        or _binds_log_sockets(state, api_vfs, rooted)
        or (bool(state.root_directory) and any(lists.get(k, False) for k in _EXEC_DIRECTORIES))
    )


def _binds_log_sockets(state: UnitState, api_vfs: bool, rooted: bool) -> bool:
    """exec_context_get_effective_bind_log_sockets(): bind-mounting the journal sockets needs a mount
    namespace (a log namespace, BindLogSockets=, or implied by MountAPIVFS= or PrivateDevices= in a root)."""
    lists = state.namespace_lists
    if lists.get("LogNamespace", False):
        return True
    if "BindLogSockets" in lists:
        return lists["BindLogSockets"]
    return api_vfs or (rooted and state.private_devices)


def _private_tmp_namespace(state: UnitState) -> bool:
    """257 checks without a runtime: only `disconnected` counts; since 258 anything but `no` does."""
    mode = state.modes.get("private_tmp", "no")
    if state.release.has("private_tmp_any_mode_namespaces"):
        return mode != "no"
    return mode == "disconnected"


def _cgroup_mount(state: UnitState) -> bool:
    """257 checks without exec parameters, which downgrade `private` to no (and `strict` to yes);
    262 asks the kernel, which (pinned) supports cgroup namespaces."""
    mode = state.modes.get("protect_control_groups", "no")
    if state.release.has("cgroup_namespace_from_kernel"):
        return mode != "no"
    return mode in ("yes", "strict")


_EXEC_DIRECTORIES = (
    "RuntimeDirectory",
    "StateDirectory",
    "CacheDirectory",
    "LogsDirectory",
    "ConfigurationDirectory",
)
# Lists that need a mount namespace as soon as they hold an entry.
_NAMESPACE_LISTS = (
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "ExecPaths",
    "NoExecPaths",
    "BindPaths",
    "BindReadOnlyPaths",
    "TemporaryFileSystem",
    "ExtensionImages",
    "ExtensionDirectories",
    "MountFlags",
)
# Every directive whose presence the mount-namespace rule above reads.
NAMESPACE_DIRECTIVES = (
    *_NAMESPACE_LISTS,
    "NetworkNamespacePath",
    "MountAPIVFS",
    "BindLogSockets",
    "LogNamespace",
    "PrivateIPC",
    "IPCNamespacePath",
    *_EXEC_DIRECTORIES,
)


def verify_contexts(state: UnitState, where: Location) -> Diagnostic | None:
    """unit_verify_contexts(): refusals of units with an exec context, per release (256+)."""
    if state.unit_type not in _EXEC_TYPES:
        return None
    r = state.release
    message, field = None, ""
    if r.has("dynamic_user_home_refused") and state.dynamic_user and state.working_directory_home:
        message, field = "WorkingDirectory=~ is not allowed with DynamicUser=yes", "working_directory"
    elif (
        r.has("working_directory_api_vfs_refused")
        and state.working_directory is not None
        and _below_api_vfs(state.working_directory)
        and needs_mount_namespace(state)
    ):
        message = "WorkingDirectory= may not be below /proc, /sys or /dev when the unit has a mount namespace"
        field = "working_directory"
    elif r.has("private_pids") and state.private_pids and state.unit_type != "service":
        message, field = "PrivatePIDs= is only supported for services", "private_pids"
    elif (
        r.has("private_users_managed")
        and state.private_users_managed
        and (state.user or state.dynamic_user or state.group or state.pam_name)
    ):
        message = "PrivateUsers=managed may not be used with User=, DynamicUser=, Group= or PAMName="
        field = "private_users"
    elif r.has("private_pids_pam_refused") and state.private_pids and state.pam_name:
        message, field = "PAMName= is not supported with PrivatePIDs=", "private_pids"
    elif r.has("private_pids") and _pam_kill_mode_refused(state):
        message, field = "PAMName= needs KillMode=control-group or mixed", "kill_mode"
    if message is None:
        return None
    where = state.origins.get(field, where)
    return Diagnostic(where, f"{message}; systemd refuses to load the unit", Severity.ERROR, FATAL_VALUE)
