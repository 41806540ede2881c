"""The container's own isolation, read off the podman command line quadlet generates.

Working from the generated `podman run` arguments (see `generate.py`) rather than from the keys gives
podman's rule for free: PodmanArgs come last, so for single-valued flags the last one wins, and
`--flag value`, `--flag=value` and the short forms (`-v -p -u -e ...`) are all read the same way.
Every field remembers the quadlet line that decided it (`None`: podman's default).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from unitgate.model import Location
from unitgate.quadlet.cmdline import Arg

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


# ---------------------------------------------------------------------------------------------
# podman run's flags that take no value (everything else takes one).

_BOOL_LONG = frozenset(
    [
        "detach",
        "interactive",
        "tty",
        "privileged",
        "read-only",
        "read-only-tmpfs",
        "rm",
        "replace",
        "init",
        "env-host",
        "http-proxy",
        "no-healthcheck",
        "no-hosts",
        "no-hostname",
        "oom-kill-disable",
        "publish-all",
        "quiet",
        "rmi",
        "sig-proxy",
        "passwd",
        "help",
        "rootfs",
        "tls-verify",
        "disable-content-trust",
    ]
)
_SHORT = {
    "d": "detach",
    "i": "interactive",
    "t": "tty",
    "P": "publish-all",
    "q": "quiet",
    "v": "volume",
    "p": "publish",
    "u": "user",
    "e": "env",
    "w": "workdir",
    "h": "hostname",
    "l": "label",
    "m": "memory",
    "c": "cpu-shares",
    "a": "attach",
}
_ALIASES = {"net": "network"}


@dataclass(frozen=True)
class Flag:
    name: str  # long name without dashes
    value: str | None  # None for a bare boolean flag
    location: Location


def parse_run_args(args: Sequence[Arg]) -> tuple[list[Flag], list[Arg]]:
    """Split `podman run` arguments into flags (in order) and positionals (image, command)."""
    flags: list[Flag] = []
    i = 0
    while i < len(args):
        a = args[i]
        t = a.text
        if t == "--":
            return flags, list(args[i + 1 :])
        if t.startswith("--") and len(t) > 2:
            name, eq, val = t[2:].partition("=")
            name = _ALIASES.get(name, name)
            if eq:
                flags.append(Flag(name, val, a.location))
            elif name in _BOOL_LONG:
                flags.append(Flag(name, None, a.location))
            elif i + 1 < len(args):
                flags.append(Flag(name, args[i + 1].text, a.location))
                i += 1
            i += 1
            continue
        if t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                long = _SHORT.get(t[j], t[j])
                if long in _BOOL_LONG:
                    flags.append(Flag(long, None, a.location))
                    j += 1
                    continue
                rest = t[j + 1 :].removeprefix("=")
                if rest:
                    flags.append(Flag(long, rest, a.location))
                elif i + 1 < len(args):
                    flags.append(Flag(long, args[i + 1].text, a.location))
                    i += 1
                break
            i += 1
            continue
        return flags, list(args[i:])  # the image; the rest is the container's command
    return flags, []


def _bool(v: str | None) -> bool:
    return v is None or v.lower() in ("true", "1", "yes", "on", "t")


def _norm_cap(c: str) -> str:
    c = c.strip().upper()
    return c if c == "ALL" else c.removeprefix("CAP_")


def _port_host_ip(spec: str) -> str:
    """Host address of a --publish value: `[ip:][hostPort:]containerPort[/proto]` (IPv6 in [])."""
    parts: list[str] = []
    start = end = 0
    while end < len(spec):
        if spec[end] == "[":
            close = spec.find("]", end)
            end = len(spec) if close == -1 else close + 1
        elif spec[end] == ":":
            parts.append(spec[start:end])
            end += 1
            start = end
        else:
            end += 1
    parts.append(spec[start:end])
    return parts[0] if len(parts) >= 3 else ""


def _volume(v: str, loc: Location) -> Mount:
    parts = v.split(":")
    if len(parts) == 1:
        return Mount("", parts[0], False, "volume", loc)  # anonymous volume
    src, dst = parts[0], parts[1]
    opts = set(",".join(parts[2:]).split(",")) if len(parts) > 2 else set()
    kind = "bind" if src.startswith(("/", ".", "%")) else "volume"
    return Mount(src, dst, "ro" in opts or "readonly" in opts, kind, loc)


def _mount(v: str, loc: Location) -> Mount:
    kv: dict[str, str] = {}
    flags: set[str] = set()
    for tok in v.split(","):
        k, eq, val = tok.strip('"').partition("=")
        if eq:
            kv[k.lower()] = val
        else:
            flags.add(k.lower())
    ro = "ro" in flags or "readonly" in flags
    for k in ("ro", "readonly"):
        if k in kv:
            ro = _bool(kv[k])
    if "rw" in kv:
        ro = not _bool(kv["rw"])
    src = kv.get("source", kv.get("src", ""))
    dst = kv.get("destination", kv.get("dst", kv.get("target", "")))
    return Mount(src, dst, ro, kv.get("type", "volume"), loc)


def _security_opt(p: dict[str, object], v: str, loc: Location) -> None:
    key, eq, val = v.partition("=")
    if not eq:
        key, eq, val = v.partition(":")  # docker-style no-new-privileges:true
    if key == "no-new-privileges":
        p["no_new_privileges"] = Decided(_bool(val) if eq else True, loc)
    elif key == "seccomp":
        p["seccomp"] = Decided(val or "default", loc)
    elif key == "apparmor":
        p["apparmor"] = Decided(val, loc)
    elif key == "label":
        if val == "disable":
            p["label_disabled"] = Decided(True, loc)
        elif val == "nested":
            p["label_nested"] = Decided(True, loc)
        elif val.startswith("type:"):
            p["label_type"] = Decided(val[5:], loc)
    elif key == "unmask":
        _append(p, "unmasks", [Item("ALL" if x == "ALL" else x, loc) for x in val.split(":") if x])
    elif key == "mask":
        _append(p, "masks", [Item(x, loc) for x in val.split(":") if x])
    elif key == "systempaths" and val == "unconfined":
        _append(p, "unmasks", [Item("ALL", loc)])


def _append(p: dict[str, object], name: str, items: Iterable[object]) -> None:
    old = p.get(name, ())
    assert isinstance(old, tuple)
    p[name] = old + tuple(items)


def posture_from_args(
    run_args: Sequence[Arg], global_args: Sequence[Arg] = (), *, rootless: Decided[bool]
) -> ContainerPosture:
    """Fold the `podman run` flags into a posture; single-valued flags: last one wins."""
    flags, positionals = parse_run_args(run_args)
    p: dict[str, object] = {"global_args": tuple(Item(a.text, a.location) for a in global_args)}
    for f in flags:
        v, loc = f.value, f.location
        n = f.name
        if n == "privileged":
            p["privileged"] = Decided(_bool(v), loc)
        elif n == "user" and v is not None:
            p["user"] = Decided(v, loc)
        elif n == "userns" and v is not None:
            p["userns"] = Decided(v, loc)
        elif n in ("uidmap", "gidmap", "subuidname", "subgidname") and v:
            _append(p, "id_mappings", [Item(f"--{n}={v}", loc)])
        elif n in ("cap-add", "cap-drop") and v:
            _append(p, n.replace("-", "_"), [Item(_norm_cap(c), loc) for c in v.split(",") if c.strip()])
        elif n == "security-opt" and v is not None:
            _security_opt(p, v, loc)
        elif n == "read-only":
            p["read_only"] = Decided(_bool(v), loc)
        elif n == "network" and v is not None:
            _append(
                p, "networks", [Item(x, loc) for x in ([v] if v.startswith("container:") else v.split(","))]
            )
        elif n in ("pid", "ipc", "uts", "cgroupns") and v is not None:
            p[n] = Decided(v, loc)
        elif n == "device" and v:
            _append(p, "devices", [Item(v, loc)])
        elif n == "sysctl" and v:
            _append(p, "sysctls", [Item(x, loc) for x in v.split(",")])
        elif n == "publish" and v:
            _append(p, "ports", [Port(v, _port_host_ip(v), loc)])
        elif n == "publish-all":
            p["publish_all"] = Decided(_bool(v), loc)
        elif n == "volume" and v:
            _append(p, "mounts", [_volume(v, loc)])
        elif n == "mount" and v:
            _append(p, "mounts", [_mount(v, loc)])
        elif n == "env-host":
            p["env_host"] = Decided(_bool(v), loc)
        elif n == "group-add" and v:
            _append(p, "group_add", [Item(x, loc) for x in v.split(",")])
    if positionals:
        p["image"] = Decided(positionals[0].text, positionals[0].location)
    return ContainerPosture(rootless=rootless, **p)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Sensitive host paths.

RUNTIME_SOCKETS = ("docker.sock", "podman.sock", "containerd.sock", "crio.sock")
CRITICAL_PATHS = ("/", "/etc", "/root", "/usr", "/boot", "/proc", "/sys", "/dev", "/var/lib/containers")
SENSITIVE_PATHS = (*CRITICAL_PATHS, "/home", "/run", "/var/run", "/var", "/lib", "/bin", "/sbin")


def _under(path: str, top: str) -> bool:
    return path == top or (top == "/" and path.startswith("/")) or path.startswith(top.rstrip("/") + "/")


@dataclass(frozen=True)
class MountRisk:
    level: int  # 0..10
    why: str


def mount_risk(m: Mount) -> MountRisk:
    """How much of the host a mount hands over (see docs/quadlet.md, check `Volume`)."""
    hp = m.host_path
    if hp is None:
        return MountRisk(0, "")
    mode = "read-only" if m.read_only else "read-write"
    if hp.endswith(RUNTIME_SOCKETS):
        return MountRisk(10, f"container runtime socket {hp} (full control of the host's containers)")
    if hp == "/":
        return MountRisk(6 if m.read_only else 10, f"the host's root directory {mode}")
    if hp in CRITICAL_PATHS or hp in ("/run", "/var/run", "/var"):  # the last three hold runtime sockets
        return MountRisk(4 if m.read_only else 9, f"sensitive host path {hp} {mode}")
    if hp in SENSITIVE_PATHS:
        return MountRisk(3 if m.read_only else 7, f"sensitive host path {hp} {mode}")
    for top in CRITICAL_PATHS[1:]:
        if _under(hp, top):
            return MountRisk(1 if m.read_only else 5, f"{hp} (under {top}) {mode}")
    if _under(hp, "/home"):
        return MountRisk(1 if m.read_only else 3, f"{hp} (under /home) {mode}")
    return MountRisk(0, "")


@dataclass(frozen=True)
class HostEquivalence:
    """Why the container is as good as root on the host, if it is."""

    reason: str
    location: Location | None = field(default=None)


def host_equivalence(p: ContainerPosture) -> HostEquivalence | None:
    """Rule 0 of quadlet-1: rootful, container root = host root, and a direct way to the host."""
    if not p.host_root_mapped:
        return None
    if p.privileged.value:
        return HostEquivalence("--privileged container whose root is the host's root", p.privileged.location)
    for m in p.mounts:
        hp = m.host_path
        if hp is None:
            continue
        if hp.endswith(RUNTIME_SOCKETS):
            return HostEquivalence(
                f"container runtime socket {hp} mounted into a rootful container", m.location
            )
        if (
            p.user_is_root
            and not m.read_only
            and hp in ("/", "/etc", "/root", "/usr", "/boot", "/var/lib/containers")
        ):
            return HostEquivalence(f"{hp} mounted read-write for the host's root user", m.location)
    return None


# What a pod shares with its containers unless `--share` says otherwise (podman's infra default).
POD_DEFAULT_SHARE = frozenset({"ipc", "net", "uts"})


def _pod_share(flags: Sequence[Flag]) -> frozenset[str]:
    share = set(POD_DEFAULT_SHARE)
    for f in flags:
        if f.name == "share" and f.value is not None:
            v = f.value
            if v.startswith("+"):
                share |= set(v[1:].split(","))
            else:
                share = set(v.split(",")) - {""}
    return frozenset(share)


def join_pod(p: ContainerPosture, pod_args: Sequence[Arg], pod: Item) -> ContainerPosture:
    """The container as a member of its pod (`Pod=`): the pod's network (when shared, as by default),
    its user namespace and published ports and volumes decide, each from its `.pod` line; where the
    `.pod` file says nothing, podman's default for the pod applies, located at the `Pod=` line."""
    flags, _ = parse_run_args(pod_args)
    share = _pod_share(flags)
    pp = posture_from_args(pod_args, rootless=p.rootless)
    changes: dict[str, object] = {"pod": Decided(pod.value, pod.location)}
    if "net" in share:
        default = Item("pasta" if p.rootless.value else "bridge", pod.location)
        changes["networks"] = pp.networks or (default,)
    if pp.userns.location is not None or pp.id_mappings:
        changes["userns"], changes["id_mappings"] = pp.userns, pp.id_mappings
    else:
        changes["userns"], changes["id_mappings"] = Decided(None, pod.location), ()
    for ns in ("pid", "uts", "ipc", "cgroupns"):
        d = getattr(pp, ns)
        if d.location is not None:
            changes[ns] = d
    changes["ports"] = p.ports + pp.ports
    changes["mounts"] = p.mounts + pp.mounts
    if pp.publish_all.value:
        changes["publish_all"] = pp.publish_all
    return replace(p, **changes)  # type: ignore[arg-type]
