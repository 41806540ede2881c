"""The `quadlet-1` container exposure model.

Same arithmetic as `systemd-analyze security` (integer tenths):
    exposure = ceil(100 · Σ ceil(badness·weight/range) / Σ weight)
and the same rating words.  Rows are data: changing a weight, a range or a badness rule is a new
model version (`quadlet-2`), so a policy pinned to `quadlet-1` keeps its verdicts.

Rule 0: when the container *is* root on the host (rootful, no user namespace, and either
`--privileged`, a runtime socket, or `/`, `/etc`, ... mounted read-write for root), no other row
isolates anything, so every row scores its full range ("voided by ...") and the total is 10.0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from unitgate.analysis import CheckResult
from unitgate.model import Location
from unitgate.quadlet.posture import (
    RUNTIME_SOCKETS,
    ContainerPosture,
    HostEquivalence,
    MountRisk,
    host_equivalence,
    mount_risk,
)

MODEL = "quadlet-1"

Verdict = tuple[int, str, Location | None]  # badness, description, deciding line


@dataclass(frozen=True)
class Check:
    name: str  # shown in the NAME column
    json_field: str  # stable id, usable as a policy key
    weight: int
    range: int
    good: str
    bad: str
    directives: tuple[str, ...]
    assess: Callable[[ContainerPosture], Verdict]


# -- badness rules (pure) -------------------------------------------------------------------------


def _privileged(p: ContainerPosture) -> Verdict:
    if p.privileged.value:
        return (
            1,
            "Container runs --privileged: all capabilities, all devices, no seccomp, no labels",
            p.privileged.location,
        )
    return 0, "Container is not privileged", p.privileged.location


def _user(p: ContainerPosture) -> Verdict:
    u = p.user.value
    if u is None:
        return 8, "No User=: the image's default user runs the container, usually root", None
    if p.user_is_root:
        return 10, f"Container runs as root (User={u})", p.user.location
    return 0, f"Container runs as non-root user {u}", p.user.location


def _userns(p: ContainerPosture) -> Verdict:
    ns = p.userns.value
    loc = p.userns.location or (p.id_mappings[0].location if p.id_mappings else None)
    if p.host_root_mapped:
        return 10, "Rootful container without a user namespace: container root is host root", loc
    if p.rootless.value and (ns is None or ns in ("", "host")) and not p.id_mappings:
        return 3, "Rootless default: container root is the login user (all of their files)", loc
    return 0, f"Container has its own user namespace ({ns or 'uid/gid maps'})", loc


def _nnp(p: ContainerPosture) -> Verdict:
    if p.no_new_privileges.value:
        return 0, "Processes cannot gain privileges (setuid, file capabilities)", p.no_new_privileges.location
    return (
        1,
        "Processes may gain privileges through setuid binaries and file capabilities",
        p.no_new_privileges.location,
    )


def _read_only(p: ContainerPosture) -> Verdict:
    if p.read_only.value:
        return 0, "Container root filesystem is read-only", p.read_only.location
    return 1, "Container root filesystem is writable", p.read_only.location


def _caps(group: str, caps: frozenset[str]) -> Callable[[ContainerPosture], Verdict]:
    def assess(p: ContainerPosture) -> Verdict:
        present = sorted(caps & p.effective_caps)
        if not present:
            return 0, f"Container has none of {group}", _last_drop(p)
        loc = next((p.cap_location(c) for c in present if p.cap_location(c) is not None), None)
        return 1, f"Container keeps {', '.join('CAP_' + c for c in present)}", loc

    return assess


def _last_drop(p: ContainerPosture) -> Location | None:
    return p.cap_drop[-1].location if p.cap_drop else None


def _seccomp(p: ContainerPosture) -> Verdict:
    if p.privileged.value:
        return 1, "--privileged disables seccomp", p.privileged.location
    if p.seccomp.value == "unconfined":
        return 1, "Seccomp filtering is off (seccomp=unconfined)", p.seccomp.location
    what = (
        "podman's default seccomp profile"
        if p.seccomp.value in ("default", "")
        else f"profile {p.seccomp.value}"
    )
    return 0, f"System calls are filtered ({what})", p.seccomp.location


def _label(p: ContainerPosture) -> Verdict:
    if p.privileged.value:
        return 2, "--privileged disables SELinux separation", p.privileged.location
    if p.label_disabled.value:
        return 2, "SELinux separation is disabled (label=disable)", p.label_disabled.location
    t = p.label_type.value
    if t in ("spc_t", "unconfined_t"):
        return 2, f"SELinux type {t} is unconfined", p.label_type.location
    if p.label_nested.value:
        return 1, "SELinux label=nested lets the container manage labels", p.label_nested.location
    return 0, "SELinux separation is on", p.label_type.location


def _apparmor(p: ContainerPosture) -> Verdict:
    if p.privileged.value:
        return 1, "--privileged disables AppArmor", p.privileged.location
    if p.apparmor.value == "unconfined":
        return 1, "AppArmor confinement is off", p.apparmor.location
    return 0, "AppArmor profile applies (where AppArmor is used)", p.apparmor.location


def _network(p: ContainerPosture) -> Verdict:
    n = p.network_mode
    if n.value == "host":
        return 1, "Container shares the host's network namespace (Network=host)", n.location
    return 0, f"Container has its own network namespace ({n.value})", n.location


_NS_BADNESS = {"pid": 10, "ipc": 6, "cgroupns": 3, "uts": 2}


def _host_ns(p: ContainerPosture) -> Verdict:
    worst: Verdict = (0, "PID, IPC, UTS and cgroup namespaces are private", None)
    for ns, bad in _NS_BADNESS.items():
        d = getattr(p, ns)
        if d.value == "host" and bad > worst[0]:
            worst = (bad, f"Container shares the host's {ns} namespace (--{ns}=host)", d.location)
    return worst


_BLOCK_PREFIXES = (
    "/dev/sd",
    "/dev/nvme",
    "/dev/vd",
    "/dev/xvd",
    "/dev/hd",
    "/dev/mapper",
    "/dev/dm-",
    "/dev/loop",
    "/dev/md",
)
_RAW = ("/dev/mem", "/dev/kmem", "/dev/port", "/dev/kvm", "/dev/dri", "/dev/vfio")


def _devices(p: ContainerPosture) -> Verdict:
    if p.privileged.value:
        return 10, "--privileged gives the container every host device", p.privileged.location
    worst: Verdict = (0, "No host devices are added", None)
    for d in p.devices:
        path = d.value.split(":", 1)[0]
        bad = (
            10
            if path.startswith(_BLOCK_PREFIXES) or path.startswith(_RAW)
            else 3
            if path == "/dev/fuse"
            else 5
        )
        if bad > worst[0]:
            worst = (bad, f"Host device {path} is passed in", d.location)
    return worst


def _unmask(p: ContainerPosture) -> Verdict:
    if p.privileged.value:
        return 10, "--privileged unmasks /proc and /sys paths", p.privileged.location
    for u in p.unmasks:
        if u.value == "ALL":
            return 10, "All masked kernel paths are visible (unmask=ALL / systempaths=unconfined)", u.location
    if p.unmasks:
        return (
            5,
            "Some masked kernel paths are visible: " + ", ".join(u.value for u in p.unmasks),
            p.unmasks[0].location,
        )
    return 0, "Kernel paths in /proc and /sys stay masked", None


def _mounts(p: ContainerPosture) -> Verdict:
    worst: Verdict = (0, "No sensitive host paths are mounted", None)
    for m in p.mounts:
        r = mount_risk(m)
        if r.level > worst[0]:
            worst = (r.level, f"Mounts {r.why}", m.location)
    return worst


def _ports(p: ContainerPosture) -> Verdict:
    if p.network_mode.value == "host":
        return 0, "Network=host: no port publishing (see the Network= row)", None
    if p.publish_all.value:
        return 8, "--publish-all binds every exposed port on all host addresses", p.publish_all.location
    worst: Verdict = (
        0,
        "Published ports bind to loopback only" if p.ports else "No ports are published",
        None,
    )
    for port in p.ports:
        bad = {"all": 6, "address": 3, "loopback": 0}[port.scope]
        if bad > worst[0]:
            where = "all host addresses" if port.scope == "all" else port.host_ip
            worst = (bad, f"PublishPort={port.spec} binds to {where}", port.location)
    return worst


def _sysctl(p: ContainerPosture) -> Verdict:
    if not p.sysctls:
        return 0, "No sysctls are set", None
    host_net = p.network_mode.value == "host"
    for s in p.sysctls:
        if host_net and s.value.startswith("net."):
            return 10, f"Sysctl {s.value} changes the host's network stack (Network=host)", s.location
    return 2, "Namespaced sysctls are set: " + ", ".join(s.value for s in p.sysctls), p.sysctls[0].location


def _env_host(p: ContainerPosture) -> Verdict:
    if p.env_host.value:
        return 1, "The host environment is copied into the container", p.env_host.location
    return 0, "The host environment is not copied in", p.env_host.location


def _keep_groups(p: ContainerPosture) -> Verdict:
    for g in p.group_add:
        if g.value == "keep-groups":
            return 1, "The container keeps the host user's supplementary groups", g.location
    return 0, "Host supplementary groups are not kept", None


# Capability groups: the same caps systemd-analyze singles out, grouped by what they give away.
CAP_GROUPS: tuple[tuple[str, str, int, frozenset[str]], ...] = (
    ("SYS_ADMIN", "CAP_SYS_ADMIN", 1000, frozenset({"SYS_ADMIN"})),
    (
        "KERNEL",
        "CAP_SYS_MODULE/SYS_RAWIO/SYS_PTRACE/BPF…",
        1000,
        frozenset(
            [
                "SYS_MODULE",
                "SYS_RAWIO",
                "SYS_PTRACE",
                "SYS_BOOT",
                "BPF",
                "PERFMON",
                "SYS_TIME",
                "MAC_ADMIN",
                "MAC_OVERRIDE",
                "LINUX_IMMUTABLE",
                "SYSLOG",
                "AUDIT_CONTROL",
                "DAC_READ_SEARCH",
                "SYS_RESOURCE",
                "WAKE_ALARM",
                "BLOCK_SUSPEND",
            ]
        ),
    ),
    ("NET_ADMIN", "CAP_NET_ADMIN/NET_RAW", 500, frozenset({"NET_ADMIN", "NET_RAW"})),
    (
        "FILE",
        "CAP_CHOWN/DAC_OVERRIDE/FOWNER/FSETID/SETFCAP",
        500,
        frozenset({"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETFCAP"}),
    ),
    ("SETUID", "CAP_SETUID/SETGID/SETPCAP", 500, frozenset({"SETUID", "SETGID", "SETPCAP"})),
    (
        "OTHER",
        "CAP_KILL/NET_BIND_SERVICE/SYS_CHROOT…",
        200,
        frozenset(
            [
                "KILL",
                "NET_BIND_SERVICE",
                "SYS_CHROOT",
                "AUDIT_WRITE",
                "MKNOD",
                "IPC_LOCK",
                "IPC_OWNER",
                "LEASE",
                "SYS_NICE",
                "SYS_PACCT",
                "SYS_TTY_CONFIG",
                "NET_BROADCAST",
                "AUDIT_READ",
                "CHECKPOINT_RESTORE",
            ]
        ),
    ),
)


def _c(
    name: str,
    jf: str,
    w: int,
    r: int,
    good: str,
    bad: str,
    d: tuple[str, ...],
    f: Callable[[ContainerPosture], Verdict],
) -> Check:
    return Check(name, jf, w, r, good, bad, d, f)


CHECKS: tuple[Check, ...] = (
    _c(
        "PodmanArgs=--privileged",
        "Privileged",
        1500,
        1,
        "Container is not privileged",
        "Container runs --privileged",
        ("PodmanArgs",),
        _privileged,
    ),
    _c(
        "User=",
        "User",
        1500,
        10,
        "Container runs as a non-root user",
        "Container runs as root",
        ("User", "Group"),
        _user,
    ),
    _c(
        "UserNS=",
        "UserNS",
        2500,
        10,
        "Container root is not host root",
        "Container root is host root",
        ("UserNS", "UIDMap", "GIDMap", "SubUIDMap", "SubGIDMap"),
        _userns,
    ),
    _c(
        "NoNewPrivileges=",
        "NoNewPrivileges",
        1000,
        1,
        "No new privileges",
        "Processes may gain privileges",
        ("NoNewPrivileges",),
        _nnp,
    ),
    _c(
        "ReadOnly=",
        "ReadOnly",
        500,
        1,
        "Read-only root filesystem",
        "Writable root filesystem",
        ("ReadOnly",),
        _read_only,
    ),
    *(
        _c(
            f"DropCapability=~{label}",
            f"DropCapability_{gid}",
            w,
            1,
            f"No {label}",
            f"Keeps {label}",
            ("DropCapability", "AddCapability"),
            _caps(label, caps),
        )
        for gid, label, w, caps in CAP_GROUPS
    ),
    _c(
        "SeccompProfile=",
        "SeccompProfile",
        1000,
        1,
        "Seccomp filter on",
        "Seccomp filter off",
        ("SeccompProfile", "PodmanArgs"),
        _seccomp,
    ),
    _c(
        "SecurityLabelDisable=",
        "SecurityLabel",
        500,
        2,
        "SELinux separation on",
        "SELinux separation off",
        ("SecurityLabelDisable", "SecurityLabelType", "SecurityLabelNested"),
        _label,
    ),
    _c(
        "PodmanArgs=--security-opt=apparmor",
        "AppArmor",
        300,
        1,
        "AppArmor on",
        "AppArmor off",
        ("PodmanArgs",),
        _apparmor,
    ),
    _c(
        "Network=host",
        "NetworkHost",
        1000,
        1,
        "Own network namespace",
        "Host network namespace",
        ("Network",),
        _network,
    ),
    _c(
        "PodmanArgs=--pid/--ipc/--uts/--cgroupns",
        "HostNamespaces",
        1000,
        10,
        "Private namespaces",
        "Host namespaces shared",
        ("PodmanArgs",),
        _host_ns,
    ),
    _c(
        "AddDevice=",
        "AddDevice",
        500,
        10,
        "No host devices",
        "Host devices passed in",
        ("AddDevice", "PodmanArgs"),
        _devices,
    ),
    _c(
        "Unmask=",
        "Unmask",
        500,
        10,
        "Kernel paths masked",
        "Kernel paths unmasked",
        ("Unmask", "PodmanArgs"),
        _unmask,
    ),
    _c(
        "Volume=",
        "Volume",
        2000,
        10,
        "No sensitive host paths",
        "Sensitive host paths mounted",
        ("Volume", "Mount"),
        _mounts,
    ),
    _c(
        "PublishPort=",
        "PublishPort",
        500,
        10,
        "Ports on loopback only",
        "Ports on all addresses",
        ("PublishPort",),
        _ports,
    ),
    _c("Sysctl=", "Sysctl", 100, 10, "No sysctls", "Sysctls set", ("Sysctl",), _sysctl),
    _c(
        "EnvironmentHost=",
        "EnvironmentHost",
        100,
        1,
        "Host environment not copied",
        "Host environment copied",
        ("EnvironmentHost",),
        _env_host,
    ),
    _c(
        "GroupAdd=keep-groups",
        "GroupAddKeepGroups",
        100,
        1,
        "Host groups not kept",
        "Host groups kept",
        ("GroupAdd",),
        _keep_groups,
    ),
)

RATINGS: tuple[tuple[int, str], ...] = (
    (100, "DANGEROUS"),
    (90, "UNSAFE"),
    (75, "EXPOSED"),
    (50, "MEDIUM"),
    (10, "OK"),
    (1, "SAFE"),
    (0, "PERFECT"),
)


def rating(exposure: int) -> str:
    return next(name for floor, name in RATINGS if exposure >= floor)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Score:
    exposure: int  # tenths
    rating: str
    checks: tuple[CheckResult, ...]
    host_equivalent: HostEquivalence | None


def score(posture: ContainerPosture, checks: tuple[Check, ...] = CHECKS) -> Score:
    """Assess every row and aggregate as systemd-analyze does."""
    void = host_equivalence(posture)
    verdicts: list[Verdict] = []
    for c in checks:
        b, desc, loc = c.assess(posture)
        if void is not None and b < c.range:
            b, desc, loc = c.range, f"Voided: {void.reason}", void.location
        verdicts.append((b, desc, loc))
    wsum = sum(c.weight for c in checks)
    bsum = sum(_ceil_div(b * c.weight, c.range) for c, (b, _, _) in zip(checks, verdicts, strict=True))
    exposure = _ceil_div(bsum * 100, wsum)
    results = tuple(
        CheckResult(
            name=c.name,
            json_field=c.json_field,
            weight=c.weight,
            range=c.range,
            badness=b,
            exposure=None if b == 0 else _ceil_div(_ceil_div(b * c.weight * 100, c.range), wsum),
            description=desc,
            directives=c.directives,
            source=loc,
        )
        for c, (b, desc, loc) in zip(checks, verdicts, strict=True)
    )
    return Score(exposure, rating(exposure), results, void)


# ---------------------------------------------------------------------------------------------
# quadlet-2: quadlet-1's rows, plus breakout paths that set a floor under the exposure.
#
# A weighted average cannot rank a single decisive weakness (`--pid=host` with `/` mounted, or
# CAP_SYS_ADMIN with SELinux off) far above a default container: each row moves the average by its
# weight only. A reviewer ranks by the shortest path to the host, so quadlet-2 keeps quadlet-1's rows
# (same weights, same badness) and adds one row, "Breakout paths": every known path from the container to
# the host that the posture opens, each with a floor; the exposure is the larger of the average and
# the highest floor. Floors differ by whether container root is host root (rootful, no user namespace
# of its own) or an unprivileged host user (a user namespace: rootless, or UserNS=auto/keep-id/maps).
# docs/quadlet.md lists the ranking these floors implement and why.

MODEL_2 = "quadlet-2"
MODELS = (MODEL, MODEL_2)

Found = tuple[str, Location | None] | None  # why, and the deciding line; None: path not open


@dataclass(frozen=True)
class Breakout:
    id: str
    floor_host_root: int  # tenths, container root = host root
    floor_user_ns: int  # tenths, container root = an unprivileged host user
    test: Callable[[ContainerPosture], Found]


def _first_mount(p: ContainerPosture, pred: Callable[[MountRisk, str], bool]) -> Found:
    for m in p.mounts:
        r = mount_risk(m)
        hp = m.host_path
        if hp is not None and r.level and pred(r, hp):
            return f"mounts {r.why}", m.location
    return None


def _has_cap(*caps: str) -> Callable[[ContainerPosture], Found]:
    def test(p: ContainerPosture) -> Found:
        held = [c for c in caps if c in p.effective_caps]
        if not held:
            return None
        loc = p.cap_location(held[0])
        return f"keeps {', '.join('CAP_' + c for c in held)}", loc

    return test


def _mac_off(p: ContainerPosture) -> Found:
    if p.label_disabled.value:
        return "runs with SELinux separation off (label=disable)", p.label_disabled.location
    if p.label_type.value in ("spc_t", "unconfined_t"):
        return f"runs as the unconfined SELinux type {p.label_type.value}", p.label_type.location
    if p.apparmor.value == "unconfined":
        return "runs with AppArmor off", p.apparmor.location
    if p.seccomp.value == "unconfined":
        return "runs with seccomp off", p.seccomp.location
    return None


def _sys_admin_mac_off(p: ContainerPosture) -> Found:
    cap = _has_cap("SYS_ADMIN")(p)
    off = _mac_off(p)
    if cap is None or off is None:
        return None
    return f"{cap[0]} and {off[0]}: mount and cgroup escapes are not contained", off[1] or cap[1]


def _pid_host_with(root_mount: bool) -> Callable[[ContainerPosture], Found]:
    def test(p: ContainerPosture) -> Found:
        if p.pid.value != "host":
            return None
        if root_mount:
            m = _first_mount(p, lambda r, hp: hp == "/")
            if m is None:
                return None
            return f"shares the host's PID namespace and {m[0]}", p.pid.location
        return "shares the host's PID namespace (sees and signals host processes)", p.pid.location

    return test


def _ptrace_host(p: ContainerPosture) -> Found:
    if p.pid.value == "host" and "SYS_PTRACE" in p.effective_caps:
        return "CAP_SYS_PTRACE in the host's PID namespace (can inject into host processes)", p.pid.location
    return None


def _block_device(p: ContainerPosture) -> Found:
    bad, why, loc = _devices(p)
    if bad < 10 or p.privileged.value:
        return None
    return why.replace("Host device ", "gets the block or raw host device ").replace(" is passed in", ""), loc


def _unmask_all(p: ContainerPosture) -> Found:
    for u in p.unmasks:
        if u.value == "ALL":
            return "all masked /proc and /sys paths are visible", u.location
    return None


def _host_network(p: ContainerPosture) -> Found:
    n = p.network_mode
    if n.value != "host":
        return None
    who = "root" if p.user_is_root else "a non-root user"
    return (
        f"shares the host's network namespace as {who} (host loopback services, abstract sockets)",
        n.location,
    )


def _net_sysctl_host(p: ContainerPosture) -> Found:
    if p.network_mode.value != "host":
        return None
    for s in p.sysctls:
        if s.value.startswith("net."):
            return f"sets {s.value} on the host's network stack", s.location
    return None


def _host_ipc(p: ContainerPosture) -> Found:
    return ("shares the host's IPC namespace", p.ipc.location) if p.ipc.value == "host" else None


def _privileged_path(p: ContainerPosture) -> Found:
    return ("runs --privileged", p.privileged.location) if p.privileged.value else None


def _runtime_socket(p: ContainerPosture) -> Found:
    return _first_mount(p, lambda r, hp: hp.endswith(RUNTIME_SOCKETS))


def _critical_rw_as_root(p: ContainerPosture) -> Found:
    if not p.user_is_root:
        return None
    return _first_mount(p, lambda r, hp: not r.why.endswith("read-only") and hp in HOST_ROOT_PATHS)


# Host paths whose read-write mount makes host root of a container whose root is host root (rule 0).
HOST_ROOT_PATHS = ("/", "/etc", "/root", "/usr", "/boot", "/var/lib/containers")


def _rw_level(level: int) -> Callable[[ContainerPosture], Found]:
    return lambda p: _first_mount(p, lambda r, hp: r.level == level)


# Highest floor first; the first path found in this order decides the row's description and line.
BREAKOUTS: tuple[Breakout, ...] = (
    Breakout("privileged", 100, 60, _privileged_path),
    Breakout("runtime-socket", 100, 80, _runtime_socket),
    Breakout("host-root-path-rw", 100, 50, _critical_rw_as_root),
    Breakout("cap-sys-module-rawio", 100, 50, _has_cap("SYS_MODULE", "SYS_RAWIO")),
    Breakout("cap-sys-admin-mac-off", 95, 50, _sys_admin_mac_off),
    Breakout("ptrace-host-pid", 95, 60, _ptrace_host),
    Breakout("cap-dac-read-search", 95, 40, _has_cap("DAC_READ_SEARCH")),
    Breakout("block-device", 95, 60, _block_device),
    Breakout("pid-host-root-mounted", 90, 50, _pid_host_with(root_mount=True)),
    Breakout("sensitive-path-rw", 90, 50, _rw_level(9)),
    Breakout("cap-sys-admin", 85, 40, _has_cap("SYS_ADMIN")),
    Breakout("pid-host", 80, 50, _pid_host_with(root_mount=False)),
    Breakout("unmask-all", 80, 40, _unmask_all),
    Breakout("net-sysctl-host", 80, 40, _net_sysctl_host),
    Breakout("host-network", 75, 40, _host_network),
    Breakout(
        "cap-kernel-other",
        75,
        30,
        _has_cap("BPF", "PERFMON", "SYS_BOOT", "SYS_TIME", "MAC_ADMIN", "MAC_OVERRIDE"),
    ),
    Breakout("home-or-system-dir-rw", 75, 40, _rw_level(7)),
    Breakout("root-dir-ro", 70, 30, _rw_level(6)),
    Breakout("host-ipc", 60, 30, _host_ipc),
    Breakout("mac-or-seccomp-off", 55, 25, _mac_off),
    Breakout("critical-path-ro", 55, 25, _rw_level(4)),
)


def breakout(p: ContainerPosture) -> tuple[int, str, Location | None, str]:
    """The highest floor among the breakout paths the posture opens: (tenths, why, line, path id)."""
    host_root = p.host_root_mapped
    best: tuple[int, str, Location | None, str] = (0, "No known breakout path to the host is open", None, "")
    for b in BREAKOUTS:
        floor = b.floor_host_root if host_root else b.floor_user_ns
        if floor <= best[0]:
            continue
        found = b.test(p)
        if found is not None:
            whose = (
                "container root is host root" if host_root else "container root is an unprivileged host user"
            )
            best = (floor, f"Container {found[0]} ({whose})", found[1], b.id)
    return best


BREAKOUT_ROW = Check(
    "Breakout paths",
    "BreakoutPath",
    0,  # no share of the average: the row sets a floor under the exposure instead
    10,
    "No known path to the host is open",
    "A known path to the host is open",
    ("PodmanArgs", "Volume", "AddCapability", "AddDevice", "Network", "UserNS"),
    lambda p: (0, "", None),
)
CHECKS_2: tuple[Check, ...] = (*CHECKS, BREAKOUT_ROW)


def score_2(posture: ContainerPosture) -> Score:
    """quadlet-2: quadlet-1's average, raised to the floor of the worst open breakout path."""
    base = score(posture, CHECKS)
    floor, why, loc, _ = breakout(posture)
    row = CheckResult(
        name=BREAKOUT_ROW.name,
        json_field=BREAKOUT_ROW.json_field,
        weight=0,
        range=10,
        badness=_ceil_div(floor, 10),
        exposure=floor or None,
        description=why,
        directives=BREAKOUT_ROW.directives,
        source=loc,
    )
    exposure = max(base.exposure, floor)
    return Score(exposure, rating(exposure), (*base.checks, row), base.host_equivalent)


def score_model(posture: ContainerPosture, model: str = MODEL) -> Score:
    """Score with a named model (`quadlet-1`, the default, or `quadlet-2`)."""
    if model == MODEL:
        return score(posture)
    if model == MODEL_2:
        return score_2(posture)
    raise ValueError(f"unknown container model {model!r} (known: {', '.join(MODELS)})")


def rescore(
    checks: tuple[CheckResult, ...] | list[CheckResult], exclude: frozenset[str] = frozenset()
) -> int:
    """The exposure of already assessed rows without the excluded json_fields (the gate's
    `exclude-checks`), for either model: the weighted average, raised to a breakout floor if kept."""
    kept = [c for c in checks if c.json_field not in exclude]
    wsum = sum(c.weight for c in kept)
    bsum = sum(_ceil_div((c.badness or 0) * c.weight, c.range) for c in kept)
    average = _ceil_div(bsum * 100, wsum) if wsum else 0
    floors = [c.exposure or 0 for c in kept if c.weight == 0]
    return max([average, *floors])
