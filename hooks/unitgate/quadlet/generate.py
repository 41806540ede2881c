"""What quadlet 5.4.2's `ConvertContainer` makes of a `.container`: the podman command line and the
generated service, every piece tied to the quadlet line that produced it.

Arguments quadlet adds on its own carry `Location(<quadlet file>, 0)`.  Where quadlet iterates a Go
map (plain string keys, booleans) the order is random in Go; here it is fixed, so compare argument
sequences, not whole lines.
"""

from __future__ import annotations

from unitgate.memo import pattern
from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.quadlet.cmdline import Arg
from unitgate.quadlet.gen_service import (
    PODMAN,
    ConversionError,
    G,
    RefInfo,
    RefLookup,
    _base_cmd,
    _Cmd,
    _default_deps_disabled,
    _exec_reload,
    _Service,
    _svc_loc,
    _translate_dependencies,
    absolute_path,
    container_name,
    service_name,
)
from unitgate.quadlet.gen_shared import (
    POD_GROUP,
    _mount,
    _networks,
    _storage_source,
    _user_mappings,
    pod_create_args,
)
from unitgate.quadlet.gen_text import escape_words, find_mount_type
from unitgate.quadlet.keys import QUADLET_GROUP, SERVICE_GROUP, UNIT_GROUP, unknown_key_error
from unitgate.quadlet.parser import (
    EXEC_FLAGS,
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
    split_words,
)
from unitgate.quadlet.releases import PODMAN_5_4, Release
from unitgate.records import dataclass, replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable

# The converter's pieces live in gen_text, gen_service and gen_shared; their public names stay
# importable from here (the engine and the gate import them from this module).
__all__ = [
    "PODMAN",
    "POD_GROUP",
    "Arg",
    "Conversion",
    "ConversionError",
    "G",
    "RefInfo",
    "RefLookup",
    "absolute_path",
    "container_name",
    "convert_container",
    "escape_words",
    "find_mount_type",
    "pod_create_args",
    "service_lines",
    "service_name",
]


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


_PORT_RANGE = r"\d+(-\d+)?(/udp|/tcp)?$"


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
        if not pattern(_PORT_RANGE).search(port):
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


def service_lines(
    unit: QuadletFile, *, rootless: bool = False, release: Release = PODMAN_5_4
) -> tuple[Assignment, ...]:
    """The [Unit] and [Service] lines quadlet generates from an already merged file (no drop-ins are
    read here; `engine.generated_service` takes a path). Empty when quadlet refuses the file."""
    service = convert_container(unit, rootless=rootless, release=release).service
    return tuple(a for a in service if a.section in (UNIT_GROUP, SERVICE_GROUP))
