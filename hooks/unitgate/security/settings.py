"""What each directive means: the dispatch table from directive to parser, applied in merge order.

The base unit is applied first, then each drop-in. Each parser updates the unit's state exactly as
systemd's does (replace, accumulate, reset on empty, `~` lists decided by the first line...), and
records which line last changed each field, so a check can point at the line that decided it. The
parsers live in `unitgate.security.directives`, one small module per kind of value; this module only
says which directive goes to which parser, and re-exports the names other modules import from here.
"""

from __future__ import annotations

from unitgate.model import Assignment, Diagnostic, Severity
from unitgate.security import names
from unitgate.security.directives.capabilities import capabilities, capability_mask, initial_bounding_set
from unitgate.security.directives.commands import exec_lines
from unitgate.security.directives.flags import (
    KILL_MODES,
    RESTART_MODES,
    SERVICE_TYPES,
    bus_name,
    bus_name_is_valid,
    enum_of,
    flag_if_set,
    kill_mode,
    scored_bool,
    service_type,
    set_string,
    umask,
)
from unitgate.security.directives.identity import (
    NOBODY,
    mount_images,
    pid_file,
    root_path,
    security_label,
    supplementary_groups,
    user_or_group,
    valid_user_name_relaxed,
    working_directory,
)
from unitgate.security.directives.ip_devices import (
    credential,
    delegate,
    device_allow,
    ip_filter_paths,
    ip_prefixes,
)
from unitgate.security.directives.isolation import address_families, restrict_namespaces
from unitgate.security.directives.modes import (
    modes,
    namespace_list,
    private_mounts,
    private_pids,
    protect_hostname,
)
from unitgate.security.directives.refusals import (
    NAMESPACE_DIRECTIVES,
    verify_contexts,
    verify_other,
    verify_service,
)
from unitgate.security.directives.seccomp import SECCOMP_ERROR_NUMBER_KILL, syscall_archs, syscall_filter
from unitgate.security.directives.state import (
    BAD_VALUE,
    FATAL_VALUE,
    NEWER_KEY,
    NEWER_VALUE,
    NOTICE,
    OK,
    UNKNOWN_KEY,
    Handler,
    Outcome,
    UnitState,
    parse_boolean,
)
from unitgate.security.directives.validated import VALIDATORS
from unitgate.security.releases import ADDED_IN, DIRECTIVE_FEATURES, SYSTEMD_252, Release, first_knowing
from unitgate.security.words import UnitContext

