"""`unitgate check`: analyse the changed files, hold each unit against its policy, report.

The pipeline is plain data: paths -> engine.analyze_paths -> UnitAnalysis per unit -> `evaluate`
(pure: one unit + its UnitPolicy -> findings) -> policy `ignore` -> inline suppressions -> sorted
findings -> one reporter's `render`. Exit 0 clean (notes only), 1 findings, 2 usage/policy/tool error.

Directive values are compared by meaning, as systemd reads them (see `Effective` and `_accepts`):
booleans in any spelling, `User=0` as root, capability sets as sets (with systemd's merge rules and
the capabilities ProtectKernelModules= & co. drop), `DynamicUser=yes`'s implied settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from unitgate import __version__
from unitgate.analysis import CheckResult, LoadState, UnitAnalysis
from unitgate.findings import Finding, Level, RunInfo, UnitSummary, blocking, tenths
from unitgate.model import Diagnostic, Location, Severity, UnitInputError
from unitgate.policy import (
    CAPABILITIES,
    CAPABILITY_DIRECTIVES,
    ContainerRules,
    Finder,
    Policy,
    PolicyError,
    UnitPolicy,
    Value,
    canonical_check,
    display_directive,
    load_file,
)

if TYPE_CHECKING:
    from unitgate.quadlet.engine import QuadletInspection

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
QUADLET_SUFFIXES = (".container", ".pod", ".kube", ".network", ".volume", ".build", ".image")
# Diagnostic codes of the engine (unitgate.engine) that the gate treats specially.
NOT_SUPPORTED = "UG-INPUT-NOT-SUPPORTED"  # a quadlet file, before quadlet support: UG901
SHADOWED = "UG-INPUT-SHADOWED"  # the given file is not the one systemd loads: UG305
QUADLET_SHADOWED = "UGQ005"  # quadlet uses another file of the same name: UG305
QUADLET_SERVICE_KEY = "UGQ010"  # [Service] User=/Group=/DynamicUser= in a quadlet: UG306
INPUT_ERRORS = frozenset({"UG-INPUT-UNREADABLE", "UG-INPUT-BAD-NAME"})  # exit 2
MAX_SUGGESTIONS = 5


class GateError(Exception):
    """A tool error (exit 2) that is neither the policy's nor the input's fault."""


# --- values, compared by meaning ---------------------------------------------------------------------

_TRUE = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})
CAP_ALL = (1 << 64) - 1

# Directives holding a list that later lines extend: a policy value matches when all its words are in it.
LIST_DIRECTIVES = frozenset(
    f"Service.{name}"
    for name in [
        "SystemCallFilter",
        "SystemCallArchitectures",
        "RestrictAddressFamilies",
        "ReadWritePaths",
        "ReadOnlyPaths",
        "InaccessiblePaths",
        "ExecPaths",
        "NoExecPaths",
        "IPAddressDeny",
        "IPAddressAllow",
        "DeviceAllow",
        "SupplementaryGroups",
        "BindPaths",
        "BindReadOnlyPaths",
        "TemporaryFileSystem",
        "RestrictFileSystems",
        "RestrictNetworkInterfaces",
        "SocketBindAllow",
        "SocketBindDeny",
        "Environment",
    ]
)
_NO_BOOLEAN_SPELLING = frozenset({"Service.User", "Service.Group", "Service.UMask"})

# systemd's value when a directive is not set (system services), where a forbid rule needs it.
_DEFAULTS: Mapping[str, str] = {
    "Service.ProtectSystem": "no",
    "Service.ProtectHome": "no",
    "Service.ProtectProc": "default",
    "Service.ProcSubset": "all",
    "Service.KeyringMode": "private",
    "Service.DevicePolicy": "auto",
    "Service.UMask": "0022",
    "Service.NotifyAccess": "none",
    **{
        f"Service.{name}": "no"
        for name in [
            "PrivateDevices",
            "PrivateMounts",
            "PrivateNetwork",
            "PrivateTmp",
            "PrivateUsers",
            "ProtectControlGroups",
            "ProtectKernelModules",
            "ProtectKernelTunables",
            "ProtectKernelLogs",
            "ProtectClock",
            "ProtectHostname",
            "LockPersonality",
            "MemoryDenyWriteExecute",
            "NoNewPrivileges",
            "RemoveIPC",
            "Delegate",
            "RestrictRealtime",
            "RestrictSUIDSGID",
            "DynamicUser",
        ]
    },
}

# DynamicUser=yes forces these (systemd unit_patch_contexts()); ProtectHome only when it is "no".
_DYNAMIC_USER_IMPLIES: Mapping[str, str] = {
    "Service.PrivateTmp": "yes",
    "Service.RemoveIPC": "yes",
    "Service.ProtectSystem": "strict",
    "Service.NoNewPrivileges": "yes",
    "Service.RestrictSUIDSGID": "yes",
    "Service.ProtectHome": "read-only",
}
# ... and these settings drop capabilities from the bounding set at load time.
_DROPS_CAPABILITIES: Mapping[str, tuple[str, ...]] = {
    "Service.PrivateDevices": ("CAP_MKNOD", "CAP_SYS_RAWIO"),
    "Service.ProtectKernelModules": ("CAP_SYS_MODULE",),
    "Service.ProtectKernelLogs": ("CAP_SYSLOG",),
    "Service.ProtectClock": ("CAP_SYS_TIME", "CAP_WAKE_ALARM"),
}


def parse_boolean(text: str) -> bool | None:
    """systemd's parse_boolean(): 1/yes/y/true/t/on and 0/no/n/false/f/off, any case."""
    word = text.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None


