"""What quadlet 5.4.2's `ConvertContainer` makes of a `.container`: the podman command line and the
generated service, every piece tied to the quadlet line that produced it.

Arguments quadlet adds on its own carry `Location(<quadlet file>, 0)`.  Where quadlet iterates a Go
map (plain string keys, booleans) the order is random in Go; here it is fixed, so compare argument
sequences, not whole lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.quadlet.cmdline import Arg as Arg  # re-exported: the gate imports it from here
from unitgate.quadlet.keys import CONTAINER_GROUP, QUADLET_GROUP, SERVICE_GROUP, UNIT_GROUP, unknown_key_error
from unitgate.quadlet.parser import (
    EXEC_FLAGS,
    Group,
    QuadletFile,
    SplitError,
    lookup,
    lookup_all,
    lookup_all_args,
    lookup_all_key_val,
    lookup_all_key_words,
    lookup_all_strv,
    lookup_boolean,
    lookup_last_args,
    lookup_last_assignment,
    lookup_value,
    split_words,
    strip_quotes,
)
from unitgate.quadlet.releases import PODMAN_5_4, Release

PODMAN = "/usr/bin/podman"  # quadlet's built-in default ($PODMAN overrides it at generation time)
G = CONTAINER_GROUP


@dataclass(frozen=True)
class RefInfo:
    """unitsInfoMap entry for another quadlet file a `.container` names."""

    service_name: str
    resource_name: str


@dataclass(frozen=True)
class Conversion:
    argv: tuple[Arg, ...]  # ExecStart, podman binary first
    service: tuple[Assignment, ...]  # the generated [Unit]/[Service]/other groups, in order
    error: Diagnostic | None = None  # quadlet refuses the file (no service generated)
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def run_index(self) -> int:
        """Index of `run` in argv (GlobalArgs sit before it)."""
        for i, a in enumerate(self.argv):
            if a.text == "run":
                return i
        return len(self.argv)


class ConversionError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


# ---------------------------------------------------------------------------------------------
# escapeWords (split.go), for the ExecStart= text


def _char_needs_escape(c: str) -> bool:
    o = ord(c)
    if o > 128:
        return False
    return c.isspace() or o < 0x20 or o == 0x7F or c in "\"'\\"


def escape_words(words: list[str], space_hex: bool = False) -> str:
    """escapeWords; `space_hex` (5.8+) writes a space inside a quoted word as `\\x20`."""
    out: list[str] = []
    table = {"\a": "\\a", "\b": "\\b", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f"}
    table.update({"\\": "\\\\", " ": "\\x20" if space_hex else " ", '"': '\\"', "'": "'"})
    for w in words:
        if any(_char_needs_escape(c) for c in w):
            esc = "".join((table.get(c, f"\\x{ord(c):02x}") if _char_needs_escape(c) else c) for c in w)
            out.append(f'"{esc}"')
        else:
            out.append(w)
    return " ".join(out)


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


# ---------------------------------------------------------------------------------------------


def _split_csv_go(s: str) -> list[str] | None:
    """encoding/csv, one record, strict quotes (Go's default: a bare `"` is an error)."""
    fields: list[str] = []
    i, n = 0, len(s)
    while True:
        if i < n and s[i] == '"':
            buf: list[str] = []
            i += 1
            while True:
                if i >= n:
                    return None
                if s[i] == '"':
                    if i + 1 < n and s[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(s[i])
                i += 1
            if i < n and s[i] != ",":
                return None
            fields.append("".join(buf))
        else:
            j = s.find(",", i)
            j = n if j == -1 else j
            f = s[i:j]
            if '"' in f or "\n" in f:
                return None
            fields.append(f)
            i = j
        if i >= n:
            return fields
        i += 1  # skip comma


def _to_csv_go(fields: list[str]) -> str:
    def q(f: str) -> str:
        needs = f != "" and (f == "\\." or any(c in f for c in ',"\r\n') or f[0] in " \t\n\v\f\r\x85\xa0")
        return '"' + f.replace('"', '""') + '"' if needs else f

    return ",".join(q(f) for f in fields)


def find_mount_type(mount: str, default: str | None = None) -> tuple[str, list[str]]:
    """specgenutilexternal.FindMountType; `default` is the type of a mount without `type=` (5.6+:
    "volume"; before: refused)."""
    fields = _split_csv_go(mount)
    syntax = (
        "incorrect mount format: should be --mount type=<bind|glob|tmpfs|volume>,"
        "[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]"
    )
    if fields is None:
        raise ValueError("parse error in --mount value (CSV quoting)")
    mount_type, tokens, found = "", [], False
    for f in fields:
        kv = f.split("=")
        if found or not (len(kv) == 2 and kv[0] == "type"):
            tokens.append(f)
            continue
        mount_type, found = kv[1], True
    if not found:
        if default is None:
            raise ValueError(syntax)
        mount_type = default
    return mount_type, tokens


def _starts_with_specifier(p: str) -> bool:
    return p.startswith("%") and not p.startswith("%%")


def absolute_path(unit: QuadletFile, p: str) -> str:
    """getAbsolutePath: relative to the quadlet file's directory unless it starts with a specifier."""
    if not _starts_with_specifier(p) and not p.startswith("/"):
        return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(unit.path)), p))
    return p


