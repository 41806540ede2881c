"""The inputs of systemd-analyze's checks: the loaded unit after systemd's own implications.

Mirrors `unit_patch_contexts()` (what PrivateDevices=, DynamicUser=, ProtectClock=... imply at load
time) and `get_security_info()` (what the offline analyzer copies out of the loaded unit).
"""

from __future__ import annotations

from unitgate.model import Location
from unitgate.parse import unitname
from unitgate.records import dataclass, field, fields
from unitgate.security import names, syscalls
from unitgate.security.releases import SYSTEMD_252, Release
from unitgate.security.settings import UnitState

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from typing import Any

_CAP = names.CAPABILITIES
_EXEC_TYPES = frozenset({"service", "socket", "mount", "swap"})
_CGROUP_TYPES = _EXEC_TYPES | {"slice", "scope"}


@dataclass(frozen=True)
class SecurityInfo:
    """systemd's SecurityInfo, with the line that decided each field in `origins`."""

    unit: str = field(compare=False)  # no check reads it: units with equal settings share one score
    unit_type: str
    release: Release = SYSTEMD_252  # the scoring model: how the analyzer of that release prints rows
    user_scope: bool = False  # analysed with --user
    default_dependencies: bool = True
    user: str | None = None
    supplementary_groups: tuple[str, ...] = ()
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
    protect_home: str | None = None
    protect_system: str | None = None
    protect_proc: str | None = None
    proc_subset: str | None = None
    keyring_mode: str | None = None
    umask: int = 0o002
    capability_bounding_set: int = names.CAP_ALL
    ambient_capabilities: int = 0
    system_call_filter_allow_list: bool = False
    system_call_filter: frozenset[str] = frozenset()
    system_call_architectures: frozenset[str] = frozenset()
    restrict_namespaces: int = names.NAMESPACE_FLAGS_INITIAL
    restrict_address_family_inet: bool = False
    restrict_address_family_unix: bool = False
    restrict_address_family_netlink: bool = False
    restrict_address_family_packet: bool = False
    restrict_address_family_other: bool = False
    root_directory: str | None = None
    root_image: str | None = None
    notify_access: str | None = None
    delegate: bool = False
    device_policy: str | None = None
    device_allow: tuple[str, ...] = ()
    ip_address_deny_all: bool = False
    ip_address_allow_localhost: bool = False
    ip_address_allow_other: bool = False
    ip_filters_custom_ingress: bool = False
    ip_filters_custom_egress: bool = False
    origins: dict[str, Location] = field(default_factory=dict, compare=False)
    _hash: list[int] = field(default_factory=list, compare=False, repr=False)  # computed once

    def __hash__(self) -> int:
        # The scorer's cache hashes each SecurityInfo; its ~50 fields make that worth remembering.
        if not self._hash:
            self._hash.append(hash(tuple(getattr(self, f) for f in _HASHED_FIELDS)))
        return self._hash[0]

    @property
    def runs_privileged(self) -> bool:
        """security_info_runs_privileged(): root, or no user and no DynamicUser= (since 262 never
        for a --user unit: its manager cannot switch identity)."""
        if self.user_scope and self.release.has("user_scope_unprivileged"):
            return False
        if self.user in ("0", "root"):
            return True
        if self.dynamic_user:
            return False
        return not self.user


_HASHED_FIELDS = tuple(f.name for f in fields(SecurityInfo) if f.compare)


def user_from_unit_name(unit: str) -> str:
    """The user DynamicUser= picks when User= is unset: the unit-name prefix if it is a valid name."""
    prefix = unitname.prefix_of(unit)
    if _valid_user_name_strict(prefix):
        return prefix
    # systemd uses a keyed siphash here; any "_du"-prefixed name scores the same.
    import hashlib  # here: OpenSSL's start-up is paid only by runs that need it

    return "_du" + hashlib.sha256(prefix.encode()).hexdigest()[:16]