def normalize(key: str, text: str) -> str:
    """A scalar value in a canonical spelling: booleans as yes/no, User=0 as root, UMask as octal."""
    text = text.strip()
    if key in ("Service.User", "Service.Group"):
        return "root" if text == "0" else text
    if key == "Service.UMask":
        try:
            return f"{int(text, 8):04o}"
        except ValueError:
            return text
    if key not in _NO_BOOLEAN_SPELLING:
        boolean = parse_boolean(text)
        if boolean is not None:
            return "yes" if boolean else "no"
    return text


def _spell(value: Value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else value[0]


def _alternatives(value: Value) -> tuple[str, ...]:
    if isinstance(value, bool):
        return (_spell(value),)
    return (value,) if isinstance(value, str) else value


@dataclass(frozen=True)
class Effective:
    """A directive after merging: the raw values in effect, and the line that decided them."""

    key: str
    values: tuple[str, ...]  # raw values in effect, in order; () with `is_set` = reset to empty
    location: Location | None  # the deciding line; None when the value is systemd's default
    is_set: bool
    implied_by: str | None = None  # "DynamicUser=yes" when an implication decided the value
    assignments: tuple[tuple[str, Location], ...] = ()

    @property
    def last(self) -> str | None:
        return self.values[-1] if self.values else ("" if self.is_set else None)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(word for value in self.values for word in value.split())


def effective(analysis: UnitAnalysis, key: str) -> Effective:
    """The effective value of `key` ("Service.NoNewPrivileges") for one unit, by meaning."""
    setting = analysis.settings.get(key)
    assignments = tuple((a.value, a.location) for a in setting.assignments) if setting else ()
    plain = Effective(
        key,
        tuple(v for v, _ in assignments),
        setting.location if setting else None,
        setting is not None,
        assignments=assignments,
    )
    implied = _DYNAMIC_USER_IMPLIES.get(key)
    if implied is None or key == "Service.DynamicUser":
        return plain
    dynamic = effective(analysis, "Service.DynamicUser")
    if not (dynamic.last and parse_boolean(dynamic.last)):
        return plain
    if key == "Service.ProtectHome" and plain.last and normalize(key, plain.last) != "no":
        return plain
    return Effective(key, (implied,), dynamic.location, True, implied_by=f"DynamicUser={dynamic.last}")


def capability_mask(words: Iterable[str]) -> int:
    """systemd's capability_set_from_string(): names (any case) or numbers 0-63; unknown dropped."""
    mask = 0
    for word in words:
        upper = word.upper()
        if upper in CAPABILITIES:
            mask |= 1 << CAPABILITIES.index(upper)
        elif word.isdigit() and int(word) < 64:
            mask |= 1 << int(word)
    return mask


def capability_set(analysis: UnitAnalysis, key: str) -> tuple[int, dict[int, Location]]:
    """The effective capability set and, per capability, the line that put it there.

    config_parse_capability_set(): a line replaces the set when its own set is empty or the set is
    still at its initial value, else it adds (or, with ~, removes) capabilities.
    """
    initial = CAP_ALL if key == "Service.CapabilityBoundingSet" else 0
    current, decided = initial, dict[int, Location]()
    eff = effective(analysis, key)
    if eff.is_set and not eff.values:
        current = 0  # an empty assignment in effect: the empty set
    for value, location in eff.assignments:
        text = value.strip()
        invert = text.startswith("~")
        mask = capability_mask(text.lstrip("~").split())
        if mask == 0 or current == initial:
            new = (~mask & CAP_ALL) if invert else mask
        else:
            new = current & ~mask if invert else current | mask
        for bit in range(64):
            if (new >> bit) & 1 and (not (current >> bit) & 1 or (mask >> bit) & 1 or current == initial):
                decided[bit] = location
        current = new
    if key == "Service.CapabilityBoundingSet":
        for setting, dropped in _DROPS_CAPABILITIES.items():
            on = effective(analysis, setting)
            if on.last and parse_boolean(on.last):
                current &= ~capability_mask(dropped)
    return current, decided


def _cap_names(mask: int) -> list[str]:
    return [CAPABILITIES[b] if b < len(CAPABILITIES) else str(b) for b in range(64) if (mask >> b) & 1]


# --- the rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """One unit being evaluated, and where its user-facing lines are."""

    analysis: UnitAnalysis
    policy: UnitPolicy

    @property
    def unit(self) -> str:
        return self.analysis.unit

    @property
    def changed_header(self) -> Location:
        """The [Service] header of the file the user changed; line 1 if it has none."""
        return _header(self.analysis, self.analysis.path)

    @property
    def unit_header(self) -> Location:
        """The unit's own [Service] header (the base unit file)."""
        return _header(self.analysis, self.analysis.fragment or self.analysis.path)


def _header(analysis: UnitAnalysis, path: str) -> Location:
    wanted = os.path.normpath(path)
    for (file, section), line in analysis.section_lines.items():
        if section == "Service" and os.path.normpath(file) == wanted:
            return Location(file, line)
    return Location(path, 1)


def is_container(analysis: UnitAnalysis) -> bool:
    return analysis.model.startswith("quadlet")


def evaluate(
    analysis: UnitAnalysis, policy: UnitPolicy, inspection: QuadletInspection | None = None
) -> list[Finding]:
    """Every finding for one unit under its policy, before `ignore` and suppressions. A quadlet
    `.container` is held against `policy.container`, given its `inspection` (posture, command line)."""
    findings = _load_findings(analysis)
    if analysis.state is not LoadState.LOADED:
        return findings
    if is_container(analysis):
        if policy.container.empty:
            findings.append(
                Finding(
                    "UG902",
                    Location(analysis.path, 1),
                    f"{analysis.unit}: the policy ({policy.description}) has no [container] rules, so only "
                    "quadlet load errors and warnings were checked; add a [container] table to check more",
                    analysis.unit,
                )
            )
        elif inspection is not None:
            from unitgate import gate_container

            findings += gate_container.evaluate(analysis, inspection, policy.container)
        return findings
    ctx = Context(analysis, policy)
    for key, value in policy.require.items():
        findings.extend(_require(ctx, key, value))
    for key, value in policy.forbid.items():
        findings.extend(_forbid(ctx, key, value))
    findings.extend(_exposure(ctx))
    return findings


def _load_findings(analysis: UnitAnalysis) -> list[Finding]:
    unit = analysis.unit
    if analysis.state is LoadState.MASKED:
        return [
            Finding(
                "UG302",
                Location(analysis.path, 1),
                f"{unit} is masked (empty file or symlink to /dev/null): not scored",
                unit,
            )
        ]
    if analysis.state is LoadState.NOT_FOUND:
        details = "; ".join(d.message for d in analysis.diagnostics)
        return [
            Finding(
                "UG303",
                Location(analysis.path, 1),
                f"{unit} is not in the repository, so this drop-in cannot be checked merged over it"
                + (f" ({details})" if details else ""),
                unit,
            )
        ]
    convert = _quadlet_finding if is_container(analysis) else _diagnostic_finding
    shown = [d for d in analysis.diagnostics if d.severity is not Severity.INFO or d.code == NOT_SUPPORTED]
    findings = [convert(unit, d) for d in shown]
    refused = analysis.state in (LoadState.ERROR, LoadState.BAD_SETTING)
    if refused and not any(f.rule in ("UG301", "UG901") for f in findings):
        where = analysis.fragment or analysis.path
        findings.append(
            Finding(
                "UG301",
                Location(where, 1),
                f"systemd would refuse to load {unit} ({analysis.state.value})",
                unit,
            )
        )
    return findings


def _quadlet_finding(unit: str, diagnostic: Diagnostic) -> Finding:
    """A diagnostic of the quadlet engine (UGQ001-UGQ010) as a finding."""
    if diagnostic.code == QUADLET_SERVICE_KEY:
        message = f"{unit}: {diagnostic.message}"
        return Finding("UG306", diagnostic.location, message, unit, _service_key(diagnostic))
    if diagnostic.code == QUADLET_SHADOWED:
        return Finding("UG305", diagnostic.location, f"{unit}: {diagnostic.message}", unit)
    if diagnostic.severity is Severity.ERROR:
        message = diagnostic.message
        if not message.startswith("quadlet"):
            message = f"quadlet would refuse this: {message}"
        return Finding("UG301", diagnostic.location, message, unit)
    return Finding("UG307", diagnostic.location, f"quadlet would warn: {diagnostic.message}", unit)


def _service_key(diagnostic: Diagnostic) -> str | None:
    """'Service.User' from UGQ010's message ("... the key User= in [Service] ...")."""
    for key in ("DynamicUser", "Group", "User"):
        if f"key {key}=" in diagnostic.message:
            return f"Service.{key}"
    return None


def _diagnostic_finding(unit: str, diagnostic: Diagnostic) -> Finding:
    if diagnostic.code == NOT_SUPPORTED:
        return Finding(
            "UG901",
            diagnostic.location,
            f"{diagnostic.message}: not checked by unitgate {__version__}; "
            "exclude it from the hook until a release supports it",
            unit,
            level=Level.NOTE if diagnostic.severity is Severity.INFO else None,
        )
    if diagnostic.code == SHADOWED:
        return Finding("UG305", diagnostic.location, f"{unit}: {diagnostic.message}", unit)
    if diagnostic.severity is Severity.ERROR:
        return Finding("UG301", diagnostic.location, f"systemd would refuse this: {diagnostic.message}", unit)
    return Finding(
        "UG304", diagnostic.location, f"systemd would ignore this line: {diagnostic.message}", unit
    )


def _require(ctx: Context, key: str, value: Value) -> list[Finding]:
    name = display_directive(key)
    eff = effective(ctx.analysis, key)
    accepted = _accepted_text(value)
    if key in CAPABILITY_DIRECTIVES:
        return _require_capabilities(ctx, key, value)
    if not eff.is_set:
        return [
            Finding(
                "UG101",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, and the policy requires it: "
                f"write {_suggest(key, value)} in [Service]{accepted}",
                ctx.unit,
                name,
            )
        ]
    if _accepts(key, eff, value):
        return []
    shown = f"{name}={eff.last}" + (f" (implied by {eff.implied_by})" if eff.implied_by else "")
    return [
        Finding(
            "UG102",
            eff.location or ctx.changed_header,
            f"{ctx.unit}: {shown} is not accepted by the policy{_overrides(ctx, key, eff, value)}: "
            f"write {_suggest(key, value)}{accepted}",
            ctx.unit,
            name,
        )
    ]


def _accepts(key: str, eff: Effective, value: Value) -> bool:
    last = eff.last or ""
    if isinstance(value, bool):
        if key == "Service.Delegate" and parse_boolean(last) is None:
            return value  # a controller list (or empty) turns delegation on
        return parse_boolean(last) is value
    if value == "*":
        return bool(last.strip())
    if key in LIST_DIRECTIVES:
        words = set(eff.words)
        return any(set(alt.split()) <= words for alt in _alternatives(value))
    return normalize(key, last) in {normalize(key, alt) for alt in _alternatives(value)}


def _accepted_text(value: Value) -> str:
    if isinstance(value, tuple) and len(value) > 1:
        return f" (accepted: {', '.join(value)})"
    return ""


def _suggest(key: str, value: Value) -> str:
    name = display_directive(key)
    if value == "*":
        return f"{name}=<value>"
    if key in CAPABILITY_DIRECTIVES and not isinstance(value, bool):
        return f"{name}={' '.join(_alternatives(value))}"
    return f"{name}={_spell(value)}"


def _overrides(ctx: Context, key: str, eff: Effective, value: Value) -> str:
    """', overriding X=good from base.service:7' when a drop-in weakened an accepted earlier line."""
    setting = ctx.analysis.settings.get(key)
    if not setting or eff.implied_by or eff.location is None:
        return ""
    for earlier in reversed(setting.assignments[:-1]):
        if earlier.location.path == eff.location.path:
            continue
        probe = Effective(key, (earlier.value,), earlier.location, True)
        if _accepts(key, probe, value):
            return f", overriding {display_directive(key)}={earlier.value} at {earlier.location}"
    return ""


def _require_capabilities(ctx: Context, key: str, value: Value) -> list[Finding]:
    name = display_directive(key)
    allowed = capability_mask(" ".join(_alternatives(value)).split()) if not isinstance(value, bool) else 0
    current, decided = capability_set(ctx.analysis, key)
    extra = current & ~allowed
    if not extra:
        return []
    eff = effective(ctx.analysis, key)
    allowed_text = " ".join(_cap_names(allowed)) or "(empty)"
    if not eff.is_set and key == "Service.CapabilityBoundingSet":
        return [
            Finding(
                "UG101",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, so the service keeps every capability; the policy allows "
                f"only {allowed_text}: write {_suggest(key, value)} in [Service]",
                ctx.unit,
                name,
            )
        ]
    names = _cap_names(extra)
    where = next((decided[b] for b in range(64) if (extra >> b) & 1 and b in decided), None)
    return [
        Finding(
            "UG102",
            where or eff.location or ctx.changed_header,
            f"{ctx.unit}: {name}= includes {' '.join(names)}, but the policy allows only {allowed_text}: "
            f"write {_suggest(key, value)}",
            ctx.unit,
            name,
        )
    ]


def _forbid(ctx: Context, key: str, value: Value) -> list[Finding]:
    if key in CAPABILITY_DIRECTIVES:
        return _forbid_capabilities(ctx, key, value)
    name = display_directive(key)
    eff = effective(ctx.analysis, key)
    if key == "Service.User" and not eff.is_set:
        dynamic = effective(ctx.analysis, "Service.DynamicUser")
        if dynamic.last and parse_boolean(dynamic.last):
            return []  # a dynamic user is never root
        eff = Effective(key, ("root",), None, False)
    elif not eff.is_set:
        default = _DEFAULTS.get(key)
        if default is None:
            return []
        eff = Effective(key, (default,), None, False)
    if not _accepts(key, eff, value):
        return []
    shown = f"{name}={eff.last}"
    if eff.location is None:
        fix = (
            "set User= to an unprivileged user, or DynamicUser=yes"
            if key == "Service.User"
            else f"set {name}= explicitly to another value"
        )
        return [
            Finding(
                "UG103",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, so systemd uses {shown}, which the policy forbids: {fix}",
                ctx.unit,
                name,
            )
        ]
    fix = (
        "set User= to an unprivileged user, or DynamicUser=yes"
        if key == "Service.User"
        else (
            f"write {name}={'no' if value else 'yes'}"
            if isinstance(value, bool)
            else "change or remove this line"
        )
    )
    implied = f" (implied by {eff.implied_by})" if eff.implied_by else ""
    return [
        Finding(
            "UG103",
            eff.location,
            f"{ctx.unit}: {shown}{implied} is forbidden by the policy: {fix}",
            ctx.unit,
            name,
        )
    ]


def _forbid_capabilities(ctx: Context, key: str, value: Value) -> list[Finding]:
    name = display_directive(key)
    forbidden = capability_mask(" ".join(_alternatives(value)).split()) if not isinstance(value, bool) else 0
    current, decided = capability_set(ctx.analysis, key)
    present = current & forbidden
    if not present:
        return []
    names = " ".join(_cap_names(present))
    eff = effective(ctx.analysis, key)
    if key == "Service.AmbientCapabilities":
        fix = f"remove {names} from {name}="
    else:
        fix = f"write {name}=~{names}, or leave {names} out of the list"
    where = next((decided[b] for b in range(64) if (present >> b) & 1 and b in decided), None)
    if where is None and not eff.is_set:
        return [
            Finding(
                "UG103",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, so the service keeps {names}, which the policy forbids: "
                f"write {name}= listing only the capabilities the service needs (empty for none)",
                ctx.unit,
                name,
            )
        ]
    return [
        Finding(
            "UG103",
            where or eff.location or ctx.changed_header,
            f"{ctx.unit}: {name}= includes {names}, which the policy forbids: {fix}",
            ctx.unit,
            name,
        )
    ]


# --- exposure ----------------------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def score(
    checks: Iterable[CheckResult], excluded: frozenset[str] = frozenset(), fixed: frozenset[str] = frozenset()
) -> int:
    """systemd-analyze's exposure (0-100, i.e. tenths), with `excluded` checks left out (weight 0)
    and `fixed` checks counted as good."""
    badness_sum = weight_sum = 0
    for check in checks:
        if check.badness is None or canonical_check(check.json_field) in excluded:
            continue
        badness = 0 if check.json_field in fixed else check.badness
        badness_sum += _ceil_div(badness * check.weight, check.range)
        weight_sum += check.weight
    return _ceil_div(badness_sum * 100, weight_sum) if weight_sum else 0