RefLookup = Callable[[str], "RefInfo | None"]


def _storage_source(
    unit: QuadletFile,
    svc: _Service,
    source: str,
    refs: RefLookup,
    check_image: bool,
    loc: Location,
    rel: Release = PODMAN_5_4,
) -> str:
    if source.startswith("."):
        source = absolute_path(unit, source)
    if source.startswith("/"):
        svc.add(
            UNIT_GROUP,
            "RequiresMountsFor",
            escape_words([source], True) if rel.escape_spaces else source,
            loc,
        )
    elif (
        source.endswith(".volume")
        or (check_image and source.endswith(".image"))
        or (".artifact" in rel.extensions and source.endswith(".artifact"))
    ):
        info = refs(source)
        if info is None:
            raise ConversionError(f"requested Quadlet source {source} was not found", loc)
        svc.add(UNIT_GROUP, "Requires", info.service_name + ".service", loc)
        svc.add(UNIT_GROUP, "After", info.service_name + ".service", loc)
        source = info.resource_name
    return source


_PORT_RANGE = re.compile(r"\d+(-\d+)?(/udp|/tcp)?$")


def _user_mappings(unit: QuadletFile, cmd: _Cmd, zero: Location) -> None:
    defined = False
    a = lookup(unit, G, "UserNS")
    if a and a.value:
        cmd.add(a.location, "--userns", a.value)
        defined = True
    for key, flag in (("UIDMap", "--uidmap"), ("GIDMap", "--gidmap")):
        vals = lookup_all_strv(unit, G, key)
        defined = defined or bool(vals)
        for v in vals:
            cmd.add(v.location, flag, v.value)
    for key, flag in (("SubUIDMap", "--subuidname"), ("SubGIDMap", "--subgidname")):
        a = lookup(unit, G, key)
        if a and a.value:
            cmd.add(a.location, flag, a.value)
            defined = True
    if defined:
        for key in ("RemapUid", "RemapGid", "RemapUsers"):
            a2 = lookup_last_assignment(unit, G, key)
            if a2 is not None:
                raise ConversionError(
                    "deprecated Remap keys are set along with explicit mapping keys", a2.location
                )
        return
    uid_maps = lookup_all_strv(unit, G, "RemapUid")
    gid_maps = lookup_all_strv(unit, G, "RemapGid")
    ru = lookup_last_assignment(unit, G, "RemapUsers")
    remap = ru.value if ru else ""
    rloc = ru.location if ru else zero
    if remap == "":
        if uid_maps:
            raise ConversionError("UidMap set without RemapUsers", uid_maps[0].location)
        if gid_maps:
            raise ConversionError("GidMap set without RemapUsers", gid_maps[0].location)
    elif remap == "manual":
        for v in uid_maps:
            cmd.add(v.location, "--uidmap", v.value)
        for v in gid_maps:
            cmd.add(v.location, "--gidmap", v.value)
    elif remap == "auto":
        opts = [f"uidmapping={v.value}" for v in uid_maps] + [f"gidmapping={v.value}" for v in gid_maps]
        size = lookup_value(unit, G, "RemapUidSize")
        n = _go_uint32(size) if size is not None else 0
        if n > 0:
            opts.append(f"size={n}")
        cmd.add(rloc, "--userns", "auto" + (":" + ",".join(opts) if opts else ""))
    elif remap == "keep-id":
        opts = []
        if uid_maps:
            if len(uid_maps) > 1:
                raise ConversionError("RemapUsers=keep-id supports only a single value for UID mapping", rloc)
            opts.append("uid=" + uid_maps[0].value)
        if gid_maps:
            if len(gid_maps) > 1:
                raise ConversionError("RemapUsers=keep-id supports only a single value for GID mapping", rloc)
            opts.append("gid=" + gid_maps[0].value)
        cmd.add(rloc, "--userns", "keep-id" + (":" + ",".join(opts) if opts else ""))
    else:
        raise ConversionError(f"unsupported RemapUsers option '{remap}'", rloc)


