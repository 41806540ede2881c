"""The podman releases unitgate models, as data: one row per release, one field per behaviour that
changed between them.  Everything release-specific in the parser, the drop-in search and the
converter reads a field here; nothing tests a version number.

Sources: podman's `pkg/systemd/parser/unitfile.go`, `pkg/systemd/quadlet/quadlet.go` and
`cmd/quadlet/main.go` at the tags v5.4.2 and v5.8.2, checked against the Debian builds of quadlet
5.4.2 (trixie) and 5.8.6 (sid) with `quadlet -dryrun` (see docs/quadlet.md, "Reference checks").
"""

from __future__ import annotations

from dataclasses import dataclass

from unitgate.quadlet.keys import CONTAINER_KEYS, POD_KEYS, QUADLET_EXTENSIONS


@dataclass(frozen=True)
class Release:
    name: str  # what a user selects: "5.4", "5.8"
    reference: str  # the quadlet binary the model is checked against
    tag: str  # podman's git tag whose test suite the model is checked against
    container_keys: frozenset[str]  # [Container] keys accepted; any other rejects the file
    pod_keys: frozenset[str]  # [Pod] keys accepted; any other: quadlet does not generate the pod
    extensions: tuple[str, ...]  # file types quadlet loads (claim names, resolve references)
    # 5.6 (022bac25ea): drop-in directory names in the outer loop, search directories inner, so a more
    # specific drop-in name beats a higher-priority directory. Before: directories outer.
    dropin_names_first: bool
    # before 5.6 (9b2fb40ab8): `--cidfile=%t/%N.cid` on run/rm and `--pod-id-file` for Pod=; after:
    # the container name and `--pod NAME`
    cidfile: bool
    # 5.6 (31b4efcaec): quadlet itself warns about [Service] User=/Group=/DynamicUser=
    service_user_warns: bool
    # 5.8.2 (9c262736e4): Lookup strips one matching pair of surrounding `"`; before: every leading
    # and trailing `"` (strings.Trim)
    quote_pair_only: bool
    # 5.5 (e498c6526b): [Unit] dependencies naming quadlet files are translated to their services;
    # one that names a missing quadlet file rejects the unit
    translate_dependencies: bool
    # 5.6+: `Environment=NAME` (no `=`) becomes `--env NAME` (podman passes the host's value); before:
    # ignored
    bare_keyval: bool
    # 5.8.2+: `Entrypoint=` is always passed, as one `--entrypoint=VALUE` word (empty clears the image's)
    entrypoint_joined: bool
    # 5.6+: a `Mount=` without `type=` is a volume mount; before: refused ("incorrect mount format")
    mount_type_default: bool
    # 5.7+: a template's service is `name-volume@.service` (suffix before the `@`) and its volume,
    # network resource is `systemd-name-%i`; before: `name@-volume.service`, `systemd-name@`
    template_names: bool
    # 5.6+: a value of Exec=/ReloadCmd=/Environment=/Label=/Annotation= that cannot be split is
    # reported as a warning (the value is still dropped, as before)
    split_warnings: bool
    # 5.8+: a space inside a quoted word of a generated command is written `\x20`, and
    # RequiresMountsFor= paths are escaped (AddEscaped); before: a literal space, paths as written
    escape_spaces: bool
    # [Container] keys that became a `--flag VALUE` pair / a boolean `--flag`, beyond 5.4.2's table
    string_flags: tuple[tuple[str, str], ...] = ()
    bool_flags: tuple[tuple[str, str], ...] = ()


# Keys 5.5-5.8 added to [Container]; the scoring reads AppArmor= through `--security-opt apparmor=`.
NEW_CONTAINER_KEYS_5_8 = frozenset(
    {"AppArmor", "HttpProxy", "Memory", "ReloadCmd", "ReloadSignal", "Retry", "RetryDelay"}
)
# Keys 5.5-5.8 added to [Pod] (read when a container follows Pod= to its .pod file).
NEW_POD_KEYS_5_8 = frozenset({"ExitPolicy", "HostName", "Label", "StopTimeout"})

PODMAN_5_4 = Release(
    name="5.4",
    reference="5.4.2",
    tag="v5.4.2",
    container_keys=CONTAINER_KEYS,
    pod_keys=POD_KEYS,
    extensions=QUADLET_EXTENSIONS,
    dropin_names_first=False,
    cidfile=True,
    service_user_warns=False,
    quote_pair_only=False,
    translate_dependencies=False,
    bare_keyval=False,
    entrypoint_joined=False,
    mount_type_default=False,
    template_names=False,
    split_warnings=False,
    escape_spaces=False,
)

PODMAN_5_8 = Release(
    name="5.8",
    reference="5.8.6",
    tag="v5.8.2",
    container_keys=CONTAINER_KEYS | NEW_CONTAINER_KEYS_5_8,
    pod_keys=POD_KEYS | NEW_POD_KEYS_5_8,
    extensions=(*QUADLET_EXTENSIONS, ".artifact"),
    dropin_names_first=True,
    cidfile=False,
    service_user_warns=True,
    quote_pair_only=True,
    translate_dependencies=True,
    bare_keyval=True,
    entrypoint_joined=True,
    mount_type_default=True,
    template_names=True,
    split_warnings=True,
    escape_spaces=True,
    string_flags=(("Memory", "--memory"), ("Retry", "--retry"), ("RetryDelay", "--retry-delay")),
    bool_flags=(("HttpProxy", "--http-proxy"),),
)

RELEASES: dict[str, Release] = {r.name: r for r in (PODMAN_5_4, PODMAN_5_8)}
DEFAULT_RELEASE = "5.4"  # policy-version 1 and the CLI default


def release(name: str | Release | None) -> Release:
    """The release row for a user's `--podman`/`podman =` value (None: the default)."""
    if isinstance(name, Release):
        return name
    key = DEFAULT_RELEASE if name is None else name
    if key not in RELEASES:
        raise ValueError(f"unknown podman release {key!r} (known: {', '.join(RELEASES)})")
    return RELEASES[key]