def unit_exposure(analysis: UnitAnalysis, policy: UnitPolicy) -> int | None:
    if analysis.exposure is None:
        return None
    if not policy.exclude_checks:
        return analysis.exposure
    return score(analysis.checks, policy.exclude_checks)


_CAP_GROUPS: Mapping[str, str] = {
    "CapabilityBoundingSet_CAP_SET_UID_GID_PCAP": "CAP_SETUID CAP_SETGID CAP_SETPCAP",
    "CapabilityBoundingSet_CAP_AUDIT": "CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE",
    "CapabilityBoundingSet_CAP_SYS_NICE_RESOURCE": "CAP_SYS_NICE CAP_SYS_RESOURCE",
    "CapabilityBoundingSet_CAP_CHOWN_FSETID_SETFCAP": "CAP_CHOWN CAP_FSETID CAP_SETFCAP",
    "CapabilityBoundingSet_CAP_DAC_FOWNER_IPC_OWNER": (
        "CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_IPC_OWNER"
    ),
    "CapabilityBoundingSet_CAP_NET_BIND_SERVICE_BROADCAST_RAW)": (
        "CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW"
    ),
    "CapabilityBoundingSet_CAP_MAC": "CAP_MAC_ADMIN CAP_MAC_OVERRIDE",
}
_FIXES: Mapping[str, str] = {
    "UserOrDynamicUser": "DynamicUser=yes",
    "SupplementaryGroups": "SupplementaryGroups=",
    "ProtectHome": "ProtectHome=yes",
    "ProtectSystem": "ProtectSystem=strict",
    "RootDirectoryOrRootImage": "RootDirectory=/RootImage=",
    "UMask": "UMask=0077",
    "KeyringMode": "KeyringMode=private",
    "ProtectProc": "ProtectProc=invisible",
    "ProcSubset": "ProcSubset=pid",
    "NotifyAccess": "NotifyAccess=main",
    "Delegate": "Delegate=no",
    "RestrictAddressFamilies_AF_INET_INET6": "RestrictAddressFamilies=~AF_INET AF_INET6",
    "RestrictAddressFamilies_AF_UNIX": "RestrictAddressFamilies=~AF_UNIX",
    "RestrictAddressFamilies_AF_NETLINK": "RestrictAddressFamilies=~AF_NETLINK",
    "RestrictAddressFamilies_AF_PACKET": "RestrictAddressFamilies=~AF_PACKET",
    "RestrictAddressFamilies_OTHER": "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures": "SystemCallArchitectures=native",
    "IPAddressDeny": "IPAddressDeny=any",
    "DeviceAllow": "DevicePolicy=closed",
    "AmbientCapabilities": "AmbientCapabilities=",
}


