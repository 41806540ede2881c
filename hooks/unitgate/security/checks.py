"""systemd 252's `security_assessor_table`: one row per check, in systemd's order.

Each row names its weight, range, texts and an assessor; assessors are small pure functions of the
SecurityInfo that return the badness (None: not applicable), an optional description that replaces
the row's good/bad text, and which SecurityInfo field decided it (for the file:line shown to users).
Weights, ranges and texts are systemd's (v252.38); newer scoring models can add their own tables.
"""

from __future__ import annotations

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable

from unitgate.memo import lru_cache
from unitgate.records import dataclass
from unitgate.security import names, syscalls
from unitgate.security.info import SecurityInfo
from unitgate.security.releases import Release

MAN_BASE = "https://www.freedesktop.org/software/systemd/man/"
NOBODY_USER_NAME = "nobody"


@dataclass(frozen=True)
class Assessment:
    badness: int | None  # None: the check does not apply (systemd's UINT64_MAX)
    description: str | None = None  # replaces the row's good/bad text when set
    decided_by: str | None = None  # SecurityInfo field whose origin is the deciding line


Assessor = Callable[["Check", SecurityInfo], Assessment]


@dataclass(frozen=True)
class Check:
    name: str  # systemd-analyze's NAME column
    json_field: str  # systemd's policy key; a stable id
    weight: int
    range: int
    assess: Assessor
    field: str | None = None  # SecurityInfo attribute read by the generic assessors
    parameter: object = None  # capability names, namespace, syscall group, or the bool polarity
    default_dependencies_only: bool = False
    description_good: str | None = None
    description_bad: str | None = None
    description_na: str | None = None
    url: str = ""  # relative to MAN_BASE
    directives: tuple[str, ...] = ()  # what a user edits to change this row

    @property
    def help_uri(self) -> str:
        return MAN_BASE + self.url


def _plain(badness: int, field: str | None) -> Assessment:
    """Assessment(badness, decided_by=field), one shared instance per pair: most checks have two
    outcomes, and every unit asks for them (values are frozen, so sharing changes nothing)."""
    key = (badness, field)
    found = _PLAIN.get(key)
    if found is None:
        found = _PLAIN[key] = Assessment(badness, decided_by=field)
    return found


_PLAIN: dict[tuple[int, str | None], Assessment] = {}


def boolean(c: Check, i: SecurityInfo) -> Assessment:
    value = bool(getattr(i, c.field or ""))
    return _plain(int(value) if c.parameter else int(not value), c.field)


def user(c: Check, i: SecurityInfo) -> Assessment:
    decided = "user" if i.user else "dynamic_user"
    if i.user == NOBODY_USER_NAME:
        text = f"Service runs under as '{NOBODY_USER_NAME}' user, which should not be used for services"
        return Assessment(9, text, "user")
    if i.dynamic_user and i.user not in ("0", "root"):
        return Assessment(0, "Service runs under a transient non-root user identity", "dynamic_user")
    if i.user and i.user not in ("0", "root"):
        return Assessment(0, "Service runs under a static non-root user identity", "user")
    if i.user_scope and i.release.has("user_scope_unprivileged"):
        return Assessment(0, "Service runs under the calling user's identity", decided)
    return Assessment(10, decided_by=decided)


def supplementary_groups(c: Check, i: SecurityInfo) -> Assessment:
    if i.runs_privileged:
        return Assessment(None, decided_by="user")
    return Assessment(int(bool(i.supplementary_groups)), decided_by="supplementary_groups")


def remove_ipc(c: Check, i: SecurityInfo) -> Assessment:
    if i.user_scope and i.release.has("user_scope_unprivileged"):
        return Assessment(None, "RemoveIPC= has no effect on per-user services", "remove_ipc")
    if i.runs_privileged:
        return Assessment(None, decided_by="user")
    return Assessment(int(not i.remove_ipc), decided_by="remove_ipc")


def _parse_bool(value: str | None) -> bool | None:
    v = (value or "").lower()
    return True if v in names.BOOLEAN_TRUE else False if v in names.BOOLEAN_FALSE else None


