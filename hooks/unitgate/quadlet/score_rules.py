"""The rows' shape (`Check`) and quadlet-1's badness rules: each reads the container's posture and
says how bad it is, why, and which line decided it. Pure functions; the weights are in
`score_table1.py`, the arithmetic in `score.py`."""

from __future__ import annotations

from unitgate.model import Location
from unitgate.quadlet.posture import ContainerPosture, mount_risk
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable

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