def check_fix(check: CheckResult) -> str:
    """The line to write that makes one systemd-analyze check good."""
    field_ = check.json_field
    if field_ in _FIXES:
        return _FIXES[field_]
    if field_ in _CAP_GROUPS:
        return f"CapabilityBoundingSet=~{_CAP_GROUPS[field_]}"
    if field_.startswith("CapabilityBoundingSet_"):
        return f"CapabilityBoundingSet=~{field_.removeprefix('CapabilityBoundingSet_')}"
    if field_.startswith("SystemCallFilter_"):
        return f"SystemCallFilter=~@{field_.removeprefix('SystemCallFilter_').replace('_', '-')}"
    if field_.startswith("RestrictNamespaces_"):
        return f"RestrictNamespaces=~{field_.removeprefix('RestrictNamespaces_')}"
    return f"{check.name.rstrip('=')}=yes"


def _contribution(check: CheckResult) -> int:
    return _ceil_div((check.badness or 0) * check.weight, check.range)


def _weight_sum(checks: Sequence[CheckResult], excluded: frozenset[str]) -> int:
    return sum(
        c.weight for c in checks if c.badness is not None and canonical_check(c.json_field) not in excluded
    )


def savings(
    checks: Sequence[CheckResult],
    excluded: frozenset[str],
    target: int,
    weakened: Callable[[CheckResult], bool] = lambda c: False,
) -> list[tuple[CheckResult, int]]:
    """The checks to fix, until the score is at or below `target`: first those a line in the unit made
    bad (undoing a weakening is the cheapest fix), then those left at systemd's default; biggest saving
    first within each (ties in systemd's order). Each with the score once it and those before are fixed."""
    candidates = sorted(
        (c for c in checks if c.badness and canonical_check(c.json_field) not in excluded),
        key=lambda c: (not weakened(c), -_contribution(c)),
    )
    fixed: frozenset[str] = frozenset()
    chosen: list[tuple[CheckResult, int]] = []
    current = score(checks, excluded)
    for check in candidates:
        if current <= target:
            break
        fixed |= {check.json_field}
        current = score(checks, excluded, fixed)
        chosen.append((check, current))
    return chosen