def _go_uint32(v: str) -> int:
    """LookupUint32 via convertNumber (strtol-like); invalid or out of range gives 0."""
    s, mult = v, 1
    if s.startswith("+"):
        s = s[1:]
    elif s.startswith("-"):
        s, mult = s[1:], -11  # sic: quadlet multiplies by -11
    try:
        if s[:2] in ("0x", "0X"):
            n = int(s[2:], 16)
        elif s.startswith("0"):
            n = int(s, 8)
        else:
            n = int(s, 10)
    except ValueError:
        return 0
    n *= mult
    return n if 0 <= n <= 0xFFFFFFFF else 0


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


def convert_container(
    unit: QuadletFile,
    *,
    rootless: bool,
    refs: RefLookup = lambda _n: None,
    device_exists: Callable[[str], bool] | None = None,
    release: Release = PODMAN_5_4,
) -> Conversion:
    """ConvertContainer of `release` (default 5.4.2). `refs` resolves other quadlet files by name;
    `device_exists` decides `AddDevice=-/dev/x` (default: assume the device exists, the stricter
    reading)."""
    unit = replace(unit, pair_quotes=release.quote_pair_only)
    zero = Location(unit.path, 0)
    svc = _Service(pair_quotes=release.quote_pair_only)
    for g in unit.groups:
        for a in g.lines:
            svc.add(g.name, a.key, a.value, a.location)
    cmd = _Cmd()
    warnings = tuple(_image_warnings(unit)) + (tuple(_split_warnings(unit)) if release.split_warnings else ())
    try:
        _convert(unit, svc, cmd, zero, rootless, refs, device_exists, release)
    except ConversionError as e:
        diag = Diagnostic(
            e.location,
            f'quadlet refuses the file: converting "{unit.filename}": {e.message}',
            Severity.ERROR,
            "UGQ003",
        )
        return Conversion(tuple(cmd.args), (), diag, warnings)
    return Conversion(tuple(cmd.args), svc.freeze(), None, warnings)


def _split_warnings(unit: QuadletFile) -> list[Diagnostic]:
    """5.5+: quadlet warns (and drops the value) when Exec=/ReloadCmd= or a key=value list cannot be
    split; 5.4.2 drops it silently."""
    values: list[Assignment] = []
    for key in ("Exec", "ReloadCmd"):
        last = lookup_last_assignment(unit, G, key)
        values.extend([last] if last is not None else [])
    for key in ("Environment", "Label", "Annotation"):
        values.extend(lookup_all(unit, G, key))
    problems = ((a, _split_problem(a.value)) for a in values)
    return [
        Diagnostic(a.location, f"quadlet drops {a.key}={a.value}: {why}", Severity.WARNING, "UGQ011")
        for a, why in problems
        if why
    ]