__all__ = [
    "BAD_VALUE",
    "CGROUP_SECTIONS",
    "EXEC_SECTIONS",
    "FATAL_VALUE",
    "KILL_MODES",
    "NEWER_KEY",
    "NEWER_VALUE",
    "NOBODY",
    "NOTICE",
    "OK",
    "RESTART_MODES",
    "SECCOMP_ERROR_NUMBER_KILL",
    "SECTIONS_BY_TYPE",
    "SERVICE_TYPES",
    "UNKNOWN_KEY",
    "Handler",
    "Outcome",
    "UnitState",
    "apply",
    "bus_name_is_valid",
    "capability_mask",
    "handler_for",
    "new_state",
    "parse_boolean",
    "valid_user_name_relaxed",
    "verify_contexts",
    "verify_other",
    "verify_service",
]

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
    "User": user_or_group("user"),
    "Group": user_or_group("group"),
    "SupplementaryGroups": supplementary_groups,
    "RootDirectory": root_path("root_directory"),
    "RootImage": root_path("root_image"),
    "RootVerity": root_path(None),
    "RootMStack": root_path("root_mstack"),
    "WorkingDirectory": working_directory,
    "SELinuxContext": security_label,
    "AppArmorProfile": security_label,
    "SmackProcessLabel": security_label,
    "MountImages": mount_images,
    "UMask": umask,
    "CapabilityBoundingSet": capabilities("capability_bounding_set"),
    "AmbientCapabilities": capabilities("ambient_capabilities"),
    "SystemCallFilter": syscall_filter,
    "SystemCallArchitectures": syscall_archs,
    "RestrictAddressFamilies": address_families,
    "RestrictNamespaces": restrict_namespaces,
    "ProtectSystem": enum_of("protect_system", names.ENUMS["ProtectSystem"], "yes"),
    "ProtectHome": enum_of("protect_home", names.ENUMS["ProtectHome"], "yes"),
    "ProtectProc": enum_of("protect_proc", names.ENUMS["ProtectProc"]),
    "ProcSubset": enum_of("proc_subset", names.ENUMS["ProcSubset"]),
    "KeyringMode": enum_of("keyring_mode", names.ENUMS["KeyringMode"]),
    "DevicePolicy": enum_of("device_policy", names.ENUMS["DevicePolicy"]),
    "DeviceAllow": device_allow,
    "Delegate": delegate,
    "IPAddressAllow": ip_prefixes("ip_address_allow"),
    "IPAddressDeny": ip_prefixes("ip_address_deny"),
    "IPIngressFilterPath": ip_filter_paths("ip_filters_ingress"),
    "IPEgressFilterPath": ip_filter_paths("ip_filters_egress"),
    "LoadCredential": credential("load_credentials", False),
    "LoadCredentialEncrypted": credential("load_credentials", True),
    "SetCredential": credential("set_credentials", False),
    "SetCredentialEncrypted": credential("set_credentials", True),
    "PAMName": set_string("pam_name"),
    **{k: exec_lines(None) for k in _OTHER_EXEC},
    "KillMode": kill_mode,
    "PrivateMounts": private_mounts,
    "PrivateTmp": modes("private_tmp"),
    "PrivateUsers": modes("private_users"),
    "ProtectControlGroups": modes("protect_control_groups"),
    "ProtectHostname": protect_hostname,
    "PrivatePIDs": private_pids,
    **dict.fromkeys(NAMESPACE_DIRECTIVES, namespace_list),
}
_SERVICE_HANDLERS: dict[str, Handler] = {
    "NotifyAccess": enum_of("notify_access", names.ENUMS["NotifyAccess"]),
    "Type": service_type,
    "ExecStart": exec_lines("exec_start"),
    "ExecStop": exec_lines("exec_stop"),
    "Restart": set_string("restart", RESTART_MODES),
    "BusName": bus_name,
    "PIDFile": pid_file,
    "RestartForceExitStatus": flag_if_set("restart_force_status", bool),
    "ExitType": flag_if_set("exit_type_cgroup", lambda v: v == "cgroup"),
}
_UNIT_HANDLERS: dict[str, Handler] = {
    "SuccessAction": flag_if_set("success_action", lambda v: v not in ("", "none")),
}


def handler_for(section: str, key: str) -> Handler | None:
    if section == "Service" and key in _SERVICE_HANDLERS:
        return _SERVICE_HANDLERS[key]
    if section == "Unit" and key in _UNIT_HANDLERS:
        return _UNIT_HANDLERS[key]
    if section in CGROUP_SECTIONS and key in _HANDLERS:
        return _HANDLERS[key]
    return None


def apply(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Apply one assignment as systemd's parser for its directive would."""
    spec = state.release.directive(f"{a.section}.{a.key}")
    if spec is None:
        if a.key.startswith("X-"):
            return OK
        return _unknown_key(state.release, a)
    handler = handler_for(a.section, a.key)
    if handler is not None:
        return handler(state, a, ctx)
    if spec[0] == "config_parse_bool":
        return scored_bool(state, a, ctx)
    validate = VALIDATORS.get(spec[0])
    return validate(state, a, ctx) if validate is not None else OK


def _unknown_key(release: Release, a: Assignment) -> Outcome:
    """Unknown to this release; if a later release knows it, say which (the line does nothing here)."""
    later = first_knowing(f"{a.section}.{a.key}")
    if later is None or later.version < release.version:
        from unitgate.security.directives.suggest import did_you_mean  # only for unknown keys

        hint = did_you_mean(release, a.section, a.key)
        message = f"unknown key '{a.key}' in section [{a.section}], ignored{hint}"
        return Outcome((Diagnostic(a.location, message, Severity.WARNING, UNKNOWN_KEY),), ignored=True)
    feature = DIRECTIVE_FEATURES.get(a.key)
    since = f"added in {ADDED_IN[feature]}" if feature else f"systemd {later.version} knows it"
    message = f"{a.key}= is not known to systemd {release.version} ({since}); the line has no effect there"
    return Outcome((Diagnostic(a.location, message, Severity.WARNING, NEWER_KEY),), ignored=True)


def new_state(unit_type: str, scope: str, release: Release = SYSTEMD_252) -> UnitState:
    """Defaults before any file is applied (services: KeyringMode=private; user units: inherit)."""
    keyring = "inherit" if scope == "user" else ("private" if unit_type == "service" else "shared")
    return UnitState(
        unit_type=unit_type,
        release=release,
        user_scope=scope == "user",
        capability_bounding_set=initial_bounding_set(release),
        keyring_mode=keyring,
        notify_access="none" if unit_type == "service" else None,
    )