def protect_home(c: Check, i: SecurityInfo) -> Assessment:
    b = _parse_bool(i.protect_home)
    if b is None and i.protect_home == "read-only":
        return Assessment(5, "Service has read-only access to home directories", "protect_home")
    if b is None and i.protect_home == "tmpfs":
        return Assessment(1, "Service has access to fake empty home directories", "protect_home")
    if b:
        return Assessment(0, "Service has no access to home directories", "protect_home")
    return Assessment(10, "Service has full access to home directories", "protect_home")


def protect_system(c: Check, i: SecurityInfo) -> Assessment:
    b = _parse_bool(i.protect_system)
    if b is None and i.protect_system == "full":
        return Assessment(
            3, "Service has very limited write access to the OS file hierarchy", "protect_system"
        )
    if b is None and i.protect_system == "strict":
        return Assessment(0, "Service has strict read-only access to the OS file hierarchy", "protect_system")
    if b:
        return Assessment(5, "Service has limited write access to the OS file hierarchy", "protect_system")
    return Assessment(10, "Service has full access to the OS file hierarchy", "protect_system")


def _empty_or_root(path: str | None) -> bool:
    return not path or path.strip("/") == ""


def root_directory(c: Check, i: SecurityInfo) -> Assessment:
    bad = _empty_or_root(i.root_directory) and _empty_or_root(i.root_image)
    decided = "root_image" if i.root_image and not i.root_directory else "root_directory"
    return Assessment(int(bad), decided_by=decided)


@lru_cache(maxsize=64)
def _capability_mask(caps: tuple[str, ...]) -> int:
    mask = 0
    for cap in caps:
        mask |= 1 << names.CAPABILITIES[cap]
    return mask


def capability(c: Check, i: SecurityInfo) -> Assessment:
    assert isinstance(c.parameter, tuple)
    bad = bool(i.capability_bounding_set & _capability_mask(c.parameter))
    return _plain(int(bad), "capability_bounding_set")


_UMASK_STEPS = (
    (0o002, 10, "Files created by service are world-writable by default"),
    (0o004, 5, "Files created by service are world-readable by default"),
    (0o020, 2, "Files created by service are group-writable by default"),
    (0o040, 1, "Files created by service are group-readable by default"),
)


def umask(c: Check, i: SecurityInfo) -> Assessment:
    for bit, badness, text in _UMASK_STEPS:
        if not i.umask & bit:
            return Assessment(badness, text, "umask")
    return Assessment(
        0, "Files created by service are accessible only by service's own user by default", "umask"
    )


def keyring_mode(c: Check, i: SecurityInfo) -> Assessment:
    return Assessment(int(i.keyring_mode != "private"), decided_by="keyring_mode")


def protect_proc(c: Check, i: SecurityInfo) -> Assessment:
    if i.protect_proc == "noaccess":
        return Assessment(1, decided_by="protect_proc")
    if i.protect_proc in ("invisible", "ptraceable"):
        return Assessment(0, decided_by="protect_proc")
    return Assessment(3, decided_by="protect_proc")


def proc_subset(c: Check, i: SecurityInfo) -> Assessment:
    return Assessment(int(i.proc_subset != "pid"), decided_by="proc_subset")


def notify_access(c: Check, i: SecurityInfo) -> Assessment:
    return Assessment(int(i.notify_access == "all"), decided_by="notify_access")


def namespace(c: Check, i: SecurityInfo) -> Assessment:
    assert isinstance(c.parameter, str)
    return _plain(int(bool(i.restrict_namespaces & names.NAMESPACES[c.parameter])), c.field)


def system_call_architectures(c: Check, i: SecurityInfo) -> Assessment:
    archs = i.system_call_architectures
    if not archs:
        return Assessment(10, "Service may execute system calls with all ABIs", "system_call_architectures")
    if archs == {"native"}:
        return Assessment(
            0, "Service may execute system calls only with native ABI", "system_call_architectures"
        )
    return Assessment(8, "Service may execute system calls with multiple ABIs", "system_call_architectures")


def _offender(group: str, allowed: frozenset[str], allow_list: bool, release: Release) -> str | None:
    """The first member (depth-first, table order) whose presence in the set equals allow_list."""
    for member in release.syscall_group(group) or ():
        if member.startswith("@"):
            found = _offender(member, allowed, allow_list, release)
            if found is not None:
                return found
            continue
        if member not in syscalls.NATIVE:  # not a system call on this architecture
            continue
        if (member in allowed) == allow_list:
            return member
    return None


