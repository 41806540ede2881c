"""Reading `podman run` arguments: podman's flag shapes (`--flag value`, `--flag=value`, the short
forms, flags that take no value) and the fold of the flags into a `ContainerPosture`, last one
winning for single-valued flags."""

from __future__ import annotations

from unitgate.model import Location
from unitgate.quadlet.cmdline import Arg
from unitgate.quadlet.posture_types import ContainerPosture, Decided, Item, Mount, Port
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

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