def _valid_user_name_strict(name: str) -> bool:
    if not name or not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")):
        return False
    if len(name) > 31:  # utmp's UT_NAMESIZE - 1
        return False
    return all(c.isascii() and (c.isalnum() or c in "_-") for c in name[1:])


def _address_family_flags(state: UnitState) -> dict[str, bool]:
    allow = state.address_families_allow_list
    flags = dict.fromkeys(("inet", "unix", "netlink", "packet", "other"), allow)
    af = names.ADDRESS_FAMILIES
    for family in state.address_families or ():
        if family == 0:
            continue
        if family in (af["AF_INET"], af["AF_INET6"]):
            flags["inet"] = not allow
        elif family == af["AF_UNIX"]:
            flags["unix"] = not allow
        elif family == af["AF_NETLINK"]:
            flags["netlink"] = not allow
        elif family == af["AF_PACKET"]:
            flags["packet"] = not allow
        else:
            flags["other"] = not allow
    return flags


def _syscall_set(state: UnitState) -> frozenset[str]:
    """Names the analyzer sees; in an allow list, `~name:errno` entries count as not allowed."""
    if state.syscall_filter is None:
        return frozenset()
    # Set operations in C: an allow list of @system-service holds several hundred names.
    if state.syscall_allow_list:
        seen = frozenset([name for name, errno in state.syscall_filter.items() if errno < 0])
    else:
        seen = frozenset(state.syscall_filter)
    return seen & _KNOWN_SYSCALLS


_KNOWN_SYSCALLS = syscalls.NATIVE | syscalls.KNOWN_NON_NATIVE


def build_info(state: UnitState, unit: str) -> SecurityInfo:
    """Apply unit_patch_contexts()'s implications, then copy what the analyzer reads.

    Units without an ExecContext (timers, targets, slices...) keep security_info_new()'s defaults
    for the exec fields (root, umask 0002...); slices and scopes still have a CGroupContext.
    """
    origins = dict(state.origins)
    has_exec = state.unit_type in _EXEC_TYPES
    fields: dict[str, Any] = _exec_fields(state, unit, origins) if has_exec else {}
    if state.unit_type in _CGROUP_TYPES:
        fields.update(_cgroup_fields(state, origins, implicit_devices=has_exec))
    return SecurityInfo(
        unit=unit,
        unit_type=state.unit_type,
        release=state.release,
        user_scope=state.user_scope,
        default_dependencies=state.default_dependencies,
        origins=origins,
        **fields,
    )


def _exec_fields(state: UnitState, unit: str, origins: dict[str, Location]) -> dict[str, Any]:
    bounding = state.capability_bounding_set
    removals = (
        ("private_devices", ("CAP_MKNOD", "CAP_SYS_RAWIO")),
        ("protect_kernel_modules", ("CAP_SYS_MODULE",)),
        ("protect_kernel_logs", ("CAP_SYSLOG",)),
        ("protect_clock", ("CAP_SYS_TIME", "CAP_WAKE_ALARM")),
    )
    for attr, caps in removals:
        if getattr(state, attr):
            for cap in caps:
                if bounding & (1 << _CAP[cap]):
                    origins["capability_bounding_set"] = origins[attr]
                bounding &= ~(1 << _CAP[cap])

    implied: dict[str, Any] = {}
    user = state.user
    if state.dynamic_user:
        dyn = origins["dynamic_user"]
        if user is None:
            user = user_from_unit_name(unit)
            origins["user"] = dyn
        implied = dict.fromkeys(_FORCED_BY_DYNAMIC_USER, True)
        implied["protect_system"] = "strict"
        if state.protect_home == "no":
            implied["protect_home"] = "read-only"
        for attr in implied:
            origins[attr] = dyn

    flags = _address_family_flags(state)
    fields: dict[str, Any] = {
        "user": user,
        "supplementary_groups": tuple(state.supplementary_groups),
        "dynamic_user": state.dynamic_user,
        "umask": state.umask,
        "capability_bounding_set": bounding,
        "ambient_capabilities": state.ambient_capabilities,
        "system_call_filter_allow_list": state.syscall_allow_list,
        "system_call_filter": _syscall_set(state),
        "system_call_architectures": frozenset(state.syscall_archs),
        "restrict_namespaces": state.restrict_namespaces,
        "root_directory": state.root_directory,
        "root_image": state.root_image,
        "notify_access": state.notify_access,
        **{f"restrict_address_family_{k}": v for k, v in flags.items()},
    }
    for attr in _COPIED_EXEC_FIELDS:
        fields[attr] = implied.get(attr, getattr(state, attr))
    if state.private_mounts is None:  # unset: a tristate since 254, which the analyzer reads as true
        fields["private_mounts"] = state.release.has("private_mounts_tristate")
    return fields