def _split_problem(value: str) -> str:
    try:
        split_words(value, EXEC_FLAGS)
    except SplitError as e:
        return str(e)
    return ""


def _image_warnings(unit: QuadletFile) -> list[Diagnostic]:
    """warnIfAmbiguousName (main.go): a short image name is a warning, not an error."""
    a = lookup(unit, G, "Image")
    if a is None or a.value.endswith((".build", ".image")) or _unambiguous(a.value):
        return []
    return [
        Diagnostic(
            a.location,
            f'{unit.filename} specifies the image "{a.value}" which not a fully qualified image name. '
            "This is not ideal for performance and security reasons. See the podman-pull manpage "
            "discussion of "
            "short-name-aliases.conf for details.",
            Severity.WARNING,
            "UGQ004",
        )
    ]


def _unambiguous(name: str) -> bool:
    if name.startswith("sha256:") or (len(name) == 64 and all(c in "0123456789abcdefABCDEF" for c in name)):
        return True
    slash = name.find("/")
    if slash == -1:
        return False
    domain = name[:slash]
    return any(c in domain for c in ".:") or domain == "localhost"


def _base_cmd(unit: QuadletFile, cmd: _Cmd, zero: Location) -> None:
    cmd.add(zero, PODMAN)
    for a in lookup_all(unit, G, "ContainersConfModule"):
        cmd.add(a.location, f"--module={a.value}")
    for a in lookup_all_args(unit, G, "GlobalArgs"):
        cmd.add(a.location, a.value)


