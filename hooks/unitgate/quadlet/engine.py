"""One `.container` → `UnitAnalysis`: parse, merge drop-ins, convert as quadlet would, score."""

from __future__ import annotations

import os

from unitgate.analysis import LoadState, UnitAnalysis
from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.quadlet.cmdline import Arg
from unitgate.quadlet.dropins import (
    Layout,
    UnitSet,
    detect_layout,
    display_for,
    find_dropins,
    load_units,
    merge_dropins,
    search_dirs,
)
from unitgate.quadlet.generate import (
    Conversion,
    RefInfo,
    container_name,
    convert_container,
    pod_create_args,
    service_lines,
    service_name,
)
from unitgate.quadlet.keys import CONTAINER_GROUP, SERVICE_GROUP, UNIT_GROUP, unsupported_service_key_warnings
from unitgate.quadlet.parser import QuadletFile, lookup, lookup_all, lookup_value, parse_file
from unitgate.quadlet.posture import ContainerPosture, Decided, Item, join_pod, posture_from_args
from unitgate.quadlet.releases import PODMAN_5_4, Release, release
from unitgate.quadlet.score import MODEL, MODELS, Score, score_model
from unitgate.quadlet.specifiers import SpecifierContext, expand
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Sequence


@dataclass(frozen=True)
class QuadletInspection:
    """Everything derived from one `.container`; `analysis` is what reporters and the gate use."""

    analysis: UnitAnalysis
    layout: Layout
    unit: QuadletFile | None  # merged with drop-ins
    conversion: Conversion | None
    posture: ContainerPosture | None
    score: Score | None
    release: Release = PODMAN_5_4  # the podman release whose quadlet was modelled
    mode: Mode | None = None  # rootful/rootless as assumed, and why
    specifiers: SpecifierContext | None = None  # how systemd will expand % in the generated service


def _ref_lookup(
    unitset: UnitSet, dirs: tuple[str, ...], display: Callable[[str], str], rel: Release
) -> Callable[[str], RefInfo | None]:
    """unitsInfoMap: service and resource names of the other quadlet files in the search path."""

    def ref(name: str) -> RefInfo | None:
        path = unitset.loaded(name)
        if path is None:
            return None
        res = parse_file(path, display(path))
        if res.unit is None:
            return None
        u, _ = merge_dropins(res.unit, find_dropins(name, dirs, rel.dropin_names_first), display)
        ext = os.path.splitext(name)[1]
        base = name[: -len(ext)]
        group = {
            ".container": "Container",
            ".volume": "Volume",
            ".network": "Network",
            ".image": "Image",
            ".build": "Build",
            ".pod": "Pod",
            ".kube": "Kube",
            ".artifact": "Artifact",
        }.get(ext, "")
        suffix = "" if ext in (".container", ".kube") else "-" + ext[1:]
        svc = service_name(u, group, suffix, rel.template_names)
        if ext == ".container":
            rn = container_name(u).replace("%N", svc)
            resource = "" if "%" in rn else rn
        elif ext in (".volume", ".network", ".pod"):
            key = {".volume": "VolumeName", ".network": "NetworkName", ".pod": "PodName"}[ext]
            resource = lookup_value(u, group, key) or "systemd-" + base
            if rel.template_names and ext != ".pod" and "@" in name and not lookup_value(u, group, key):
                resource = resource[:-1] + "-%i"  # getResourceName: systemd-name@ -> systemd-name-%i
        elif ext == ".image":
            resource = lookup_value(u, group, "ImageTag") or lookup_value(u, group, "Image") or ""
        elif ext == ".artifact":
            resource = lookup_value(u, group, "Artifact") or ""
        elif ext == ".build":
            tags = lookup_all(u, group, "ImageTag")
            resource = tags[0].value if tags else ""
        else:
            resource = ""
        return RefInfo(svc, resource)

    return ref


@dataclass(frozen=True)
class Mode:
    """Rootful or rootless, and why unitgate assumed it."""

    rootless: bool
    reason: str

    @property
    def text(self) -> str:
        return ("rootless" if self.rootless else "rootful") + f" ({self.reason})"


def _glob_regex(glob: str) -> re.Pattern[str]:
    """A path glob: `**` any number of directories, `*` and `?` within one name."""
    import re  # only for a policy that names rootless paths

    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?")  # a pattern naming a directory covers what is in it


def rootless_match(path: str, patterns: Sequence[str], base: str | None = None) -> str | None:
    """The first pattern that declares `path` rootless. Relative patterns are matched against the path
    relative to `base` (default: the working directory, the repository root for pre-commit), absolute
    ones against the absolute path."""
    ap = os.path.abspath(path)
    rp = os.path.relpath(ap, base or os.getcwd())
    for pat in patterns:
        target = ap if pat.startswith("/") else rp
        if _glob_regex(pat.rstrip("/")).fullmatch(target):
            return pat
    return None


