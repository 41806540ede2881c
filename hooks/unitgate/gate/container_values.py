"""The gate's rules for podman quadlet `.container` units: the policy's `[container]` table.

Values are compared by meaning on the container as podman would run it: the posture read off the
`podman run` command line quadlet generates (see `unitgate.quadlet.posture`), after the unit and all
its drop-ins are merged. So `PodmanArgs=--read-only=false` overrides `ReadOnly=true` (podman's "last
flag wins", and PodmanArgs come last), `--net=host` is `Network=host`, and a drop-in's
`AddCapability=` counts against `DropCapability=all`. Every finding points at the line that decided
the value (often a drop-in's), or at the `[Container]` header of the changed file when nothing set it.
"""

from __future__ import annotations

import os

from unitgate.analysis import UnitAnalysis
from unitgate.memo import cached_property
from unitgate.model import Assignment, Location
from unitgate.policy import CONTAINER_BOOLEANS, ContainerRules, Value
from unitgate.quadlet.engine import QuadletInspection
from unitgate.quadlet.generate import Arg
from unitgate.quadlet.parser import parse_bool
from unitgate.quadlet.posture import ContainerPosture, Decided, Flag, parse_run_args
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable

# [Container] keys quadlet reads with LookupAll* (every value counts; an empty one resets the list).
LIST_KEYS = frozenset(
    {
        "AddCapability",
        "AddDevice",
        "AddHost",
        "Annotation",
        "ContainersConfModule",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "DropCapability",
        "Environment",
        "EnvironmentFile",
        "ExposeHostPort",
        "GIDMap",
        "GlobalArgs",
        "GroupAdd",
        "Label",
        "LogOpt",
        "Mask",
        "Mount",
        "Network",
        "NetworkAlias",
        "PodmanArgs",
        "PublishPort",
        "RemapGid",
        "RemapUid",
        "Secret",
        "Sysctl",
        "Tmpfs",
        "UIDMap",
        "Ulimit",
        "Unmask",
        "Volume",
    }
)
# The posture field behind each boolean key quadlet turns into a podman flag.
_POSTURE_BOOLEANS = {
    "NoNewPrivileges": "no_new_privileges",
    "ReadOnly": "read_only",
    "EnvironmentHost": "env_host",
    "SecurityLabelDisable": "label_disabled",
    "SecurityLabelNested": "label_nested",
}
_POSTURE_STRINGS = {
    "User": "user",
    "UserNS": "userns",
    "SeccompProfile": "seccomp",
    "SecurityLabelType": "label_type",
}
# podman's value when nothing sets it, for messages ("so podman uses ...").
DEFAULTS = {
    "UserNS": "host",
    "SeccompProfile": "default",
    "User": "the image's default user",
}
# podman run flags where only the last one counts.
SINGLE_VALUED = frozenset(
    {
        "user",
        "userns",
        "pid",
        "ipc",
        "uts",
        "cgroupns",
        "cgroups",
        "hostname",
        "workdir",
        "entrypoint",
        "tz",
        "pull",
        "name",
        "ip",
        "ip6",
        "stop-signal",
        "stop-timeout",
        "shm-size",
        "pids-limit",
        "sdnotify",
        "log-driver",
        "restart",
    }
)


def quadlet_bool(text: str) -> bool:
    """quadlet's LookupBoolean (the quadlet parser's own), on a value with its blanks trimmed."""
    return parse_bool(text.strip())


def unquote(text: str) -> str:
    return text.strip().strip('"')


def alternatives(value: Value) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return (value,) if isinstance(value, str) else value


def spell(key: str, value: Value) -> str:
    if value == "*":
        return f"{key}=<value>"
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if key in ("DropCapability", "AddCapability"):
        return f"{key}={' '.join(alternatives(value))}"
    return f"{key}={alternatives(value)[0]}"


def accepted_text(value: Value) -> str:
    if isinstance(value, tuple) and len(value) > 1:
        return f" (accepted: {', '.join(value)})"
    return ""


def cap_name(name: str) -> str:
    """'net_admin' or 'CAP_NET_ADMIN' -> 'NET_ADMIN'; 'all' -> 'ALL'."""
    return name.strip().upper().removeprefix("CAP_")


def cap_list(names: Iterable[str]) -> str:
    return " ".join(f"CAP_{n}" for n in sorted(names))