def _convert(
    unit: QuadletFile,
    svc: _Service,
    cmd: _Cmd,
    zero: Location,
    rootless: bool,
    refs: RefLookup,
    device_exists: Callable[[str], bool] | None,
    rel: Release,
) -> None:
    err = unknown_key_error(unit, unit.path, rel.container_keys, rel.reference)
    if err is not None:
        raise ConversionError(err.message.split(": ", 1)[1], err.location)
    if rel.translate_dependencies:
        _translate_dependencies(unit, svc, refs, rel)
    if not _default_deps_disabled(unit):
        target = "podman-user-wait-network-online.service" if rootless else "network-online.target"
        svc.prepend(UNIT_GROUP, "After", target, zero)
        svc.prepend(UNIT_GROUP, "Wants", target, zero)
    svc.add(UNIT_GROUP, "SourcePath", unit.path, zero)
    svc.rename(G, "X-Container")
    svc.rename(QUADLET_GROUP, "X-Quadlet")

    image = lookup(unit, G, "Image")
    rootfs = lookup(unit, G, "Rootfs")
    img = image.value if image else ""
    rfs = rootfs.value if rootfs else ""
    if not img and not rfs:
        raise ConversionError("no Image or Rootfs key specified", Location(unit.path, 0))
    if img and rfs:
        raise ConversionError(
            "the Image And Rootfs keys conflict can not be specified together",
            rootfs.location if rootfs else zero,
        )
    if img and image is not None:
        for suffix in (".build", ".image"):
            if img.endswith(suffix):
                info = refs(img)
                if info is None:
                    raise ConversionError(f"requested Quadlet image {img} was not found", image.location)
                svc.add(UNIT_GROUP, "Requires", info.service_name + ".service", image.location)
                svc.add(UNIT_GROUP, "After", info.service_name + ".service", image.location)
                img = info.resource_name

    name = container_name(unit)
    name_loc = lookup(unit, G, "ContainerName")
    svc.add(SERVICE_GROUP, "Environment", "PODMAN_SYSTEMD_UNIT=%n", zero)
    kill_mode = svc.lookup(SERVICE_GROUP, "KillMode")
    if kill_mode not in ("mixed", "control-group"):
        if kill_mode is not None:
            raise ConversionError(f"invalid KillMode '{kill_mode}'", _svc_loc(unit, "KillMode", zero))
        svc.set(SERVICE_GROUP, "KillMode", "mixed", zero)
    svc.add(UNIT_GROUP, "RequiresMountsFor", "%t/containers", zero)

    stop = _Cmd()
    _base_cmd(unit, stop, zero)
    stop.add(zero, "rm", "-v", "-f", "-i", "--cidfile=%t/%N.cid" if rel.cidfile else name)
    words = [a.text for a in stop.args]
    svc.add(SERVICE_GROUP, "ExecStop", escape_words(words, rel.escape_spaces), zero)
    svc.add(
        SERVICE_GROUP, "ExecStopPost", escape_words(["-" + words[0], *words[1:]], rel.escape_spaces), zero
    )
    if rel.container_keys >= {"ReloadCmd", "ReloadSignal"}:
        _exec_reload(unit, svc, zero, name, rel.escape_spaces)

    _base_cmd(unit, cmd, zero)
    cmd.add(zero, "run")
    cmd.add(name_loc.location if name_loc and name_loc.value else zero, "--name", name)
    if rel.cidfile:
        cmd.add(zero, "--cidfile=%t/%N.cid")
    cmd.add(zero, "--replace", "--rm")
    a = lookup(unit, G, "LogDriver")
    if a is not None:
        cmd.add(a.location, "--log-driver", a.value)
    for a in lookup_all_strv(unit, G, "LogOpt"):
        cmd.add(a.location, "--log-opt", a.value)
    svc.add(SERVICE_GROUP, "Delegate", "yes", zero)
    a = lookup(unit, G, "CgroupsMode")
    if a is not None and a.value:
        cmd.add(a.location, "--cgroups", a.value)
    else:
        cmd.add(zero, "--cgroups=split")
    entry = lookup(unit, G, "Entrypoint")
    if rel.entrypoint_joined and entry is not None:
        cmd.add(entry.location, f"--entrypoint={entry.value}")
    for key, flag in (
        ("Timezone", "--tz"),
        ("PidsLimit", "--pids-limit"),
        ("ShmSize", "--shm-size"),
        *((("Entrypoint", "--entrypoint"),) if not rel.entrypoint_joined else ()),
        ("WorkingDir", "--workdir"),
        ("IP", "--ip"),
        ("IP6", "--ip6"),
        ("HostName", "--hostname"),
        ("StopSignal", "--stop-signal"),
        ("StopTimeout", "--stop-timeout"),
        ("Pull", "--pull"),
        *rel.string_flags,
    ):
        a = lookup(unit, G, key)
        if a is not None and a.value:
            cmd.add(a.location, flag, a.value)
    for key, flag in (
        ("NetworkAlias", "--network-alias"),
        ("Ulimit", "--ulimit"),
        ("DNS", "--dns"),
        ("DNSOption", "--dns-option"),
        ("DNSSearch", "--dns-search"),
        ("GroupAdd", "--group-add"),
        ("AddHost", "--add-host"),
        ("Tmpfs", "--tmpfs"),
    ):
        for a in lookup_all(unit, G, key):
            cmd.add(a.location, flag, a.value)
    for key, flag in (
        ("RunInit", "--init"),
        ("EnvironmentHost", "--env-host"),
        ("ReadOnlyTmpfs", "--read-only-tmpfs"),
        *rel.bool_flags,
    ):
        b = lookup_boolean(unit, G, key)
        if b is not None:
            cmd.add_bool(b[1].location, flag, b[0])

    _networks(unit, svc, cmd, refs)

    stype = svc.lookup(SERVICE_GROUP, "Type")
    if stype is not None and stype not in ("notify", "oneshot"):
        raise ConversionError(f"invalid service Type '{stype}'", _svc_loc(unit, "Type", zero))
    if stype != "oneshot":
        notify = lookup(unit, G, "Notify")
        if notify is not None and notify.value.lower() == "healthy":
            cmd.add(notify.location, "--sdnotify=healthy")
        elif notify is not None and lookup_boolean(unit, G, "Notify") == (True, notify):
            cmd.add(notify.location, "--sdnotify=container")
        else:
            cmd.add(zero, "--sdnotify=conmon")
        svc.set(SERVICE_GROUP, "Type", "notify", zero)
        svc.set(SERVICE_GROUP, "NotifyAccess", "all", zero)
        cmd.add(zero, "-d")
    if lookup_last_assignment(unit, SERVICE_GROUP, "SyslogIdentifier") is None:
        svc.set(SERVICE_GROUP, "SyslogIdentifier", "%N", zero)

    b = lookup_boolean(unit, G, "NoNewPrivileges")
    if b is not None and b[0]:
        cmd.add(b[1].location, "--security-opt=no-new-privileges")
    b = lookup_boolean(unit, G, "SecurityLabelDisable")
    if b is not None and b[0]:
        cmd.add(b[1].location, "--security-opt", "label=disable")
    b = lookup_boolean(unit, G, "SecurityLabelNested")
    if b is not None and b[0]:
        cmd.add(b[1].location, "--security-opt", "label=nested")
    for key, opt in (
        ("SecurityLabelType", "type"),
        ("SecurityLabelFileType", "filetype"),
        ("SecurityLabelLevel", "level"),
    ):
        a = lookup(unit, G, key)
        if a is not None and a.value:
            cmd.add(a.location, "--security-opt", f"label={opt}:{a.value}")
    a = lookup(unit, G, "AppArmor") if "AppArmor" in rel.container_keys else None
    if a is not None and a.value:
        cmd.add(a.location, "--security-opt", f"apparmor={a.value}")
    for a in lookup_all_strv(unit, G, "AddDevice"):
        dev = a.value
        if dev.startswith("-"):
            dev = dev[1:]
            if device_exists is not None and not device_exists(dev.split(":")[0]):
                continue
        cmd.add(a.location, "--device", dev)
    a = lookup(unit, G, "SeccompProfile")
    if a is not None:
        cmd.add(a.location, "--security-opt", f"seccomp={a.value}")
    for a in lookup_all_strv(unit, G, "DropCapability"):
        cmd.add(a.location, "--cap-drop", a.value.lower())
    for a in lookup_all_strv(unit, G, "AddCapability"):
        cmd.add(a.location, "--cap-add", a.value.lower())
    for a in lookup_all_strv(unit, G, "Sysctl"):
        cmd.add(a.location, "--sysctl", a.value)
    ro = lookup_boolean(unit, G, "ReadOnly")
    if ro is not None:
        cmd.add_bool(ro[1].location, "--read-only", ro[0])
    vt = lookup_boolean(unit, G, "VolatileTmp")
    if vt is not None and vt[0] and not (ro is not None and ro[0]):
        cmd.add(vt[1].location, "--tmpfs", "/tmp:rw,size=512M,mode=1777")

    user = lookup(unit, G, "User")
    group = lookup(unit, G, "Group")
    if user is None or not user.value:
        if group is not None and group.value:
            raise ConversionError("invalid Group set without User", group.location)
    else:
        ug = user.value if group is None or not group.value else f"{user.value}:{group.value}"
        cmd.add(user.location, "--user", ug)

    _user_mappings(unit, cmd, zero)

    for a in lookup_all(unit, G, "Volume"):
        parts = a.value.split(":", 2)
        source = parts[0] if len(parts) >= 2 else ""
        dest = parts[1] if len(parts) >= 2 else parts[0]
        options = ":" + parts[2] if len(parts) >= 3 else ""
        if source:
            source = _storage_source(unit, svc, source, refs, False, a.location, rel)
        cmd.add(a.location, "-v", f"{source}:{dest}{options}" if source else dest)

    a = lookup(unit, G, "AutoUpdate")
    if a is not None and a.value:
        cmd.add(a.location, "--label", f"io.containers.autoupdate={a.value}")
    for a in lookup_all(unit, G, "ExposeHostPort"):
        port = a.value.strip()
        if not _PORT_RANGE.search(port):
            raise ConversionError(f"invalid port format '{port}'", a.location)
        cmd.add(a.location, "--expose", port)
    for a in lookup_all(unit, G, "PublishPort"):
        cmd.add(a.location, "--publish", a.value)
    for key, flag in (("Environment", "--env"), ("Label", "--label"), ("Annotation", "--annotation")):
        if rel.bare_keyval:
            cmd.add_key_words(flag, lookup_all_key_words(unit, G, key))
        else:
            cmd.add_keys(flag, lookup_all_key_val(unit, G, key))
    for a in lookup_all_args(unit, G, "Mask"):
        cmd.add(a.location, "--security-opt", f"mask={a.value}")
    for a in lookup_all_args(unit, G, "Unmask"):
        cmd.add(a.location, "--security-opt", f"unmask={a.value}")
    for a in lookup_all_args(unit, G, "EnvironmentFile"):
        cmd.add(a.location, "--env-file", absolute_path(unit, a.value))
    for a in lookup_all_args(unit, G, "Secret"):
        cmd.add(a.location, "--secret", a.value)
    for a in lookup_all_args(unit, G, "Mount"):
        cmd.add(a.location, "--mount", _mount(unit, svc, a, refs, rel))
    for key, opt in (
        ("HealthCmd", "cmd"),
        ("HealthInterval", "interval"),
        ("HealthOnFailure", "on-failure"),
        ("HealthLogDestination", "log-destination"),
        ("HealthMaxLogCount", "max-log-count"),
        ("HealthMaxLogSize", "max-log-size"),
        ("HealthRetries", "retries"),
        ("HealthStartPeriod", "start-period"),
        ("HealthTimeout", "timeout"),
        ("HealthStartupCmd", "startup-cmd"),
        ("HealthStartupInterval", "startup-interval"),
        ("HealthStartupRetries", "startup-retries"),
        ("HealthStartupSuccess", "startup-success"),
        ("HealthStartupTimeout", "startup-timeout"),
    ):
        a = lookup(unit, G, key)
        if a is not None and a.value:
            cmd.add(a.location, f"--health-{opt}", a.value)
    pod = lookup(unit, G, "Pod")
    if pod is not None and pod.value:
        if not pod.value.endswith(".pod"):
            raise ConversionError(f"pod {pod.value} is not Quadlet based", pod.location)
        info = refs(pod.value)
        if info is None:
            raise ConversionError(f"quadlet pod unit {pod.value} does not exist", pod.location)
        if rel.cidfile:
            cmd.add(pod.location, "--pod-id-file", f"%t/{info.service_name}.pod-id")
        else:
            cmd.add(pod.location, "--pod", info.resource_name)
        svc.add(UNIT_GROUP, "BindsTo", info.service_name + ".service", pod.location)
        svc.add(UNIT_GROUP, "After", info.service_name + ".service", pod.location)
    for a in lookup_all_args(unit, G, "PodmanArgs"):
        cmd.add(a.location, a.value)
    if img and image is not None:
        cmd.add(image.location, img)
    elif rootfs is not None:
        cmd.add(rootfs.location, "--rootfs", rfs)
    exec_args = lookup_last_args(unit, G, "Exec")
    for a in exec_args or ():
        cmd.add(a.location, a.value)
    svc.add(SERVICE_GROUP, "ExecStart", escape_words([x.text for x in cmd.args], rel.escape_spaces), zero)


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