def _saved(check: CheckResult, checks: Sequence[CheckResult], excluded: frozenset[str]) -> str:
    """What fixing one check alone is worth, in exposure points (nearest tenth; "<0.1" when less)."""
    tenth = round(_contribution(check) * 100 / max(_weight_sum(checks, excluded), 1))
    return f"-{tenths(tenth)}" if tenth else "-<0.1"


def exposure_advice(steps: Sequence[tuple[CheckResult, int]], describe: Callable[[CheckResult], str]) -> str:
    """The few changes (from savings()) that bring a unit under its maximum, with what each saves."""
    shown = steps[:MAX_SUGGESTIONS]
    if not shown:
        return "run `unitgate explain` to see every check"
    items = ", ".join(describe(c) for c, _ in shown)
    reached = tenths(shown[-1][1])
    if len(steps) <= MAX_SUGGESTIONS:
        return f"{items} would bring it to {reached}"
    return (
        f"the biggest savings are {items}, bringing it to {reached}; "
        f"{len(steps) - len(shown)} more changes are needed (`unitgate explain` lists every check)"
    )


def _exposure(ctx: Context) -> list[Finding]:
    maximum = ctx.policy.max_exposure
    exposure = unit_exposure(ctx.analysis, ctx.policy)
    if maximum is None or exposure is None or exposure <= maximum:
        return []
    checks, excluded = ctx.analysis.checks, ctx.policy.exclude_checks
    written = {a.location: a.key for s in ctx.analysis.settings.values() for a in s.assignments}
    steps = savings(
        checks,
        excluded,
        maximum,
        lambda c: c.source is not None and written.get(c.source, "") in c.directives,
    )
    advice = exposure_advice(steps, lambda c: f"{check_fix(c)} ({_saved(c, checks, excluded)})")
    without = f" (without {', '.join(sorted(excluded))})" if excluded else ""
    return [
        Finding(
            "UG201",
            ctx.unit_header,
            f"{ctx.unit}: exposure {tenths(exposure)}{without} is above the maximum "
            f"{tenths(maximum)}: {advice}",
            ctx.unit,
        )
    ]