def decide_mode(
    path: str, layout: Layout, rootless: bool | None, rootless_paths: Sequence[str], base: str | None = None
) -> Mode:
    """Rootful or rootless, in this order: the caller's setting, a rootless pattern, the directory."""
    if rootless is not None:
        return Mode(rootless, "set by the policy or caller")
    pat = rootless_match(path, rootless_paths, base)
    if pat is not None:
        return Mode(True, f"the path matches the rootless pattern {pat!r}")
    if layout.rootless:
        return Mode(True, "it lives in a user's quadlet directory")
    if layout.root is not None:
        return Mode(False, "it lives in a system quadlet directory")
    return Mode(
        False,
        "not in a quadlet search directory and no rootless pattern matches it: the stricter reading",
    )


def _host_home(layout: Layout) -> str | None:
    """The home directory as the host sees it (the layout's home is inside the repository)."""
    if layout.home is None or layout.root is None:
        return None
    return "/" + os.path.relpath(layout.home, layout.root).strip("/")


def _pod_args(
    unit: QuadletFile, unitset: UnitSet, dirs: tuple[str, ...], display: Callable[[str], str], rel: Release
) -> tuple[Item, tuple[Arg, ...] | None] | None:
    """The `.pod` a container joins (Pod=), as `podman pod create` arguments, drop-ins merged (None
    for the arguments: quadlet does not generate that pod)."""
    pod = lookup(unit, CONTAINER_GROUP, "Pod")
    if pod is None or not pod.value.endswith(".pod"):
        return None
    path = unitset.loaded(pod.value)
    if path is None:
        return None
    res = parse_file(path, display(path))
    if res.unit is None:
        return None
    merged, _ = merge_dropins(res.unit, find_dropins(pod.value, dirs, rel.dropin_names_first), display)
    args = pod_create_args(merged, refs=_ref_lookup(unitset, dirs, display, rel), release=rel)
    return Item(pod.value, pod.location), args