def _networks(unit: QuadletFile, svc: _Service, cmd: _Cmd, refs: RefLookup) -> None:
    for a in lookup_all(unit, G, "Network"):
        network = a.value
        name, sep, options = network.partition(":")
        is_net, is_ctr = name.endswith(".network"), name.endswith(".container")
        if is_net or is_ctr:
            info = refs(name)
            if info is None:
                raise ConversionError(f"requested Quadlet unit {name} was not found", a.location)
            if not info.resource_name:
                raise ConversionError(f"cannot get the resource name of {name}", a.location)
            svc.add(UNIT_GROUP, "Requires", info.service_name + ".service", a.location)
            svc.add(UNIT_GROUP, "After", info.service_name + ".service", a.location)
            if sep:
                if is_ctr:
                    raise ConversionError(
                        "extra options are not supported when joining another container's network", a.location
                    )
                network = f"{info.resource_name}:{options}"
            else:
                network = f"container:{info.resource_name}" if is_ctr else info.resource_name
        cmd.add(a.location, "--network", network)


def _mount(unit: QuadletFile, svc: _Service, a: Assignment, refs: RefLookup, rel: Release) -> str:
    try:
        mtype, tokens = find_mount_type(a.value, "volume" if rel.mount_type_default else None)
    except ValueError as e:
        raise ConversionError(str(e), a.location) from None
    if mtype not in (
        "volume",
        "bind",
        "glob",
        "image",
        *(("artifact",) if ".artifact" in rel.extensions else ()),
    ):
        return a.value
    idx, source = -1, ""
    for i, tok in enumerate(tokens):
        k, eq, v = tok.partition("=")
        if k in ("source", "src"):
            if not eq:
                raise ConversionError("source parameter does not include a value", a.location)
            idx, source = i, v
    if idx < 0 or not source:
        # quadlet 5.4.2 indexes source[0] here and crashes; later releases refuse; either way nothing
        # is generated
        raise ConversionError(
            "source cannot be empty"
            if not rel.cidfile
            else "mount has no source (quadlet 5.4.2 crashes on this)",
            a.location,
        )
    tokens[idx] = "source=" + _storage_source(unit, svc, source, refs, True, a.location, rel)
    return _to_csv_go([f"type={mtype}", *tokens])