# --- the run -----------------------------------------------------------------------------------------


Analyzer = Callable[[Sequence[str]], list[UnitAnalysis]]


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    info: RunInfo
    suppressed: tuple[Finding, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if blocking(self.findings) else EXIT_OK


def is_quadlet(path: str) -> bool:
    p = Path(path)
    return p.suffix in QUADLET_SUFFIXES or (
        p.parent.suffix == ".d" and Path(p.parent.stem).suffix in QUADLET_SUFFIXES
    )


def _default_analyzer(paths: Sequence[str]) -> list[UnitAnalysis]:
    from unitgate.engine import analyze_paths

    return analyze_paths(paths)


Inspector = Callable[[UnitAnalysis, ContainerRules], "QuadletInspection | None"]


def _default_inspector(analysis: UnitAnalysis, rules: ContainerRules) -> QuadletInspection | None:
    """The posture and command line of a `.container` the engine analysed, read again in the mode the
    policy sets (`[container] rootless`), keeping the path the user gave and the wrapper's score."""
    from dataclasses import replace

    from unitgate.quadlet import inspect_container

    fragment = analysis.fragment
    if fragment is None or not fragment.endswith(".container") or not os.path.isfile(fragment):
        return None
    inspection = inspect_container(fragment, rootless=rules.rootless)
    return replace(
        inspection, analysis=replace(inspection.analysis, path=analysis.path, wrapper=analysis.wrapper)
    )


def check(
    paths: Sequence[str],
    *,
    policy_file: str | None = None,
    analyze: Analyzer = _default_analyzer,
    inspect: Inspector | None = None,
    color: bool = False,
) -> Result:
    """Analyse `paths` and hold every affected unit against its policy. Raises PolicyError,
    UnitInputError or GateError for exit-2 conditions."""
    for path in paths:
        if not os.path.lexists(path):
            raise UnitInputError(Location(path), "no such file")
    fixed_policy = load_file(policy_file) if policy_file else None
    finder = Finder()
    inspect = inspect or _default_inspector

    def policy_for(path: str) -> Policy:
        return fixed_policy or finder.for_path(path)

    systemd_paths = [p for p in paths if not is_quadlet(p)]
    quadlet_paths = [p for p in paths if is_quadlet(p)]
    analyses = _analyze(analyze, systemd_paths) if systemd_paths else []
    unsupported: list[Finding] = []
    if quadlet_paths:
        try:
            analyses += analyze(quadlet_paths)
        except NotImplementedError:
            unsupported = [
                Finding(
                    "UG901",
                    Location(p, 1),
                    f"podman quadlet files are not supported by unitgate {__version__} yet: not checked; "
                    "exclude them from the hook until a release supports them",
                )
                for p in quadlet_paths
            ]

    for analysis in analyses:
        for diagnostic in analysis.diagnostics:
            if diagnostic.code in INPUT_ERRORS:
                raise UnitInputError(diagnostic.location, diagnostic.message)
    findings: list[Finding] = list(unsupported)
    summaries: list[UnitSummary] = []
    sources_of: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    checked: list[UnitAnalysis] = []
    for analysis in analyses:
        if analysis.unit in seen:
            continue  # each unit once, even when several changed files reach it
        seen.add(analysis.unit)
        unit_policy = policy_for(analysis.path).for_unit(analysis.unit)
        container = is_container(analysis)
        inspection = None
        if container and analysis.state is LoadState.LOADED and not unit_policy.container.empty:
            inspection = inspect(analysis, unit_policy.container)
            if inspection is not None:
                analysis = inspection.analysis
        checked.append(analysis)
        sources_of[analysis.unit] = analysis.sources
        unit_findings = evaluate(analysis, unit_policy, inspection)
        findings += [
            f for f in unit_findings if not unit_policy.ignores(f.rule, f.directive, container=container)
        ]
        if container:
            from unitgate import gate_container

            exposure = gate_container.exposure(analysis, unit_policy.container)
            maximum = unit_policy.container.max_exposure
        else:
            exposure, maximum = unit_exposure(analysis, unit_policy), unit_policy.max_exposure
        summaries.append(
            UnitSummary(
                analysis.unit,
                analysis.path,
                analysis.state.value,
                exposure,
                maximum,
                unit_policy.description,
                analysis.model,
            )
        )
    analyses = checked

    from unitgate import suppress

    files = list(dict.fromkeys([*paths, *(s for a in analyses for s in a.sources)]))
    by_file: dict[str, list[suppress.Suppression]] = {}
    for file in files:
        text = _read_text(file)
        if text is None:
            continue
        suppressions, broken = suppress.parse(file, text)
        by_file[file] = suppressions
        file_policy = policy_for(file).for_unit("")
        findings += [f for f in broken if not file_policy.ignores(f.rule, None)]
    applied = suppress.apply(findings, by_file, sources_of)
    # An unused suppression is reported only where every finding it could match was computed: in a
    # changed file, or in the base unit of a checked unit (a shared drop-in may serve unchecked units).
    owned = set(paths) | {a.fragment for a in analyses if a.fragment}
    unused = [
        suppress.unused_finding(s)
        for s in applied.unused
        if s.location.path in owned and not policy_for(s.location.path).for_unit("").ignores("UG402", None)
    ]
    final = sorted(dict.fromkeys((*applied.kept, *unused)), key=Finding.sort_key)
    info = RunInfo(
        version=__version__,
        units=tuple(summaries),
        files=tuple(paths),
        color=color,
        suppressed=len(applied.suppressed),
    )
    return Result(tuple(final), info, applied.suppressed)


def _analyze(analyze: Analyzer, paths: Sequence[str]) -> list[UnitAnalysis]:
    try:
        return analyze(paths)
    except NotImplementedError:
        raise GateError("the analysis engine is not available in this build") from None


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def use_color(stream: object = None) -> bool:
    """Colour only on a terminal; NO_COLOR turns it off, FORCE_COLOR on (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream or sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def run(ns: argparse.Namespace) -> int:
    """The `unitgate check` subcommand."""
    from unitgate.report import REPORTERS

    fmt = ns.format or default_format()
    if not ns.paths:
        print("unitgate: no files to check", file=sys.stderr)
        return EXIT_OK
    try:
        result = check(ns.paths, policy_file=ns.policy, color=fmt == "text" and use_color())
    except PolicyError as exc:
        print(f"unitgate: policy error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (UnitInputError, GateError) as exc:
        print(f"unitgate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(REPORTERS[fmt](result.findings, result.info))
    sys.stdout.flush()
    return result.exit_code