def flag_text(flag: Flag) -> str:
    return f"--{flag.name}" if flag.value is None else f"--{flag.name}={flag.value}"


def is_boolean_flag(name: str) -> bool:
    """podman flags that take no value (`--privileged`), as the posture parser knows them."""
    probe = Location("", 0)
    return parse_run_args([Arg(f"--{name}", probe)]) == ([Flag(name, None, probe)], [])


def flag_patterns(text: str) -> list[Flag]:
    """A policy's flag (`--privileged`, `--net=host`, `-v /:/host`) as parsed flags; a bare valued
    flag (`--pid`) stands for any value (Flag value "*")."""
    import shlex  # only for a policy that names podman flags (shlex imports `re`)

    probe = Location("", 0)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    flags, _ = parse_run_args([Arg(w, probe) for w in words])
    if not flags and len(words) == 1 and words[0].startswith("--"):
        name = words[0][2:]
        return [Flag("network" if name == "net" else name, "*", probe)]
    return flags


def flag_values_match(name: str, pattern: str | None, actual: str | None) -> bool:
    if pattern == "*":
        return True
    if pattern is None or actual is None or is_boolean_flag(name):
        return quadlet_bool(actual or "true") == quadlet_bool(pattern or "true")
    if name in ("cap-add", "cap-drop"):
        return {cap_name(c) for c in pattern.split(",")} <= {cap_name(c) for c in actual.split(",")}
    if name == "network":
        return any(item == pattern or item.split(":", 1)[0] == pattern for item in actual.split(","))
    if name == "security-opt":
        return actual.replace(":", "=", 1) == pattern.replace(":", "=", 1) or actual == pattern
    return actual == pattern or actual.startswith(pattern + ":")


class Container:
    """One `.container` being evaluated against its `[container]` rules."""

    def __init__(self, analysis: UnitAnalysis, inspection: QuadletInspection, rules: ContainerRules) -> None:
        assert inspection.posture is not None and inspection.conversion is not None
        self.analysis = analysis
        self.inspection = inspection
        self.rules = rules
        self.posture: ContainerPosture = inspection.posture
        argv = inspection.conversion.argv
        run = inspection.conversion.run_index
        self.run_flags: list[Flag] = parse_run_args(argv[run + 1 :])[0]
        self.global_flags: list[Flag] = parse_run_args(argv[1:run])[0]

    @property
    def unit(self) -> str:
        return self.analysis.unit

    @property
    def changed_header(self) -> Location:
        """The [Container] header of the file the user changed; line 1 if it has none."""
        return self._header(self.analysis.path)

    @property
    def unit_header(self) -> Location:
        """The [Container] header of the `.container` itself."""
        return self._header(self.analysis.fragment or self.analysis.path)

    def _header(self, path: str) -> Location:
        wanted = os.path.realpath(path)
        for (file, section), line in self.analysis.section_lines.items():
            if section == "Container" and os.path.realpath(file) == wanted:
                return Location(file, line)
        return Location(path, 1)

    @cached_property
    def _by_location(self) -> dict[Location, Assignment]:
        return {a.location: a for a in self.analysis.assignments}

    def line(self, location: Location | None) -> Assignment | None:
        """The quadlet line at `location` (None for quadlet's own additions, line 0)."""
        return self._by_location.get(location) if location is not None else None

    def raw(self, key: str) -> tuple[Assignment, ...]:
        """The [Container] lines of `key` in effect: the last one for a single-valued key, every one
        since the last empty assignment for a list key."""
        lines = [a for a in self.analysis.assignments if a.section == "Container" and a.key == key]
        if key not in LIST_KEYS:
            return tuple(lines[-1:])
        out: list[Assignment] = []
        for a in lines:
            out = [] if a.value.strip() == "" else [*out, a]
        return tuple(out)

    def all_lines(self, key: str) -> tuple[Assignment, ...]:
        return tuple(a for a in self.analysis.assignments if a.section == "Container" and a.key == key)

    def flags(self, key: str) -> list[Flag]:
        return self.global_flags if key == "GlobalArgs" else self.run_flags

    def via(self, key: str, location: Location | None) -> tuple[Assignment, Flag] | None:
        """When another line (PodmanArgs=) decided `key`'s value: that line and the podman flag."""
        line = self.line(location)
        if line is None or line.key == key:
            return None
        names = _KEY_FLAGS.get(key, ())
        flags = [f for f in self.run_flags if f.location == location and f.name in names]
        return (line, flags[-1]) if flags else None

    def verdict(self, key: str, eff: Effective, forbidden: bool, fix: str, overriding: str = "") -> str:
        """'ReadOnly=false is not accepted by the policy: write ReadOnly=true', or, when PodmanArgs=
        decided: 'PodmanArgs= sets --read-only=false, so ReadOnly= is in effect false (...)...'."""
        via = self.via(key, eff.location)
        if via is None:
            verdict = "is forbidden by the policy" if forbidden else "is not accepted by the policy"
            return f"{key}={eff.text} {verdict}{overriding}: {fix}"
        line, flag = via
        if not overriding:
            own = self.raw(key)
            overriding = f", overriding {key}={own[-1].value} at {own[-1].location}" if own else ""
        return (
            f"{line.key}= sets {flag_text(flag)}, so {key}= is in effect {eff.text} (podman uses the last "
            f"flag, and {line.key}= comes last){overriding}, which the policy "
            f"{'forbids' if forbidden else 'does not accept'}: remove {flag_text(flag)} from {line.key}="
        )