_FORCED_BY_DYNAMIC_USER = ("private_tmp", "remove_ipc", "no_new_privileges", "restrict_suid_sgid")
# ExecContext fields the analyzer copies as they are (after DynamicUser='s implications).
_COPIED_EXEC_FIELDS = (
    "remove_ipc",
    "private_devices",
    "private_mounts",
    "private_network",
    "private_tmp",
    "private_users",
    "protect_control_groups",
    "protect_kernel_modules",
    "protect_kernel_tunables",
    "protect_kernel_logs",
    "protect_clock",
    "protect_hostname",
    "lock_personality",
    "memory_deny_write_execute",
    "no_new_privileges",
    "restrict_realtime",
    "restrict_suid_sgid",
    "protect_home",
    "protect_system",
    "protect_proc",
    "proc_subset",
    "keyring_mode",
)


def _cgroup_fields(state: UnitState, origins: dict[str, Location], implicit_devices: bool) -> dict[str, Any]:
    device_policy = state.device_policy
    device_allow = list(state.device_allow)
    if implicit_devices:  # unit_patch_contexts() adds these only where there is an ExecContext too
        if state.private_devices and device_policy == "auto":
            device_policy = "closed"
            origins["device_policy"] = origins["private_devices"]
        if device_policy != "auto" or device_allow:
            # Each entry is prepended, in this order, so the newest shows first.
            if state.root_image or state.mount_images or state.root_mstack:
                for entry in ("/dev/loop-control:rw", "/dev/mapper/control:rw"):
                    device_allow.insert(0, entry)
                for entry in ("block-loop:rwm", "block-blkext:rwm", "block-device-mapper:rwm"):
                    device_allow.insert(0, entry)
            if state.protect_clock:
                device_allow.insert(0, "char-rtc:r")
                origins.setdefault("device_allow", origins["protect_clock"])
            encrypted = any(state.load_credentials.values()) or any(state.set_credentials.values())
            if encrypted and not state.release.has("credential_no_tpm_device"):
                tpm = "char-tpm:rw" if state.release.has("credential_tpm_by_major") else "/dev/tpmrm0:rw"
                device_allow.insert(0, tpm)
    allow = state.ip_address_allow
    return {
        "delegate": state.delegate,
        "device_policy": device_policy,
        "device_allow": tuple(device_allow),
        "ip_address_deny_all": (4, 0, 0) in state.ip_address_deny and (6, 0, 0) in state.ip_address_deny,
        "ip_address_allow_localhost": any(_is_localhost(p) for p in allow),
        "ip_address_allow_other": any(not _is_localhost(p) for p in allow),
        "ip_filters_custom_ingress": bool(state.ip_filters_ingress),
        "ip_filters_custom_egress": bool(state.ip_filters_egress),
    }


def _is_localhost(prefix: tuple[int, int, int]) -> bool:
    version, _, addr = prefix
    return (addr >> 24) == 127 if version == 4 else addr == 1
