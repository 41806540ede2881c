"""The service section being generated: the mutable [Unit]/[Service] lines and command lines that
`convert_container` builds, the names quadlet gives a container and its service, and the [Unit]
and [Service] keys quadlet handles itself (dependencies, ExecReload=, defaults)."""

from __future__ import annotations

import os

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable, Mapping

from unitgate.model import Assignment, Location
from unitgate.quadlet.cmdline import Arg
from unitgate.quadlet.gen_text import escape_words
from unitgate.quadlet.keys import CONTAINER_GROUP, QUADLET_GROUP, SERVICE_GROUP, UNIT_GROUP
from unitgate.quadlet.parser import (
    QuadletFile,
    lookup,
    lookup_all,
    lookup_all_args,
    lookup_all_strv,
    lookup_boolean,
    lookup_last_args,
    lookup_last_assignment,
    lookup_value,
    strip_quotes,
)
from unitgate.quadlet.releases import Release
from unitgate.records import dataclass, field

PODMAN = "/usr/bin/podman"  # quadlet's built-in default ($PODMAN overrides it at generation time)
G = CONTAINER_GROUP


@dataclass(frozen=True)
class RefInfo:
    """unitsInfoMap entry for another quadlet file a `.container` names."""

    service_name: str
    resource_name: str


class ConversionError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


# ---------------------------------------------------------------------------------------------
# The mutable service being built; frozen into Assignments at the end.


@dataclass
class _Line:
    key: str
    value: str
    location: Location


@dataclass
class _Service:
    groups: dict[str, list[_Line]] = field(default_factory=dict)
    pair_quotes: bool = False  # the release's Lookup quote rule (see parser.strip_quotes)

    def group(self, name: str) -> list[_Line]:
        return self.groups.setdefault(name, [])

    def add(self, group: str, key: str, value: str, loc: Location) -> None:
        self.group(group).append(_Line(key, value, loc))

    def prepend(self, group: str, key: str, value: str, loc: Location) -> None:
        self.group(group).insert(0, _Line(key, value, loc))

    def set(self, group: str, key: str, value: str, loc: Location) -> None:
        """UnitFile.Set: overwrite the last occurrence in place, else append."""
        for line in reversed(self.group(group)):
            if line.key == key:
                line.value, line.location = value, loc
                return
        self.add(group, key, value, loc)

    def lookup(self, group: str, key: str) -> str | None:
        for line in reversed(self.groups.get(group, [])):
            if line.key == key:
                return strip_quotes(line.value, self.pair_quotes)
        return None

    def rename(self, old: str, new: str) -> None:
        if old not in self.groups:
            return
        lines = self.groups.pop(old)
        if new in self.groups:
            self.groups[new].extend(lines)
        else:
            self.groups[new] = lines

    def freeze(self) -> tuple[Assignment, ...]:
        return tuple(
            Assignment(g, ln.key, ln.value, ln.location) for g, lines in self.groups.items() for ln in lines
        )


class _Cmd:
    def __init__(self) -> None:
        self.args: list[Arg] = []

    def add(self, loc: Location, *texts: str) -> None:
        self.args.extend(Arg(t, loc) for t in texts)

    def add_bool(self, loc: Location, flag: str, val: bool) -> None:
        self.add(loc, flag if val else f"{flag}=false")

    def add_keys(self, flag: str, kv: Mapping[str, Assignment]) -> None:
        for k in sorted(kv):
            self.add(kv[k].location, flag, f"{k}={kv[k].value}")

    def add_key_words(self, flag: str, kv: Mapping[str, tuple[Assignment, bool]]) -> None:
        """addKeys (5.6+): `K=V`, or a bare `K` for a word written without `=`."""
        for k in sorted(kv):
            a, bare = kv[k]
            self.add(a.location, flag, k if bare else f"{k}={a.value}")


def _starts_with_specifier(p: str) -> bool:
    return p.startswith("%") and not p.startswith("%%")


def absolute_path(unit: QuadletFile, p: str) -> str:
    """getAbsolutePath: relative to the quadlet file's directory unless it starts with a specifier."""
    if not _starts_with_specifier(p) and not p.startswith("/"):
        return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(unit.path)), p))
    return p


