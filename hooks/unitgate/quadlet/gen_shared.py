"""The [Container] keys ConvertPod handles the same way for a `.pod`: user namespace mappings, and
the keys that name a host path or another quadlet unit (volumes, mounts, networks, pods), each
adding the [Unit] dependency on what it names."""

from __future__ import annotations

from dataclasses import replace

from unitgate.model import Assignment, Location
from unitgate.quadlet.cmdline import Arg
from unitgate.quadlet.gen_service import (
    ConversionError,
    G,
    RefLookup,
    _Cmd,
    _Service,
    absolute_path,
)
from unitgate.quadlet.gen_text import _go_uint32, _to_csv_go, escape_words, find_mount_type
from unitgate.quadlet.keys import UNIT_GROUP
from unitgate.quadlet.parser import (
    Group,
    QuadletFile,
    lookup,
    lookup_all,
    lookup_all_args,
    lookup_all_strv,
    lookup_last_assignment,
    lookup_value,
)
from unitgate.quadlet.releases import PODMAN_5_4, Release


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