def syscall_group(c: Check, i: SecurityInfo) -> Assessment:
    assert isinstance(c.parameter, str)
    group, allow = c.parameter, i.system_call_filter_allow_list
    if not allow and not i.system_call_filter:
        return Assessment(10, "Service does not filter system calls", "system_call_filter")
    offender = _offender(group, i.system_call_filter, allow, i.release)
    kind = "allow" if allow else "deny"
    if offender is not None:
        inclusion = "is included" if allow else "is not included"
        text = f"System call {kind} list defined for service, and {group} {inclusion} "
        text += f"(e.g. {offender} is allowed)"
        return Assessment(9 if allow else 10, text, "system_call_filter")
    inclusion = "is not included" if allow else "is included"
    return Assessment(
        0, f"System call {kind} list defined for service, and {group} {inclusion}", "system_call_filter"
    )


def ip_address_allow(c: Check, i: SecurityInfo) -> Assessment:
    if i.ip_filters_custom_ingress or i.ip_filters_custom_egress:
        decided = "ip_filters_ingress" if i.ip_filters_custom_ingress else "ip_filters_egress"
        return Assessment(0, "Service defines custom ingress/egress IP filters with BPF programs", decided)
    if not i.ip_address_deny_all:
        return Assessment(10, "Service does not define an IP address allow list", "ip_address_deny")
    if i.ip_address_allow_other:
        return Assessment(
            5, "Service defines IP address allow list with non-localhost entries", "ip_address_allow"
        )
    if i.ip_address_allow_localhost:
        return Assessment(
            2, "Service defines IP address allow list with only localhost entries", "ip_address_allow"
        )
    return Assessment(0, "Service blocks all IP address ranges", "ip_address_deny")


def device_allow(c: Check, i: SecurityInfo) -> Assessment:
    if i.device_policy in ("strict", "closed"):
        if i.device_allow:
            text = "Service has a device ACL with some special devices: " + " ".join(i.device_allow)
            return Assessment(5, text, "device_allow")
        return Assessment(0, "Service has a minimal device ACL", "device_policy")
    return Assessment(10, "Service has no device ACL", "device_policy")


def ambient_capabilities(c: Check, i: SecurityInfo) -> Assessment:
    return Assessment(int(i.ambient_capabilities != 0), decided_by="ambient_capabilities")


