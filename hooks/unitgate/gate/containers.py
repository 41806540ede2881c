"""Container rules: a quadlet `.container` against the policy's `[container]` table.

Values come from the container as podman would run it (gate/container_values.py). Every finding
points at the line that decided the value, or at the `[Container]` header of the changed file.
"""

from __future__ import annotations

import os

from unitgate.analysis import UnitAnalysis
from unitgate.findings import Finding
from unitgate.gate.container_advice import exposure_findings
from unitgate.gate.container_values import (
    DEFAULTS,
    LIST_KEYS,
    SINGLE_VALUED,
    Container,
    Effective,
    accepted_text,
    alternatives,
    cap_list,
    cap_name,
    effective,
    flag_patterns,
    flag_text,
    flag_values_match,
    is_boolean_flag,
    matches,
    overriding,
    spell,
    unquote,
)
from unitgate.model import Assignment, Location
from unitgate.policy import CONTAINER_BOOLEANS, ContainerRules, Value
from unitgate.quadlet.engine import QuadletInspection
from unitgate.quadlet.posture import ALL_CAPS, Flag
from unitgate.records import replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


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
    findings.extend(exposure_findings(c))
    return findings


def _finding(rule: str, c: Container, location: Location, message: str, key: str) -> Finding:
    return Finding(rule, location, f"{c.unit}: {message}", c.unit, f"Container.{key}")


def _missing(c: Container, key: str, value: Value, why: str = "") -> Finding:
    finding = _finding(
        "UG101",
        c,
        c.changed_header,
        f"{key}= is not set{why}, and the policy requires it: write {spell(key, value)} in [Container]"
        f"{accepted_text(value)}",
        key,
    )
    return finding if value == "*" else replace(finding, fix=spell(key, value))


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
    if any(matches(key, eff, alt) for alt in alternatives(value)):
        return []
    assert eff.location is not None
    message = c.verdict(
        key,
        eff,
        False,
        f"write {spell(key, value)}{accepted_text(value)}",
        overriding(c, key, eff, value),
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
    alts = alternatives(value)
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
        default = DEFAULTS.get(key)
        if key == "UserNS" and c.posture.id_mappings:
            default = None
        if key in CONTAINER_BOOLEANS:
            default = "false"
        probe = Effective(key, default == "true" if key in CONTAINER_BOOLEANS else default, None, False)
        if default is None or not any(matches(key, probe, alt) for alt in alts):
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
    if not any(matches(key, eff, alt) for alt in alts):
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
    names = {cap_name(n) for alt in alternatives(value) for n in alt.split()}
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
        return f"the container keeps {cap_list(caps)}", "drop them"
    names = " ".join(caps)
    if line.key == "AddCapability":
        return (
            f"AddCapability={line.value} gives the container {cap_list(caps)}",
            f"remove {names} from AddCapability=",
        )
    return (
        f"{line.key}= sets --cap-add, which gives the container {cap_list(caps)}",
        f"remove --cap-add for {names} from {line.key}=",
    )


def _require_dropped(c: Container, value: Value) -> list[Finding]:
    wanted = _wanted_caps(value)
    kept = wanted & c.posture.effective_caps
    if not kept:
        return []
    spelled = spell("DropCapability", value)
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
            f"DropCapability={last.value} leaves the container {cap_list(caps)}, but the policy requires "
            f"{spelled}{_overriding_drop(c, last)}: write {spelled}",
            "DropCapability",
        )
    ]


def _overriding_drop(c: Container, last: Assignment) -> str:
    for earlier in reversed(c.all_lines("DropCapability")):
        if earlier.location.path != last.location.path and "ALL" in {
            cap_name(w) for w in earlier.value.split()
        }:
            return f" (an empty DropCapability= reset DropCapability={earlier.value} at {earlier.location})"
    return ""


def _forbid_caps(c: Container, value: Value) -> list[Finding]:
    names = {cap_name(n) for alt in alternatives(value) for n in alt.split()}
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
                f"the container keeps {cap_list(caps)} from podman's default capabilities, which the policy "
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
    if pattern.name in SINGLE_VALUED or is_boolean_flag(pattern.name):
        same = same[-1:]
    return [f for f in same if flag_values_match(pattern.name, pattern.value, f.value)]


def _forbid_flags(c: Container, key: str, value: Value) -> list[Finding]:
    findings: list[Finding] = []
    for text in alternatives(value):
        for pattern in flag_patterns(text):
            hits = _flag_hits(c, key, pattern)
            if not hits:
                continue
            hit = hits[0]
            line = c.line(hit.location)
            where = hit.location if line is not None else c.unit_header
            policy_text = "" if flag_text(hit) == text else f" ({key}={text})"
            if line is not None and line.key == key:
                message = (
                    f"{key}= passes {flag_text(hit)} to podman, which the policy forbids{policy_text}: "
                    f"remove it from {key}="
                )
            elif line is not None:
                message = (
                    f"{line.key}={line.value} puts {flag_text(hit)} on the podman command line, which the "
                    f"policy forbids ({key}={text}): change or remove this line"
                )
            else:
                message = f"quadlet passes {flag_text(hit)}, which the policy forbids ({key}={text})"
            findings.append(_finding("UG103", c, where, message, key))
            break
    return findings


def _require_flags(c: Container, key: str, value: Value) -> list[Finding]:
    alts = alternatives(value)
    for text in alts:
        patterns = flag_patterns(text)
        if patterns and all(_flag_hits(c, key, p) for p in patterns):
            return []
    first = flag_patterns(alts[0])
    others = [f for p in first for f in c.flags(key) if f.name == p.name]
    if not others:
        return [_missing(c, key, value, f" with {alts[0]}")]
    other = others[-1]
    line = c.line(other.location)
    shown = f"{line.key}={line.value}" if line is not None else flag_text(other)
    return [
        _finding(
            "UG102",
            c,
            other.location if line is not None else c.changed_header,
            f"{shown} passes {flag_text(other)} to podman, which the policy does not accept: "
            f"write {key}={alts[0]}{accepted_text(value)}",
            key,
        )
    ]


# -- lists: Network, Volume/Mount, and the other list keys --


def _forbid_network(c: Container, value: Value) -> list[Finding]:
    alts = alternatives(value)
    for item in c.posture.networks:
        mode = item.value.split(":", 1)[0]
        if item.value in alts or mode in alts:
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
        if default in alts:
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
    for alternative in alternatives(value):
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
    return [(word, a) for a in lines for word in unquote(a.value).split()]


def _forbid_list(c: Container, key: str, value: Value) -> list[Finding]:
    words = _words(c.raw(key))
    for alternative in alternatives(value):
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
    for alternative in alternatives(value):
        if alternative == "*" or set(alternative.split()) <= present:
            return []
    last = lines[-1]
    return [
        _finding(
            "UG102",
            c,
            last.location,
            f"{key}= does not include {alternatives(value)[0]}, which the policy requires: "
            f"write {spell(key, value)}{accepted_text(value)}",
            key,
        )
    ]


# --- exposure -----------------------------------------------------------------------------------------
