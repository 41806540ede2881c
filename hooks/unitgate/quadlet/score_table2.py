"""quadlet-2's breakout paths as data: each known way from the container to the host, its floor
for a container whose root is host root and for one in a user namespace, and the rule that finds it.
"""

from __future__ import annotations

from unitgate.model import Location
from unitgate.quadlet.posture import RUNTIME_SOCKETS, ContainerPosture, MountRisk, mount_risk
from unitgate.quadlet.score_rules import Check, _devices
from unitgate.quadlet.score_table1 import CHECKS
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable

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