def inspect_container(
    path: str,
    *,
    rootless: bool | None = None,
    device_exists: Callable[[str], bool] | None = None,
    podman: str | Release | None = None,
    rootless_paths: Sequence[str] = (),
    base: str | None = None,
    model: str = MODEL,
) -> QuadletInspection:
    """Analyse a `.container` the way the quadlet of podman `podman` ("5.4", the default, or "5.8")
    would see it from its place in the repository.

    `rootless` overrides the mode implied by where the file lives (policy setting); `rootless_paths`
    are globs (relative to `base`, default the working directory) of files that hold rootless
    quadlets. The analysis says which mode and release were assumed and why (an info diagnostic).
    `model` is the container scoring model: `quadlet-1` (default) or `quadlet-2`."""
    if model not in MODELS:
        raise ValueError(f"unknown container model {model!r} (known: {', '.join(MODELS)})")
    rel = release(podman)
    name = os.path.basename(path)
    layout = detect_layout(path)
    decided = decide_mode(path, layout, rootless, rootless_paths, base)
    mode = decided.rootless
    display = display_for(path)
    res = parse_file(path, path)
    if res.unit is None:
        a = UnitAnalysis(name, path, path, (path,), LoadState.ERROR, diagnostics=res.diagnostics, model=model)
        return QuadletInspection(a, layout, None, None, None, None, rel, decided)
    dirs = search_dirs(layout, mode)
    unitset = load_units(dirs, rel.extensions)
    diags: list[Diagnostic] = [
        Diagnostic(
            Location(path),
            f"read as podman {rel.reference}'s quadlet"
            + (" (the default; --podman selects another release)" if podman is None else "")
            + f", {decided.text}",
            Severity.INFO,
            "UGQ012",
        )
    ]
    used = unitset.units.get(name)
    if used is not None and os.path.realpath(used) != os.path.realpath(path):
        diags.append(
            Diagnostic(
                Location(path),
                f"quadlet would not use this file: {display(used)} comes first in the search path",
                Severity.WARNING,
                "UGQ005",
            )
        )
    broken = unitset.dropped.get(used or "")
    if used is not None and broken is not None and os.path.realpath(used) == os.path.realpath(path):
        diags.append(
            Diagnostic(
                Location(path),
                f"quadlet {rel.reference} generates nothing from this file: {display(broken)} in the same "
                "directory fails to parse, and one broken file discards every unit loaded from its directory",
                Severity.ERROR,
                "UGQ006",
            )
        )
    dropins = find_dropins(name, dirs, rel.dropin_names_first)
    unit, dropin_diags = merge_dropins(res.unit, dropins, display)
    diags.extend(dropin_diags)
    conv = convert_container(
        unit,
        rootless=mode,
        refs=_ref_lookup(unitset, dirs, display, rel),
        device_exists=device_exists,
        release=rel,
    )
    diags.extend(conv.warnings)
    diags.extend(unsupported_service_key_warnings(unit, rel.service_user_warns))
    common = {
        "unit": name,
        "path": path,
        "fragment": path,
        "sources": unit.sources,
        "assignments": assignments_of(unit),
        "section_lines": dict(unit.headers),
        "model": model,
    }
    if conv.error is not None or any(d.code == "UGQ006" for d in diags):
        if conv.error is not None:
            diags.insert(0, conv.error)
        a = UnitAnalysis(state=LoadState.ERROR, diagnostics=tuple(diags), **common)  # type: ignore[arg-type]
        return QuadletInspection(a, layout, unit, conv, None, None, rel, decided)
    run = conv.run_index
    svc_name = service_name(unit, template_names=rel.template_names)
    ctx = SpecifierContext.for_manager(mode, svc_name, _host_home(layout), layout.uid)
    seen = _expanded(conv.argv, ctx)  # as systemd will run it: specifiers expanded
    posture = posture_from_args(seen[run + 1 :], seen[1:run], rootless=Decided(mode, None))
    pod = _pod_args(unit, unitset, dirs, display, rel)
    if pod is not None and pod[1] is None:
        diags.append(
            Diagnostic(
                pod[0].location,
                f"quadlet {rel.reference} does not generate {pod[0].value} (it has a key this release does "
                "not support, or a reference it cannot resolve): the pod is never created, so this "
                "container's service cannot start",
                Severity.WARNING,
                "UGQ014",
            )
        )
    elif pod is not None and pod[1] is not None:
        own = posture.userns
        posture = join_pod(posture, _expanded(pod[1], ctx), pod[0])
        if own.location is not None and own.value not in (None, "", "host"):
            diags.append(
                Diagnostic(
                    own.location,
                    f"the container joins {pod[0].value}, whose user namespace it shares: podman refuses to "
                    'start it with a user namespace of its own ("cannot set user namespace mode when joining '
                    'pod with infra container"); set UserNS= in the .pod file',
                    Severity.WARNING,
                    "UGQ013",
                )
            )
    s = score_model(posture, model)
    a = UnitAnalysis(
        state=LoadState.LOADED,
        exposure=s.exposure,
        rating=s.rating,
        checks=s.checks,
        diagnostics=tuple(diags),
        **common,  # type: ignore[arg-type]
    )
    return QuadletInspection(a, layout, unit, conv, posture, s, rel, decided, ctx)


def analyze_container(
    path: str, *, rootless: bool | None = None, podman: str | Release | None = None, model: str = MODEL
) -> UnitAnalysis:
    """`unitgate explain/check` for a `.container`: model `quadlet-1` (or `quadlet-2`), checks,
    exposure, findings."""
    return inspect_container(path, rootless=rootless, podman=podman, model=model).analysis


def command_line(
    path: str, *, rootless: bool | None = None, podman: str | Release | None = None
) -> tuple[str, ...]:
    """The `podman run` argv quadlet would put in ExecStart= (empty if quadlet refuses the file)."""
    conv = inspect_container(path, rootless=rootless, podman=podman).conversion
    return tuple(a.text for a in conv.argv) if conv is not None and conv.error is None else ()


def _expanded(args: Sequence[Arg], ctx: SpecifierContext) -> tuple[Arg, ...]:
    return tuple(Arg(expand(a.text, ctx), a.location) for a in args)


def assignments_of(unit: QuadletFile) -> tuple[Assignment, ...]:
    return tuple(a for g in unit.groups for a in g.lines)


def generated_service(
    unit: QuadletFile | str, *, rootless: bool | None = None, podman: str | Release | None = None
) -> tuple[Assignment, ...]:
    """The [Unit] and [Service] lines of the service quadlet generates (drop-ins merged when a path is
    given). User lines keep their file:line; what quadlet adds is at line 0 of the quadlet file. Empty
    when quadlet refuses the file."""
    if not isinstance(unit, str):
        return service_lines(unit, rootless=bool(rootless), release=release(podman))
    conv = inspect_container(unit, rootless=rootless, podman=podman).conversion
    service = conv.service if conv is not None and conv.error is None else ()
    return tuple(a for a in service if a.section in (UNIT_GROUP, SERVICE_GROUP))