# The podman flags each posture-backed key becomes (PodmanArgs= can set them too).
_KEY_FLAGS: dict[str, tuple[str, ...]] = {
    "NoNewPrivileges": ("security-opt",),
    "ReadOnly": ("read-only",),
    "EnvironmentHost": ("env-host",),
    "SecurityLabelDisable": ("security-opt",),
    "SecurityLabelNested": ("security-opt",),
    "SecurityLabelType": ("security-opt",),
    "SeccompProfile": ("security-opt",),
    "User": ("user",),
    "UserNS": ("userns",),
}


# --- effective values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effective:
    """A [Container] key by meaning: its value, the line that decided it, whether anything set it."""

    key: str
    value: str | bool | None
    location: Location | None
    is_set: bool

    @property
    def text(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return "" if self.value is None else self.value


def effective(c: Container, key: str) -> Effective:
    raw = c.raw(key)
    if key in _POSTURE_BOOLEANS or key in _POSTURE_STRINGS:
        field = _POSTURE_BOOLEANS.get(key) or _POSTURE_STRINGS[key]
        decided: Decided[object] = getattr(c.posture, field)
        location = decided.location
        if location is None or location.line == 0:
            location = raw[-1].location if raw else None
        value = decided.value
        if key in _POSTURE_BOOLEANS:
            return Effective(key, bool(value), location, location is not None)
        if key == "SeccompProfile" and location is None:
            value = None
        return Effective(key, None if value is None else str(value), location, location is not None)
    if not raw:
        return Effective(key, None, None, False)
    last = raw[-1]
    if key in CONTAINER_BOOLEANS:
        return Effective(key, quadlet_bool(unquote(last.value)), last.location, True)
    return Effective(key, unquote(last.value), last.location, True)


def _user_matches(text: str, alternative: str) -> bool:
    name = text.split(":", 1)[0]
    alt = alternative.split(":", 1)[0] if ":" not in alternative else alternative
    canon = {"0": "root"}
    if ":" in alternative:
        return text == alternative
    return canon.get(name, name) == canon.get(alt, alt)


def matches(key: str, eff: Effective, alternative: str) -> bool:
    """Whether the effective value is `alternative` (from the policy), by meaning."""
    if isinstance(eff.value, bool):
        return eff.value is quadlet_bool(alternative)
    text = eff.text
    if alternative == "*":
        return bool(text.strip())
    if key == "User":
        return _user_matches(text, alternative)
    if key == "UserNS":
        return text == alternative or text.split(":", 1)[0] == alternative
    return text == alternative or text.startswith(alternative + ":")


def overriding(c: Container, key: str, eff: Effective, value: Value) -> str:
    """', overriding ReadOnly=true at app.container:7' when a later line undid an accepted one."""
    if eff.location is None:
        return ""
    for earlier in reversed(c.all_lines(key)):
        if earlier.location == eff.location or earlier.location.path == eff.location.path:
            continue
        probe = Effective(
            key,
            quadlet_bool(earlier.value) if key in CONTAINER_BOOLEANS else unquote(earlier.value),
            earlier.location,
            True,
        )
        if any(matches(key, probe, alt) for alt in alternatives(value)):
            return f", overriding {key}={earlier.value} at {earlier.location}"
    return ""


# --- the rules ----------------------------------------------------------------------------------------