RefLookup = Callable[[str], "RefInfo | None"]


def container_name(unit: QuadletFile) -> str:
    v = lookup_value(unit, G, "ContainerName")
    if not v:
        return "systemd-%p_%i" if "@" in unit.filename else "systemd-%N"
    return v


def service_name(unit: QuadletFile, group: str = G, suffix: str = "", template_names: bool = False) -> str:
    """getServiceName; with `template_names` (5.7+) `name@.volume` gives `name-volume@`."""
    v = lookup_value(unit, group, "ServiceName")
    if v is not None:
        return v
    base = unit.filename
    dot = base.rfind(".")
    base = base[:dot] if dot > 0 else base
    if template_names and base.endswith("@"):
        return base[:-1] + suffix + "@"
    return base + suffix


def _base_cmd(unit: QuadletFile, cmd: _Cmd, zero: Location) -> None:
    cmd.add(zero, PODMAN)
    for a in lookup_all(unit, G, "ContainersConfModule"):
        cmd.add(a.location, f"--module={a.value}")
    for a in lookup_all_args(unit, G, "GlobalArgs"):
        cmd.add(a.location, a.value)


# [Unit] keys whose quadlet-file names 5.5+ translates to service names (unitDependencyKeys).
_DEPENDENCY_KEYS = (
    "After",
    "Before",
    "BindsTo",
    "Conflicts",
    "OnFailure",
    "OnSuccess",
    "PartOf",
    "PropagatesReloadTo",
    "PropagatesStopTo",
    "ReloadPropagatedFrom",
    "Requires",
    "Requisite",
    "StopPropagatedFrom",
    "Upholds",
    "Wants",
)


def _translate_dependencies(unit: QuadletFile, svc: _Service, refs: RefLookup, rel: Release) -> None:
    """translateUnitDependencies (5.5+): `Requires=db.container` becomes `Requires=db.service`; a name
    with a quadlet extension that no loaded file has rejects the unit."""
    for key in _DEPENDENCY_KEYS:
        deps = lookup_all_strv(unit, UNIT_GROUP, key)
        if not deps:
            continue
        words: list[str] = []
        translated = False
        for d in deps:
            if os.path.splitext(d.value)[1] in rel.extensions:
                info = refs(d.value)
                if info is None:
                    raise ConversionError(f"unable to translate dependency for {d.value}", d.location)
                words.append(info.service_name + ".service")
                translated = True
            else:
                words.append(d.value)
        if translated:
            lines = svc.group(UNIT_GROUP)
            lines[:] = [ln for ln in lines if ln.key != key]
            svc.add(UNIT_GROUP, key, " ".join(words), deps[-1].location)


def _exec_reload(unit: QuadletFile, svc: _Service, zero: Location, name: str, space_hex: bool) -> None:
    """handleExecReload (5.5+): ReloadCmd= runs `podman exec`, ReloadSignal= `podman kill --signal`."""
    sig = lookup(unit, G, "ReloadSignal")
    args = lookup_last_args(unit, G, "ReloadCmd") or ()
    if not (sig is not None and sig.value) and not args:
        return
    if sig is not None and sig.value and args:
        raise ConversionError(
            "ReloadCmd and ReloadSignal are mutually exclusive but both are set", sig.location
        )
    reload = _Cmd()
    _base_cmd(unit, reload, zero)
    if args:
        reload.add(args[0].location, "exec", name, *(x.value for x in args))
        loc = args[0].location
    else:
        assert sig is not None
        reload.add(sig.location, "kill", "--signal", sig.value, name)
        loc = sig.location
    svc.add(SERVICE_GROUP, "ExecReload", escape_words([x.text for x in reload.args], space_hex), loc)


def _default_deps_disabled(unit: QuadletFile) -> bool:
    b = lookup_boolean(unit, QUADLET_GROUP, "DefaultDependencies")
    return b is not None and not b[0]


def _svc_loc(unit: QuadletFile, key: str, zero: Location) -> Location:
    a = lookup_last_assignment(unit, SERVICE_GROUP, key)
    return a.location if a else zero