POD_GROUP = "Pod"


def pod_create_args(
    pod: QuadletFile, *, refs: RefLookup = lambda _n: None, release: Release = PODMAN_5_4
) -> tuple[Arg, ...] | None:
    """The namespace-relevant part of the `podman pod create` quadlet generates for a `.pod` (ConvertPod:
    user mappings, published ports, networks, volumes, PodmanArgs), each argument tied to its `.pod`
    line. None when quadlet would not generate the pod (then the container's own flags stand)."""
    group = pod.group(POD_GROUP)
    if group is not None and any(a.key not in release.pod_keys for a in group.lines):
        return None  # checkForUnknownKeys: quadlet does not generate this pod
    # The [Pod] keys go through the same helpers as [Container] ones (quadlet calls them with the group
    # name), so present the group under the name those helpers read.
    view = replace(
        pod,
        groups=(Group(G, group.lines if group else (), group.header if group else None),),
        pair_quotes=release.quote_pair_only,
    )
    zero = Location(pod.path, 0)
    svc = _Service(pair_quotes=release.quote_pair_only)
    cmd = _Cmd()
    try:
        _user_mappings(view, cmd, zero)
        for a in lookup_all(view, G, "PublishPort"):
            cmd.add(a.location, "--publish", a.value)
        _networks(view, svc, cmd, refs)
        for a in lookup_all(view, G, "Volume"):
            parts = a.value.split(":", 2)
            if len(parts) >= 2 and parts[0]:
                src = _storage_source(view, svc, parts[0], refs, False, a.location, release)
                cmd.add(a.location, "-v", ":".join([src, *parts[1:]]))
            else:
                cmd.add(a.location, "-v", parts[-1] if len(parts) == 1 else a.value)
    except ConversionError:
        return None
    for a in lookup_all_args(view, G, "PodmanArgs"):
        cmd.add(a.location, a.value)
    return tuple(cmd.args)


def service_lines(
    unit: QuadletFile, *, rootless: bool = False, release: Release = PODMAN_5_4
) -> tuple[Assignment, ...]:
    """The [Unit] and [Service] lines quadlet generates from an already merged file (no drop-ins are
    read here; `engine.generated_service` takes a path). Empty when quadlet refuses the file."""
    service = convert_container(unit, rootless=rootless, release=release).service
    return tuple(a for a in service if a.section in (UNIT_GROUP, SERVICE_GROUP))