CHECKS: tuple[Check, ...] = (
    Check(
        name="User=/DynamicUser=",
        json_field="UserOrDynamicUser",
        weight=2000,
        range=10,
        assess=user,
        description_bad="Service runs as root user",
        url="systemd.exec.html#User=",
        directives=(
            "User",
            "DynamicUser",
        ),
    ),
    Check(
        name="SupplementaryGroups=",
        json_field="SupplementaryGroups",
        weight=200,
        range=1,
        assess=supplementary_groups,
        description_good="Service has no supplementary groups",
        description_bad="Service runs with supplementary groups",
        description_na="Service runs as root, option does not matter",
        url="systemd.exec.html#SupplementaryGroups=",
        directives=("SupplementaryGroups",),
    ),
    Check(
        name="PrivateDevices=",
        json_field="PrivateDevices",
        weight=1000,
        range=1,
        assess=boolean,
        field="private_devices",
        description_good="Service has no access to hardware devices",
        description_bad="Service potentially has access to hardware devices",
        url="systemd.exec.html#PrivateDevices=",
        directives=("PrivateDevices",),
    ),
    Check(
        name="PrivateMounts=",
        json_field="PrivateMounts",
        weight=1000,
        range=1,
        assess=boolean,
        field="private_mounts",
        description_good="Service cannot install system mounts",
        description_bad="Service may install system mounts",
        url="systemd.exec.html#PrivateMounts=",
        directives=("PrivateMounts",),
    ),
    Check(
        name="PrivateNetwork=",
        json_field="PrivateNetwork",
        weight=2500,
        range=1,
        assess=boolean,
        field="private_network",
        description_good="Service has no access to the host's network",
        description_bad="Service has access to the host's network",
        url="systemd.exec.html#PrivateNetwork=",
        directives=("PrivateNetwork",),
    ),
    Check(
        name="PrivateTmp=",
        json_field="PrivateTmp",
        weight=1000,
        range=1,
        assess=boolean,
        field="private_tmp",
        default_dependencies_only=True,
        description_good="Service has no access to other software's temporary files",
        description_bad="Service has access to other software's temporary files",
        url="systemd.exec.html#PrivateTmp=",
        directives=("PrivateTmp",),
    ),
    Check(
        name="PrivateUsers=",
        json_field="PrivateUsers",
        weight=1000,
        range=1,
        assess=boolean,
        field="private_users",
        description_good="Service does not have access to other users",
        description_bad="Service has access to other users",
        url="systemd.exec.html#PrivateUsers=",
        directives=("PrivateUsers",),
    ),
    Check(
        name="ProtectControlGroups=",
        json_field="ProtectControlGroups",
        weight=1000,
        range=1,
        assess=boolean,
        field="protect_control_groups",
        description_good="Service cannot modify the control group file system",
        description_bad="Service may modify the control group file system",
        url="systemd.exec.html#ProtectControlGroups=",
        directives=("ProtectControlGroups",),
    ),
    Check(
        name="ProtectKernelModules=",
        json_field="ProtectKernelModules",
        weight=1000,
        range=1,
        assess=boolean,
        field="protect_kernel_modules",
        description_good="Service cannot load or read kernel modules",
        description_bad="Service may load or read kernel modules",
        url="systemd.exec.html#ProtectKernelModules=",
        directives=("ProtectKernelModules",),
    ),
    Check(
        name="ProtectKernelTunables=",
        json_field="ProtectKernelTunables",
        weight=1000,
        range=1,
        assess=boolean,
        field="protect_kernel_tunables",
        description_good="Service cannot alter kernel tunables (/proc/sys, …)",
        description_bad="Service may alter kernel tunables",
        url="systemd.exec.html#ProtectKernelTunables=",
        directives=("ProtectKernelTunables",),
    ),
    Check(
        name="ProtectKernelLogs=",
        json_field="ProtectKernelLogs",
        weight=1000,
        range=1,
        assess=boolean,
        field="protect_kernel_logs",
        description_good="Service cannot read from or write to the kernel log ring buffer",
        description_bad="Service may read from or write to the kernel log ring buffer",
        url="systemd.exec.html#ProtectKernelLogs=",
        directives=("ProtectKernelLogs",),
    ),
    Check(
        name="ProtectClock=",
        json_field="ProtectClock",
        weight=1000,
        range=1,
        assess=boolean,
        field="protect_clock",
        description_good="Service cannot write to the hardware clock or system clock",
        description_bad="Service may write to the hardware clock or system clock",
        url="systemd.exec.html#ProtectClock=",
        directives=("ProtectClock",),
    ),
    Check(
        name="ProtectHome=",
        json_field="ProtectHome",
        weight=1000,
        range=10,
        assess=protect_home,
        default_dependencies_only=True,
        url="systemd.exec.html#ProtectHome=",
        directives=("ProtectHome",),
    ),
    Check(
        name="ProtectHostname=",
        json_field="ProtectHostname",
        weight=50,
        range=1,
        assess=boolean,
        field="protect_hostname",
        description_good="Service cannot change system host/domainname",
        description_bad="Service may change system host/domainname",
        url="systemd.exec.html#ProtectHostname=",
        directives=("ProtectHostname",),
    ),
    Check(
        name="ProtectSystem=",
        json_field="ProtectSystem",
        weight=1000,
        range=10,
        assess=protect_system,
        default_dependencies_only=True,
        url="systemd.exec.html#ProtectSystem=",
        directives=("ProtectSystem",),
    ),
    Check(
        name="RootDirectory=/RootImage=",
        json_field="RootDirectoryOrRootImage",
        weight=200,
        range=1,
        assess=root_directory,
        default_dependencies_only=True,
        description_good="Service has its own root directory/image",
        description_bad="Service runs within the host's root directory",
        url="systemd.exec.html#RootDirectory=",
        directives=(
            "RootDirectory",
            "RootImage",
        ),
    ),
    Check(
        name="LockPersonality=",
        json_field="LockPersonality",
        weight=100,
        range=1,
        assess=boolean,
        field="lock_personality",
        description_good="Service cannot change ABI personality",
        description_bad="Service may change ABI personality",
        url="systemd.exec.html#LockPersonality=",
        directives=("LockPersonality",),
    ),
    Check(
        name="MemoryDenyWriteExecute=",
        json_field="MemoryDenyWriteExecute",
        weight=100,
        range=1,
        assess=boolean,
        field="memory_deny_write_execute",
        description_good="Service cannot create writable executable memory mappings",
        description_bad="Service may create writable executable memory mappings",
        url="systemd.exec.html#MemoryDenyWriteExecute=",
        directives=("MemoryDenyWriteExecute",),
    ),
    Check(
        name="NoNewPrivileges=",
        json_field="NoNewPrivileges",
        weight=1000,
        range=1,
        assess=boolean,
        field="no_new_privileges",
        description_good="Service processes cannot acquire new privileges",
        description_bad="Service processes may acquire new privileges",
        url="systemd.exec.html#NoNewPrivileges=",
        directives=("NoNewPrivileges",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_ADMIN",
        json_field="CapabilityBoundingSet_CAP_SYS_ADMIN",
        weight=1500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_ADMIN",),
        description_good="Service has no administrator privileges",
        description_bad="Service has administrator privileges",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)",
        json_field="CapabilityBoundingSet_CAP_SET_UID_GID_PCAP",
        weight=1500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"),
        description_good="Service cannot change UID/GID identities/capabilities",
        description_bad="Service may change UID/GID identities/capabilities",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_PTRACE",
        json_field="CapabilityBoundingSet_CAP_SYS_PTRACE",
        weight=1500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_PTRACE",),
        description_good="Service has no ptrace() debugging abilities",
        description_bad="Service has ptrace() debugging abilities",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_TIME",
        json_field="CapabilityBoundingSet_CAP_SYS_TIME",
        weight=1000,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_TIME",),
        description_good="Service processes cannot change the system clock",
        description_bad="Service processes may change the system clock",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_NET_ADMIN",
        json_field="CapabilityBoundingSet_CAP_NET_ADMIN",
        weight=1000,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_NET_ADMIN",),
        description_good="Service has no network configuration privileges",
        description_bad="Service has network configuration privileges",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_RAWIO",
        json_field="CapabilityBoundingSet_CAP_SYS_RAWIO",
        weight=1000,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_RAWIO",),
        description_good="Service has no raw I/O access",
        description_bad="Service has raw I/O access",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_MODULE",
        json_field="CapabilityBoundingSet_CAP_SYS_MODULE",
        weight=1000,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_MODULE",),
        description_good="Service cannot load kernel modules",
        description_bad="Service may load kernel modules",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_AUDIT_*",
        json_field="CapabilityBoundingSet_CAP_AUDIT",
        weight=500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE"),
        description_good="Service has no audit subsystem access",
        description_bad="Service has audit subsystem access",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYSLOG",
        json_field="CapabilityBoundingSet_CAP_SYSLOG",
        weight=500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYSLOG",),
        description_good="Service has no access to kernel logging",
        description_bad="Service has access to kernel logging",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_(NICE|RESOURCE)",
        json_field="CapabilityBoundingSet_CAP_SYS_NICE_RESOURCE",
        weight=500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_NICE", "CAP_SYS_RESOURCE"),
        description_good="Service has no privileges to change resource use parameters",
        description_bad="Service has privileges to change resource use parameters",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_MKNOD",
        json_field="CapabilityBoundingSet_CAP_MKNOD",
        weight=500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_MKNOD",),
        description_good="Service cannot create device nodes",
        description_bad="Service may create device nodes",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)",
        json_field="CapabilityBoundingSet_CAP_CHOWN_FSETID_SETFCAP",
        weight=1000,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_CHOWN", "CAP_FSETID", "CAP_SETFCAP"),
        description_good="Service cannot change file ownership/access mode/capabilities",
        description_bad="Service may change file ownership/access mode/capabilities unrestricted",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)",
        json_field="CapabilityBoundingSet_CAP_DAC_FOWNER_IPC_OWNER",
        weight=1000,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_IPC_OWNER"),
        description_good="Service cannot override UNIX file/IPC permission checks",
        description_bad="Service may override UNIX file/IPC permission checks",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_KILL",
        json_field="CapabilityBoundingSet_CAP_KILL",
        weight=500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_KILL",),
        description_good="Service cannot send UNIX signals to arbitrary processes",
        description_bad="Service may send UNIX signals to arbitrary processes",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)",
        json_field="CapabilityBoundingSet_CAP_NET_BIND_SERVICE_BROADCAST_RAW)",
        weight=500,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_RAW"),
        description_good="Service has no elevated networking privileges",
        description_bad="Service has elevated networking privileges",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_BOOT",
        json_field="CapabilityBoundingSet_CAP_SYS_BOOT",
        weight=100,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_BOOT",),
        description_good="Service cannot issue reboot()",
        description_bad="Service may issue reboot()",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_MAC_*",
        json_field="CapabilityBoundingSet_CAP_MAC",
        weight=100,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE"),
        description_good="Service cannot adjust SMACK MAC",
        description_bad="Service may adjust SMACK MAC",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_LINUX_IMMUTABLE",
        json_field="CapabilityBoundingSet_CAP_LINUX_IMMUTABLE",
        weight=75,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_LINUX_IMMUTABLE",),
        description_good="Service cannot mark files immutable",
        description_bad="Service may mark files immutable",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_IPC_LOCK",
        json_field="CapabilityBoundingSet_CAP_IPC_LOCK",
        weight=50,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_IPC_LOCK",),
        description_good="Service cannot lock memory into RAM",
        description_bad="Service may lock memory into RAM",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_CHROOT",
        json_field="CapabilityBoundingSet_CAP_SYS_CHROOT",
        weight=50,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_CHROOT",),
        description_good="Service cannot issue chroot()",
        description_bad="Service may issue chroot()",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_BLOCK_SUSPEND",
        json_field="CapabilityBoundingSet_CAP_BLOCK_SUSPEND",
        weight=25,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_BLOCK_SUSPEND",),
        description_good="Service cannot establish wake locks",
        description_bad="Service may establish wake locks",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_WAKE_ALARM",
        json_field="CapabilityBoundingSet_CAP_WAKE_ALARM",
        weight=25,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_WAKE_ALARM",),
        description_good="Service cannot program timers that wake up the system",
        description_bad="Service may program timers that wake up the system",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_LEASE",
        json_field="CapabilityBoundingSet_CAP_LEASE",
        weight=25,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_LEASE",),
        description_good="Service cannot create file leases",
        description_bad="Service may create file leases",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_TTY_CONFIG",
        json_field="CapabilityBoundingSet_CAP_SYS_TTY_CONFIG",
        weight=25,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_TTY_CONFIG",),
        description_good="Service cannot issue vhangup()",
        description_bad="Service may issue vhangup()",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_SYS_PACCT",
        json_field="CapabilityBoundingSet_CAP_SYS_PACCT",
        weight=25,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_SYS_PACCT",),
        description_good="Service cannot use acct()",
        description_bad="Service may use acct()",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="CapabilityBoundingSet=~CAP_BPF",
        json_field="CapabilityBoundingSet_CAP_BPF",
        weight=25,
        range=1,
        assess=capability,
        field="capability_bounding_set",
        parameter=("CAP_BPF",),
        description_good="Service may not load BPF programs",
        description_bad="Service may load BPF programs",
        url="systemd.exec.html#CapabilityBoundingSet=",
        directives=("CapabilityBoundingSet",),
    ),
    Check(
        name="UMask=",
        json_field="UMask",
        weight=100,
        range=10,
        assess=umask,
        url="systemd.exec.html#UMask=",
        directives=("UMask",),
    ),
    Check(
        name="KeyringMode=",
        json_field="KeyringMode",
        weight=1000,
        range=1,
        assess=keyring_mode,
        description_good="Service doesn't share key material with other services",
        description_bad="Service shares key material with other service",
        url="systemd.exec.html#KeyringMode=",
        directives=("KeyringMode",),
    ),
    Check(
        name="ProtectProc=",
        json_field="ProtectProc",
        weight=1000,
        range=3,
        assess=protect_proc,
        description_good="Service has restricted access to process tree (/proc hidepid=)",
        description_bad="Service has full access to process tree (/proc hidepid=)",
        url="systemd.exec.html#ProtectProc=",
        directives=("ProtectProc",),
    ),
    Check(
        name="ProcSubset=",
        json_field="ProcSubset",
        weight=10,
        range=1,
        assess=proc_subset,
        description_good="Service has no access to non-process /proc files (/proc subset=)",
        description_bad="Service has full access to non-process /proc files (/proc subset=)",
        url="systemd.exec.html#ProcSubset=",
        directives=("ProcSubset",),
    ),
    Check(
        name="NotifyAccess=",
        json_field="NotifyAccess",
        weight=1000,
        range=1,
        assess=notify_access,
        description_good="Service child processes cannot alter service state",
        description_bad="Service child processes may alter service state",
        url="systemd.exec.html#NotifyAccess=",
        directives=("NotifyAccess",),
    ),
    Check(
        name="RemoveIPC=",
        json_field="RemoveIPC",
        weight=100,
        range=1,
        assess=remove_ipc,
        description_good="Service user cannot leave SysV IPC objects around",
        description_bad="Service user may leave SysV IPC objects around",
        description_na="Service runs as root, option does not apply",
        url="systemd.exec.html#RemoveIPC=",
        directives=("RemoveIPC",),
    ),
    Check(
        name="Delegate=",
        json_field="Delegate",
        weight=100,
        range=1,
        assess=boolean,
        field="delegate",
        parameter=True,  # inverted: delegation is the bad state
        description_good="Service does not maintain its own delegated control group subtree",
        description_bad="Service maintains its own delegated control group subtree",
        url="systemd.exec.html#Delegate=",
        directives=("Delegate",),
    ),
    Check(
        name="RestrictRealtime=",
        json_field="RestrictRealtime",
        weight=500,
        range=1,
        assess=boolean,
        field="restrict_realtime",
        description_good="Service realtime scheduling access is restricted",
        description_bad="Service may acquire realtime scheduling",
        url="systemd.exec.html#RestrictRealtime=",
        directives=("RestrictRealtime",),
    ),
    Check(
        name="RestrictSUIDSGID=",
        json_field="RestrictSUIDSGID",
        weight=1000,
        range=1,
        assess=boolean,
        field="restrict_suid_sgid",
        description_good="SUID/SGID file creation by service is restricted",
        description_bad="Service may create SUID/SGID files",
        url="systemd.exec.html#RestrictSUIDSGID=",
        directives=("RestrictSUIDSGID",),
    ),
    Check(
        name="RestrictNamespaces=~user",
        json_field="RestrictNamespaces_user",
        weight=1500,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="user",
        description_good="Service cannot create user namespaces",
        description_bad="Service may create user namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictNamespaces=~mnt",
        json_field="RestrictNamespaces_mnt",
        weight=500,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="mnt",
        description_good="Service cannot create file system namespaces",
        description_bad="Service may create file system namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictNamespaces=~ipc",
        json_field="RestrictNamespaces_ipc",
        weight=500,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="ipc",
        description_good="Service cannot create IPC namespaces",
        description_bad="Service may create IPC namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictNamespaces=~pid",
        json_field="RestrictNamespaces_pid",
        weight=500,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="pid",
        description_good="Service cannot create process namespaces",
        description_bad="Service may create process namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictNamespaces=~cgroup",
        json_field="RestrictNamespaces_cgroup",
        weight=500,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="cgroup",
        description_good="Service cannot create cgroup namespaces",
        description_bad="Service may create cgroup namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictNamespaces=~net",
        json_field="RestrictNamespaces_net",
        weight=500,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="net",
        description_good="Service cannot create network namespaces",
        description_bad="Service may create network namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictNamespaces=~uts",
        json_field="RestrictNamespaces_uts",
        weight=100,
        range=1,
        assess=namespace,
        field="restrict_namespaces",
        parameter="uts",
        description_good="Service cannot create hostname namespaces",
        description_bad="Service may create hostname namespaces",
        url="systemd.exec.html#RestrictNamespaces=",
        directives=("RestrictNamespaces",),
    ),
    Check(
        name="RestrictAddressFamilies=~AF_(INET|INET6)",
        json_field="RestrictAddressFamilies_AF_INET_INET6",
        weight=1500,
        range=1,
        assess=boolean,
        field="restrict_address_family_inet",
        description_good="Service cannot allocate Internet sockets",
        description_bad="Service may allocate Internet sockets",
        url="systemd.exec.html#RestrictAddressFamilies=",
        directives=("RestrictAddressFamilies",),
    ),
    Check(
        name="RestrictAddressFamilies=~AF_UNIX",
        json_field="RestrictAddressFamilies_AF_UNIX",
        weight=25,
        range=1,
        assess=boolean,
        field="restrict_address_family_unix",
        description_good="Service cannot allocate local sockets",
        description_bad="Service may allocate local sockets",
        url="systemd.exec.html#RestrictAddressFamilies=",
        directives=("RestrictAddressFamilies",),
    ),
    Check(
        name="RestrictAddressFamilies=~AF_NETLINK",
        json_field="RestrictAddressFamilies_AF_NETLINK",
        weight=200,
        range=1,
        assess=boolean,
        field="restrict_address_family_netlink",
        description_good="Service cannot allocate netlink sockets",
        description_bad="Service may allocate netlink sockets",
        url="systemd.exec.html#RestrictAddressFamilies=",
        directives=("RestrictAddressFamilies",),
    ),
    Check(
        name="RestrictAddressFamilies=~AF_PACKET",
        json_field="RestrictAddressFamilies_AF_PACKET",
        weight=1000,
        range=1,
        assess=boolean,
        field="restrict_address_family_packet",
        description_good="Service cannot allocate packet sockets",
        description_bad="Service may allocate packet sockets",
        url="systemd.exec.html#RestrictAddressFamilies=",
        directives=("RestrictAddressFamilies",),
    ),
    Check(
        name="RestrictAddressFamilies=~…",
        json_field="RestrictAddressFamilies_OTHER",
        weight=1250,
        range=1,
        assess=boolean,
        field="restrict_address_family_other",
        description_good="Service cannot allocate exotic sockets",
        description_bad="Service may allocate exotic sockets",
        url="systemd.exec.html#RestrictAddressFamilies=",
        directives=("RestrictAddressFamilies",),
    ),
    Check(
        name="SystemCallArchitectures=",
        json_field="SystemCallArchitectures",
        weight=1000,
        range=10,
        assess=system_call_architectures,
        url="systemd.exec.html#SystemCallArchitectures=",
        directives=("SystemCallArchitectures",),
    ),
    Check(
        name="SystemCallFilter=~@swap",
        json_field="SystemCallFilter_swap",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@swap",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@obsolete",
        json_field="SystemCallFilter_obsolete",
        weight=250,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@obsolete",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@clock",
        json_field="SystemCallFilter_clock",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@clock",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@cpu-emulation",
        json_field="SystemCallFilter_cpu_emulation",
        weight=250,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@cpu-emulation",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@debug",
        json_field="SystemCallFilter_debug",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@debug",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@mount",
        json_field="SystemCallFilter_mount",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@mount",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@module",
        json_field="SystemCallFilter_module",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@module",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@raw-io",
        json_field="SystemCallFilter_raw_io",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@raw-io",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@reboot",
        json_field="SystemCallFilter_reboot",
        weight=1000,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@reboot",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@privileged",
        json_field="SystemCallFilter_privileged",
        weight=700,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@privileged",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="SystemCallFilter=~@resources",
        json_field="SystemCallFilter_resources",
        weight=700,
        range=10,
        assess=syscall_group,
        field="system_call_filter",
        parameter="@resources",
        url="systemd.exec.html#SystemCallFilter=",
        directives=("SystemCallFilter",),
    ),
    Check(
        name="IPAddressDeny=",
        json_field="IPAddressDeny",
        weight=1000,
        range=10,
        assess=ip_address_allow,
        url="systemd.exec.html#IPAddressDeny=",
        directives=(
            "IPAddressDeny",
            "IPAddressAllow",
            "IPIngressFilterPath",
            "IPEgressFilterPath",
        ),
    ),
    Check(
        name="DeviceAllow=",
        json_field="DeviceAllow",
        weight=1000,
        range=10,
        assess=device_allow,
        url="systemd.exec.html#DeviceAllow=",
        directives=(
            "DevicePolicy",
            "DeviceAllow",
            "PrivateDevices",
        ),
    ),
    Check(
        name="AmbientCapabilities=",
        json_field="AmbientCapabilities",
        weight=500,
        range=1,
        assess=ambient_capabilities,
        description_good="Service process does not receive ambient capabilities",
        description_bad="Service process receives ambient capabilities",
        url="systemd.exec.html#AmbientCapabilities=",
        directives=("AmbientCapabilities",),
    ),
)

BY_JSON_FIELD: dict[str, Check] = {c.json_field: c for c in CHECKS}
