"""The container's posture as values: what isolation it gets, each field with the quadlet line that
decided it, podman's default capability set, and the views the scores read (root inside, host root
mapped, effective capabilities, network mode)."""

from __future__ import annotations

import posixpath

from unitgate.model import Location
from unitgate.records import Generic, TypeVar, dataclass

T = TypeVar("T")


@dataclass(frozen=True)
class Decided(Generic[T]):
    value: T
    location: Location | None = None  # None: podman's default


@dataclass(frozen=True)
class Port:
    spec: str
    host_ip: str  # "" = every address
    location: Location

    @property
    def scope(self) -> str:
        """'all', 'loopback' or 'address'."""
        ip = self.host_ip.strip("[]")
        if ip in ("", "0.0.0.0", "::"):
            return "all"
        if ip == "::1" or ip.startswith("127.") or ip == "localhost":
            return "loopback"
        return "address"


@dataclass(frozen=True)
class Mount:
    source: str  # host path (absolute), or a named volume
    destination: str
    read_only: bool
    kind: str  # "bind" (host path) or "volume", "image", "tmpfs", ...
    location: Location

    @property
    def host_path(self) -> str | None:
        if self.kind not in ("bind", "glob"):
            return None
        src = self.source
        if src == "%h" or src.startswith("%h/"):
            src = "/home/%u" + src[2:]  # a home directory: under /home for the sensitivity rules
        return posixpath.normpath(src) if src.startswith("/") else None


@dataclass(frozen=True)
class Item:
    value: str
    location: Location


# Podman's default capability set (containers.conf default_capabilities).
DEFAULT_CAPS: frozenset[str] = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
ALL_CAPS: frozenset[str] = frozenset(
    [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ]
)


@dataclass(frozen=True)
class ContainerPosture:
    """What isolation the container gets. Lists are in command-line order."""

    rootless: Decided[bool]
    privileged: Decided[bool] = Decided(False)
    user: Decided[str | None] = Decided(None)  # None: the image's default user
    userns: Decided[str | None] = Decided(None)  # None: podman's default (host for rootful)
    id_mappings: tuple[Item, ...] = ()  # --uidmap/--gidmap/--subuidname/--subgidname
    cap_add: tuple[Item, ...] = ()  # normalised: upper case, no CAP_ prefix, "ALL"
    cap_drop: tuple[Item, ...] = ()
    no_new_privileges: Decided[bool] = Decided(False)
    read_only: Decided[bool] = Decided(False)
    seccomp: Decided[str] = Decided("default")
    label_disabled: Decided[bool] = Decided(False)
    label_type: Decided[str | None] = Decided(None)
    label_nested: Decided[bool] = Decided(False)
    apparmor: Decided[str] = Decided("default")
    networks: tuple[Item, ...] = ()  # empty: podman's default (bridge rootful, pasta rootless)
    pid: Decided[str] = Decided("private")
    ipc: Decided[str] = Decided("private")
    uts: Decided[str] = Decided("private")
    cgroupns: Decided[str] = Decided("private")
    devices: tuple[Item, ...] = ()
    masks: tuple[Item, ...] = ()
    unmasks: tuple[Item, ...] = ()  # "ALL" for unmask=ALL or systempaths=unconfined
    sysctls: tuple[Item, ...] = ()
    ports: tuple[Port, ...] = ()
    publish_all: Decided[bool] = Decided(False)
    mounts: tuple[Mount, ...] = ()
    env_host: Decided[bool] = Decided(False)
    group_add: tuple[Item, ...] = ()
    global_args: tuple[Item, ...] = ()
    image: Decided[str | None] = Decided(None)
    pod: Decided[str | None] = Decided(None)  # the .pod file whose namespaces the container joins

    # -- derived views -------------------------------------------------------------------------

    @property
    def user_is_root(self) -> bool:
        """Root inside the container (an unset User= is the image's default, usually root)."""
        u = self.user.value
        if u is None:
            return True
        name = u.split(":", 1)[0]
        return name in ("", "0", "root")

    @property
    def host_root_mapped(self) -> bool:
        """Container root is the host's root: rootful without a user namespace of its own."""
        if self.rootless.value:
            return False
        ns = self.userns.value
        return (ns is None or ns in ("", "host")) and not self.id_mappings

    @property
    def effective_caps(self) -> frozenset[str]:
        """The container's capability set after --cap-drop/--cap-add (privileged: all)."""
        if self.privileged.value:
            return ALL_CAPS
        adds = {c.value for c in self.cap_add}
        drops = {c.value for c in self.cap_drop}
        if "ALL" in drops:
            return frozenset(ALL_CAPS if "ALL" in adds else adds & ALL_CAPS)
        base = set(ALL_CAPS) if "ALL" in adds else set(DEFAULT_CAPS) | (adds & ALL_CAPS)
        return frozenset(base - drops)

    def cap_location(self, cap: str) -> Location | None:
        """The line that left `cap` in the set: the last --cap-add naming it (or ALL)."""
        if self.privileged.value:
            return self.privileged.location
        for c in reversed(self.cap_add):
            if c.value in (cap, "ALL"):
                return c.location
        return None

    @property
    def network_mode(self) -> Decided[str]:
        for n in self.networks:
            if n.value.split(":", 1)[0] == "host":
                return Decided("host", n.location)
        if self.networks:
            return Decided(self.networks[-1].value, self.networks[-1].location)
        return Decided("pasta" if self.rootless.value else "bridge")
