"""One `.container` → `UnitAnalysis`: parse, merge drop-ins, convert as quadlet would, score."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from unitgate.analysis import LoadState, UnitAnalysis
from unitgate.model import Assignment, Diagnostic, Location, Severity
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
    service_lines,
    service_name,
)
from unitgate.quadlet.keys import SERVICE_GROUP, UNIT_GROUP, unsupported_service_key_warnings
from unitgate.quadlet.parser import QuadletFile, lookup_all, lookup_value, parse_file
from unitgate.quadlet.posture import ContainerPosture, Decided, posture_from_args
from unitgate.quadlet.releases import PODMAN_5_4, Release, release
from unitgate.quadlet.score import MODEL, Score, score


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


def inspect_container(
    path: str,
    *,
    rootless: bool | None = None,
    device_exists: Callable[[str], bool] | None = None,
    podman: str | Release | None = None,
) -> QuadletInspection:
    """Analyse a `.container` the way the quadlet of podman `podman` ("5.4", the default, or "5.8")
    would see it from its place in the repository.

    `rootless` overrides the mode implied by where the file lives (policy setting)."""
    rel = release(podman)
    name = os.path.basename(path)
    layout = detect_layout(path)
    mode = layout.rootless if rootless is None else rootless
    display = display_for(path)
    res = parse_file(path, path)
    if res.unit is None:
        a = UnitAnalysis(name, path, path, (path,), LoadState.ERROR, diagnostics=res.diagnostics, model=MODEL)
        return QuadletInspection(a, layout, None, None, None, None, rel)
    dirs = search_dirs(layout, mode)
    unitset = load_units(dirs, rel.extensions)
    diags: list[Diagnostic] = []
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
        "model": MODEL,
    }
    if conv.error is not None or any(d.code == "UGQ006" for d in diags):
        if conv.error is not None:
            diags.insert(0, conv.error)
        a = UnitAnalysis(state=LoadState.ERROR, diagnostics=tuple(diags), **common)  # type: ignore[arg-type]
        return QuadletInspection(a, layout, unit, conv, None, None, rel)
    run = conv.run_index
    posture = posture_from_args(conv.argv[run + 1 :], conv.argv[1:run], rootless=Decided(mode, None))
    s = score(posture)
    a = UnitAnalysis(
        state=LoadState.LOADED,
        exposure=s.exposure,
        rating=s.rating,
        checks=s.checks,
        diagnostics=tuple(diags),
        **common,  # type: ignore[arg-type]
    )
    return QuadletInspection(a, layout, unit, conv, posture, s, rel)


def analyze_container(
    path: str, *, rootless: bool | None = None, podman: str | Release | None = None
) -> UnitAnalysis:
    """`unitgate explain/check` for a `.container`: model `quadlet-1`, checks, exposure, findings."""
    return inspect_container(path, rootless=rootless, podman=podman).analysis


def command_line(
    path: str, *, rootless: bool | None = None, podman: str | Release | None = None
) -> tuple[str, ...]:
    """The `podman run` argv quadlet would put in ExecStart= (empty if quadlet refuses the file)."""
    conv = inspect_container(path, rootless=rootless, podman=podman).conversion
    return tuple(a.text for a in conv.argv) if conv is not None and conv.error is None else ()


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
