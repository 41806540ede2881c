"""The container's own isolation, read off the podman command line quadlet generates.

Working from the generated `podman run` arguments (see `generate.py`) rather than from the keys gives
podman's rule for free: PodmanArgs come last, so for single-valued flags the last one wins, and
`--flag value`, `--flag=value` and the short forms (`-v -p -u -e ...`) are all read the same way.
Every field remembers the quadlet line that decided it (`None`: podman's default).
"""

from __future__ import annotations

from unitgate.model import Location
from unitgate.quadlet.cmdline import Arg
from unitgate.quadlet.posture_types import (
    ALL_CAPS,
    DEFAULT_CAPS,
    ContainerPosture,
    Decided,
    Item,
    Mount,
    Port,
)
from unitgate.quadlet.run_args import Flag, parse_run_args, posture_from_args
from unitgate.records import dataclass, field, replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

# The posture's values live in posture_types and the reading of `podman run` arguments in run_args;
# their public names stay importable from here (the engine, the scores and the gate use them).
__all__ = [
    "ALL_CAPS",
    "CRITICAL_PATHS",
    "DEFAULT_CAPS",
    "POD_DEFAULT_SHARE",
    "RUNTIME_SOCKETS",
    "SENSITIVE_PATHS",
    "ContainerPosture",
    "Decided",
    "Flag",
    "HostEquivalence",
    "Item",
    "Mount",
    "MountRisk",
    "Port",
    "host_equivalence",
    "join_pod",
    "mount_risk",
    "parse_run_args",
    "posture_from_args",
]


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
    return replace(p, **changes)
