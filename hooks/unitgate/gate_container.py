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
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from unitgate.analysis import CheckResult, UnitAnalysis
from unitgate.findings import Finding, tenths
from unitgate.model import Assignment, Location
from unitgate.policy import CONTAINER_BOOLEANS, ContainerRules, Value
from unitgate.quadlet.engine import QuadletInspection
from unitgate.quadlet.generate import Arg
from unitgate.quadlet.posture import ALL_CAPS, ContainerPosture, Decided, Flag, parse_run_args

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
_DEFAULTS = {
    "UserNS": "host",
    "SeccompProfile": "default",
    "User": "the image's default user",
}
# podman run flags where only the last one counts.
_SINGLE_VALUED = frozenset(
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
    """quadlet's LookupBoolean: 1/yes/true/on in any case are true; anything else is false."""
    return text.strip().lower() in ("1", "yes", "true", "on")


def _unquote(text: str) -> str:
    return text.strip().strip('"')


def _alternatives(value: Value) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return (value,) if isinstance(value, str) else value


def _spell(key: str, value: Value) -> str:
    if value == "*":
        return f"{key}=<value>"
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if key in ("DropCapability", "AddCapability"):
        return f"{key}={' '.join(_alternatives(value))}"
    return f"{key}={_alternatives(value)[0]}"


def _accepted_text(value: Value) -> str:
    if isinstance(value, tuple) and len(value) > 1:
        return f" (accepted: {', '.join(value)})"
    return ""


def _cap(name: str) -> str:
    """'net_admin' or 'CAP_NET_ADMIN' -> 'NET_ADMIN'; 'all' -> 'ALL'."""
    return name.strip().upper().removeprefix("CAP_")


def _cap_list(names: Iterable[str]) -> str:
    return " ".join(f"CAP_{n}" for n in sorted(names))


def _flag_text(flag: Flag) -> str:
    return f"--{flag.name}" if flag.value is None else f"--{flag.name}={flag.value}"


def _is_boolean_flag(name: str) -> bool:
    """podman flags that take no value (`--privileged`), as the posture parser knows them."""
    probe = Location("", 0)
    return parse_run_args([Arg(f"--{name}", probe)]) == ([Flag(name, None, probe)], [])


def _patterns(text: str) -> list[Flag]:
    """A policy's flag (`--privileged`, `--net=host`, `-v /:/host`) as parsed flags; a bare valued
    flag (`--pid`) stands for any value (Flag value "*")."""
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


def _flag_values_match(name: str, pattern: str | None, actual: str | None) -> bool:
    if pattern == "*":
        return True
    if pattern is None or actual is None or _is_boolean_flag(name):
        return quadlet_bool(actual or "true") == quadlet_bool(pattern or "true")
    if name in ("cap-add", "cap-drop"):
        return {_cap(c) for c in pattern.split(",")} <= {_cap(c) for c in actual.split(",")}
    if name == "network":
        return any(item == pattern or item.split(":", 1)[0] == pattern for item in actual.split(","))
    if name == "security-opt":
        return actual.replace(":", "=", 1) == pattern.replace(":", "=", 1) or actual == pattern
    return actual == pattern or actual.startswith(pattern + ":")


@dataclass(frozen=True)
class Hit:
    """Where a value in effect came from, and how to show it."""

    location: Location | None  # None: podman's default
    shown: str  # "ReadOnly=false", "--privileged"


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
            f"{line.key}= sets {_flag_text(flag)}, so {key}= is in effect {eff.text} (podman uses the last "
            f"flag, and {line.key}= comes last){overriding}, which the policy "
            f"{'forbids' if forbidden else 'does not accept'}: remove {_flag_text(flag)} from {line.key}="
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
        return Effective(key, quadlet_bool(_unquote(last.value)), last.location, True)
    return Effective(key, _unquote(last.value), last.location, True)


def _user_matches(text: str, alternative: str) -> bool:
    name = text.split(":", 1)[0]
    alt = alternative.split(":", 1)[0] if ":" not in alternative else alternative
    canon = {"0": "root"}
    if ":" in alternative:
        return text == alternative
    return canon.get(name, name) == canon.get(alt, alt)


def _matches(key: str, eff: Effective, alternative: str) -> bool:
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


def _overriding(c: Container, key: str, eff: Effective, value: Value) -> str:
    """', overriding ReadOnly=true at app.container:7' when a later line undid an accepted one."""
    if eff.location is None:
        return ""
    for earlier in reversed(c.all_lines(key)):
        if earlier.location == eff.location or earlier.location.path == eff.location.path:
            continue
        probe = Effective(
            key,
            quadlet_bool(earlier.value) if key in CONTAINER_BOOLEANS else _unquote(earlier.value),
            earlier.location,
            True,
        )
        if any(_matches(key, probe, alt) for alt in _alternatives(value)):
            return f", overriding {key}={earlier.value} at {earlier.location}"
    return ""


# --- the rules ----------------------------------------------------------------------------------------


def evaluate(analysis: UnitAnalysis, inspection: QuadletInspection, rules: ContainerRules) -> list[Finding]:
    """Every finding for one loaded `.container` under its `[container]` rules."""
    if inspection.posture is None or inspection.conversion is None:
        return []
    c = Container(analysis, inspection, rules)
    findings: list[Finding] = []
    for key, value in rules.require.items():
        findings.extend(_require(c, key, value))
    for key, value in rules.forbid.items():
        findings.extend(_forbid(c, key, value))
    findings.extend(_exposure(c))
    return findings


def _finding(rule: str, c: Container, location: Location, message: str, key: str) -> Finding:
    return Finding(rule, location, f"{c.unit}: {message}", c.unit, f"Container.{key}")


def _missing(c: Container, key: str, value: Value, why: str = "") -> Finding:
    return _finding(
        "UG101",
        c,
        c.changed_header,
        f"{key}= is not set{why}, and the policy requires it: write {_spell(key, value)} in [Container]"
        f"{_accepted_text(value)}",
        key,
    )


def _require(c: Container, key: str, value: Value) -> list[Finding]:
    if key == "DropCapability":
        return _require_dropped(c, value)
    if key in ("PodmanArgs", "GlobalArgs"):
        return _require_flags(c, key, value)
    if key in LIST_KEYS:
        return _require_list(c, key, value)
    eff = effective(c, key)
    if not eff.is_set:
        return [_missing(c, key, value)]
    if any(_matches(key, eff, alt) for alt in _alternatives(value)):
        return []
    assert eff.location is not None
    message = c.verdict(
        key,
        eff,
        False,
        f"write {_spell(key, value)}{_accepted_text(value)}",
        _overriding(c, key, eff, value),
    )
    return [_finding("UG102", c, eff.location, message, key)]


def _forbid(c: Container, key: str, value: Value) -> list[Finding]:
    if key == "AddCapability":
        return _forbid_caps(c, value)
    if key in ("PodmanArgs", "GlobalArgs"):
        return _forbid_flags(c, key, value)
    if key == "Network":
        return _forbid_network(c, value)
    if key in ("Volume", "Mount"):
        return _forbid_mounts(c, key, value)
    if key in LIST_KEYS:
        return _forbid_list(c, key, value)
    eff = effective(c, key)
    alternatives = _alternatives(value)
    if not eff.is_set:
        if key == "User":
            return [
                _finding(
                    "UG103",
                    c,
                    c.changed_header,
                    "User= is not set, so the container runs as the image's default user (usually root), "
                    "which the policy forbids: write User= with a non-root user in [Container]",
                    key,
                )
            ]
        default = _DEFAULTS.get(key)
        if key == "UserNS" and c.posture.id_mappings:
            default = None
        if key in CONTAINER_BOOLEANS:
            default = "false"
        probe = Effective(key, default == "true" if key in CONTAINER_BOOLEANS else default, None, False)
        if default is None or not any(_matches(key, probe, alt) for alt in alternatives):
            return []
        return [
            _finding(
                "UG103",
                c,
                c.changed_header,
                f"{key}= is not set, so podman uses {key}={default}, which the policy forbids: "
                f"set {key}= explicitly to another value in [Container]",
                key,
            )
        ]
    if not any(_matches(key, eff, alt) for alt in alternatives):
        return []
    assert eff.location is not None
    fix = "change or remove this line"
    if isinstance(value, bool):
        fix = f"write {key}={'false' if value else 'true'}"
    elif key == "User":
        fix = "write User= with a non-root user"
    message = c.verdict(key, eff, True, fix)
    return [_finding("UG103", c, eff.location, message, key)]


# -- capabilities --


def _wanted_caps(value: Value) -> frozenset[str]:
    names = {_cap(n) for alt in _alternatives(value) for n in alt.split()}
    return ALL_CAPS if "ALL" in names else frozenset(names) & ALL_CAPS


def _cap_grants(c: Container, caps: Iterable[str]) -> list[tuple[Location | None, list[str]]]:
    """The caps grouped by the line that left them in the set (None: podman's default set)."""
    by_line: dict[Location | None, list[str]] = {}
    for cap in sorted(caps):
        loc = c.posture.cap_location(cap)
        by_line.setdefault(loc if loc is not None and loc.line else None, []).append(cap)
    return sorted(by_line.items(), key=lambda item: (item[0] is None, item[0] or Location("")))


def _grant_text(c: Container, location: Location, caps: list[str]) -> tuple[str, str]:
    """What granted `caps` at `location`, and how to undo it: ('AddCapability=NET_ADMIN gives the
    container CAP_NET_ADMIN', 'remove NET_ADMIN from AddCapability=')."""
    line = c.line(location)
    if c.posture.privileged.value and location == c.posture.privileged.location:
        what = f"{line.key}= sets --privileged, which" if line else "--privileged"
        return f"{what} gives the container every capability", "remove --privileged"
    if line is None:
        return f"the container keeps {_cap_list(caps)}", "drop them"
    names = " ".join(caps)
    if line.key == "AddCapability":
        return (
            f"AddCapability={line.value} gives the container {_cap_list(caps)}",
            f"remove {names} from AddCapability=",
        )
    return (
        f"{line.key}= sets --cap-add, which gives the container {_cap_list(caps)}",
        f"remove --cap-add for {names} from {line.key}=",
    )


def _require_dropped(c: Container, value: Value) -> list[Finding]:
    wanted = _wanted_caps(value)
    kept = wanted & c.posture.effective_caps
    if not kept:
        return []
    spelled = _spell("DropCapability", value)
    grants = _cap_grants(c, kept)
    location, caps = grants[0]
    if location is not None:
        what, fix = _grant_text(c, location, caps)
        return [
            _finding(
                "UG102",
                c,
                location,
                f"{what}, but the policy requires {spelled}: {fix}",
                "DropCapability",
            )
        ]
    drops = c.raw("DropCapability")
    if not drops:
        return [
            _missing(
                c,
                "DropCapability",
                value,
                f", so the container keeps podman's {len(caps)} default capabilities",
            )
        ]
    last = drops[-1]
    return [
        _finding(
            "UG102",
            c,
            last.location,
            f"DropCapability={last.value} leaves the container {_cap_list(caps)}, but the policy requires "
            f"{spelled}{_overriding_drop(c, last)}: write {spelled}",
            "DropCapability",
        )
    ]


def _overriding_drop(c: Container, last: Assignment) -> str:
    for earlier in reversed(c.all_lines("DropCapability")):
        if earlier.location.path != last.location.path and "ALL" in {_cap(w) for w in earlier.value.split()}:
            return f" (an empty DropCapability= reset DropCapability={earlier.value} at {earlier.location})"
    return ""


def _forbid_caps(c: Container, value: Value) -> list[Finding]:
    names = {_cap(n) for alt in _alternatives(value) for n in alt.split()}
    findings: list[Finding] = []
    if "ALL" in names:
        adds_all = [item for item in c.posture.cap_add if item.value == "ALL"]
        where = c.posture.privileged.location if c.posture.privileged.value else None
        where = where or (adds_all[-1].location if adds_all else None)
        if where is not None:
            what, fix = _grant_text(c, where, [])
            line = c.line(where)
            if line is not None and not c.posture.privileged.value:
                what = f"{line.key}={line.value} gives the container every capability"
                fix = "remove --cap-add=all"
                if line.key == "AddCapability":
                    fix = "remove ALL from AddCapability="
            message = f"{what}; the policy forbids AddCapability=ALL: {fix}"
            findings.append(_finding("UG103", c, where, message, "AddCapability"))
            return findings
    present = (frozenset(names) - {"ALL"}) & c.posture.effective_caps
    if not present:
        return findings
    location, caps = _cap_grants(c, present)[0]
    if location is None:
        return [
            _finding(
                "UG103",
                c,
                c.changed_header,
                f"the container keeps {_cap_list(caps)} from podman's default capabilities, which the policy "
                f"forbids: write DropCapability={' '.join(caps)} (or DropCapability=all) in [Container]",
                "AddCapability",
            )
        ]
    what, fix = _grant_text(c, location, caps)
    message = f"{what}; the policy forbids AddCapability={' '.join(caps)}: {fix}"
    return [_finding("UG103", c, location, message, "AddCapability")]


# -- podman flags --


def _flag_hits(c: Container, key: str, pattern: Flag) -> list[Flag]:
    """The flags in effect that match one policy flag (for single-valued flags, only the last counts)."""
    same = [f for f in c.flags(key) if f.name == pattern.name]
    if not same:
        return []
    if pattern.name in _SINGLE_VALUED or _is_boolean_flag(pattern.name):
        same = same[-1:]
    return [f for f in same if _flag_values_match(pattern.name, pattern.value, f.value)]


def _forbid_flags(c: Container, key: str, value: Value) -> list[Finding]:
    findings: list[Finding] = []
    for text in _alternatives(value):
        for pattern in _patterns(text):
            hits = _flag_hits(c, key, pattern)
            if not hits:
                continue
            hit = hits[0]
            line = c.line(hit.location)
            where = hit.location if line is not None else c.unit_header
            policy_text = "" if _flag_text(hit) == text else f" ({key}={text})"
            if line is not None and line.key == key:
                message = (
                    f"{key}= passes {_flag_text(hit)} to podman, which the policy forbids{policy_text}: "
                    f"remove it from {key}="
                )
            elif line is not None:
                message = (
                    f"{line.key}={line.value} puts {_flag_text(hit)} on the podman command line, which the "
                    f"policy forbids ({key}={text}): change or remove this line"
                )
            else:
                message = f"quadlet passes {_flag_text(hit)}, which the policy forbids ({key}={text})"
            findings.append(_finding("UG103", c, where, message, key))
            break
    return findings


def _require_flags(c: Container, key: str, value: Value) -> list[Finding]:
    alternatives = _alternatives(value)
    for text in alternatives:
        patterns = _patterns(text)
        if patterns and all(_flag_hits(c, key, p) for p in patterns):
            return []
    first = _patterns(alternatives[0])
    others = [f for p in first for f in c.flags(key) if f.name == p.name]
    if not others:
        return [_missing(c, key, value, f" with {alternatives[0]}")]
    other = others[-1]
    line = c.line(other.location)
    shown = f"{line.key}={line.value}" if line is not None else _flag_text(other)
    return [
        _finding(
            "UG102",
            c,
            other.location if line is not None else c.changed_header,
            f"{shown} passes {_flag_text(other)} to podman, which the policy does not accept: "
            f"write {key}={alternatives[0]}{_accepted_text(value)}",
            key,
        )
    ]


# -- lists: Network, Volume/Mount, and the other list keys --


def _forbid_network(c: Container, value: Value) -> list[Finding]:
    alternatives = _alternatives(value)
    for item in c.posture.networks:
        mode = item.value.split(":", 1)[0]
        if item.value in alternatives or mode in alternatives:
            line = c.line(item.location)
            if line is not None and line.key == "Network":
                message = f"Network={line.value} is forbidden by the policy: change or remove this line"
            elif line is not None:
                message = (
                    f"{line.key}= sets --network={item.value}, which the policy forbids "
                    f"(Network={mode}): remove it from {line.key}="
                )
            else:
                message = f"the container's network {item.value} is forbidden by the policy"
            return [_finding("UG103", c, item.location, message, "Network")]
    if not c.posture.networks:
        default = c.posture.network_mode.value
        if default in alternatives:
            return [
                _finding(
                    "UG103",
                    c,
                    c.changed_header,
                    f"Network= is not set, so podman uses {default}, which the policy forbids: "
                    "set Network= in [Container]",
                    "Network",
                )
            ]
    return []


def _forbid_mounts(c: Container, key: str, value: Value) -> list[Finding]:
    for alternative in _alternatives(value):
        wanted = os.path.normpath(alternative) if alternative.startswith("/") else alternative
        for mount in c.posture.mounts:
            if alternative in (mount.source, mount.host_path) or wanted == mount.host_path:
                line = c.line(mount.location)
                shown = f"{line.key}={line.value}" if line is not None else f"the mount of {mount.source}"
                return [
                    _finding(
                        "UG103",
                        c,
                        mount.location,
                        f"{shown} mounts {mount.source}, which the policy forbids ({key}={alternative}): "
                        "remove this mount",
                        key,
                    )
                ]
    return []


def _words(lines: Sequence[Assignment]) -> list[tuple[str, Assignment]]:
    return [(word, a) for a in lines for word in _unquote(a.value).split()]


def _forbid_list(c: Container, key: str, value: Value) -> list[Finding]:
    words = _words(c.raw(key))
    for alternative in _alternatives(value):
        for word, line in words:
            if word == alternative or word.startswith((alternative + ":", alternative + "=")):
                return [
                    _finding(
                        "UG103",
                        c,
                        line.location,
                        f"{key}={line.value} includes {word}, which the policy forbids: remove it",
                        key,
                    )
                ]
    return []


def _require_list(c: Container, key: str, value: Value) -> list[Finding]:
    lines = c.raw(key)
    if not lines:
        return [_missing(c, key, value)]
    present = {word for word, _ in _words(lines)}
    present |= {word.split(":", 1)[0] for word in present}
    for alternative in _alternatives(value):
        if alternative == "*" or set(alternative.split()) <= present:
            return []
    last = lines[-1]
    return [
        _finding(
            "UG102",
            c,
            last.location,
            f"{key}= does not include {_alternatives(value)[0]}, which the policy requires: "
            f"write {_spell(key, value)}{_accepted_text(value)}",
            key,
        )
    ]


# --- exposure -----------------------------------------------------------------------------------------

_FIXES: dict[str, str] = {
    "Privileged": "remove --privileged",
    "User": "User=<non-root uid>",
    "NoNewPrivileges": "NoNewPrivileges=true",
    "ReadOnly": "ReadOnly=true",
    "SeccompProfile": "no seccomp=unconfined",
    "SecurityLabel": "SecurityLabelDisable=false (no label=disable/nested, no unconfined SecurityLabelType=)",
    "AppArmor": "no apparmor=unconfined",
    "NetworkHost": "a Network= other than host",
    "HostNamespaces": "no --pid/--ipc/--uts/--cgroupns=host",
    "AddDevice": "no AddDevice=",
    "Unmask": "no Unmask=",
    "Volume": "no sensitive host path in Volume=/Mount=",
    "PublishPort": "PublishPort=127.0.0.1:…",
    "Sysctl": "no Sysctl=",
    "EnvironmentHost": "EnvironmentHost=false",
    "GroupAddKeepGroups": "no GroupAdd=keep-groups",
}


def check_fix(c: Container, check: CheckResult) -> str:
    """What to write (or remove) to make one quadlet-1 check good."""
    field_ = check.json_field
    if field_ == "UserNS":
        return "UserNS=keep-id" if c.posture.rootless.value else "UserNS=auto"
    if field_.startswith("DropCapability_"):
        from unitgate.quadlet.score import CAP_GROUPS

        group = next(caps for gid, _, _, caps in CAP_GROUPS if f"DropCapability_{gid}" == field_)
        kept = sorted(group & c.posture.effective_caps)
        if c.posture.privileged.value:
            return "remove --privileged"
        added = [cap for cap in kept if c.posture.cap_location(cap) is not None]
        if len(added) > 3:
            return f"no {' '.join(added[:3])} … in AddCapability="
        if added:
            return f"no {' '.join(added)} in AddCapability="
        return f"DropCapability={' '.join(kept)}" if kept else "DropCapability=all"
    return _FIXES.get(field_, f"fix {check.name}")


def exposure(analysis: UnitAnalysis, rules: ContainerRules) -> int | None:
    """The quadlet-1 exposure under the policy (after `[container] exclude-checks`)."""
    if analysis.exposure is None or not rules.exclude_checks:
        return analysis.exposure
    from unitgate.gate import score

    return score(analysis.checks, rules.exclude_checks)


def _exposure(c: Container) -> list[Finding]:
    from unitgate.gate import _saved, exposure_advice, savings

    maximum = c.rules.max_exposure
    current = exposure(c.analysis, c.rules)
    if maximum is None or current is None or current <= maximum:
        return []
    checks, excluded = c.analysis.checks, c.rules.exclude_checks
    without = f" (without {', '.join(sorted(excluded))})" if excluded else ""
    head = f"container exposure {tenths(current)}{without} is above the maximum {tenths(maximum)}"
    void = c.inspection.score.host_equivalent if c.inspection.score else None
    if void is not None:
        where = f" at {void.location}" if void.location is not None and void.location.line else ""
        advice = (
            f"the container is root on the host ({void.reason}{where}), which voids every other check; "
            "remove that first"
        )
        return [_finding_exposure(c, f"{head}: {advice}")]

    def weakened(check: CheckResult) -> bool:
        return check.source is not None and check.source.line > 0

    steps = savings(checks, excluded, maximum, weakened)
    advice = exposure_advice(
        steps, lambda check: f"{check_fix(c, check)} ({_saved(check, checks, excluded)})"
    )
    return [_finding_exposure(c, f"{head}: {advice}")]


def _finding_exposure(c: Container, message: str) -> Finding:
    return Finding("UG201", c.unit_header, f"{c.unit}: {message}", c.unit)
