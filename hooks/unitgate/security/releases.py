"""Scoring models: which systemd release's rules the engine applies, as data.

A model names a systemd release. The check table, weights and formula are the same for every model;
what differs is how each release reads a unit (values a directive accepts, what a setting implies,
which combinations refuse to load, which syscalls a group holds). Each such difference is one row of
`ADDED_IN` (the first release with the behaviour); the parsers ask `release.has(feature)` and stay
one copy for every release.

systemd 262's `CapabilityBoundingSet=~X` starts from the capabilities the analysing host's kernel
knows. The `systemd-262` model pins that to a kernel that knows capabilities 0..40 (Linux 5.9 and
later: CAP_CHECKPOINT_RESTORE is the last one), which is what every supported distribution runs.
"""

from __future__ import annotations

from unitgate.memo import cache
from unitgate.records import dataclass
from unitgate.security import keys, syscalls

# The first release with each behaviour the parsers and checks consult.
ADDED_IN: dict[str, int] = {
    # PrivateMounts= became a tristate; offline analysis counts unset (and empty) as private.
    "private_mounts_tristate": 254,
    # Encrypted credentials add `char-tpm:rw` (252/253: `/dev/tpmrm0:rw`) to the device list.
    "credential_tpm_by_major": 254,
    # Capability lists: numbers only up to 62 (CAP_LIMIT), and a syntax error drops the whole line
    # (252 kept the words before it). Seen in 255; the first release is unverified (253/254).
    "capability_limit_62": 255,
    # PIDFile= below /var/run/ gets a notice (upstream prints it in 252 too; Debian's 252 does not).
    "var_run_notice": 255,
    # Split-/usr dropped: /lib/systemd/system is read as /usr/lib/systemd/system.
    "merged_usr": 255,
    # DynamicUser= with WorkingDirectory=~ refuses to load.
    "dynamic_user_home_refused": 256,
    # PrivateTmp=connected|disconnected; DynamicUser= implies disconnected.
    "private_tmp_modes": 257,
    # PrivateUsers=self|identity.
    "private_users_modes": 257,
    # ProtectControlGroups=private|strict.
    "protect_control_groups_modes": 257,
    # WorkingDirectory= below /proc, /sys or /dev refuses when the unit gets a mount namespace.
    "working_directory_api_vfs_refused": 257,
    # Templates are analysed as instance "test_instance" (before: "i").
    "template_instance_test_instance": 257,
    # Type=oneshot may have RestartForceExitStatus= (the refusal is gone; seen in 257, 256 unverified).
    "oneshot_restart_force_status": 257,
    # PrivatePIDs= (a known directive; refused with Type=forking, and on a unit that is not a service).
    "private_pids": 257,
    # PAMName= with PrivatePIDs= refuses to load (seen in 262; the first release is unverified).
    "private_pids_pam_refused": 262,
    # The mount-namespace test (for the WorkingDirectory= refusal) counts any PrivateTmp= but `no`
    # (257: only `disconnected`) and asks the kernel about cgroup namespaces (257: never without exec
    # parameters, so `private` counts as no). Seen in 262; the first release is unverified.
    "private_tmp_any_mode_namespaces": 262,
    "cgroup_namespace_from_kernel": 262,
    # The `!!` command prefix is ignored, with a notice. (MemoryLimit= and the other cgroup-v1
    # settings became "removed and ignored" too: keys_models.py carries that.)
    "exec_double_bang_ignored": 258,
    # PrivateUsers=full.
    "private_users_full": 258,
    # ProtectHostname=private[:NAME].
    "protect_hostname_private": 258,
    # Encrypted credentials no longer add a TPM device.
    "credential_no_tpm_device": 258,
    # PrivateUsers=managed (with User=, Group=, DynamicUser= or PAMName=: refuses to load).
    "private_users_managed": 260,
    # An unknown address family drops the rest of a RestrictAddressFamilies= line.
    "address_family_unknown_stops": 262,
    # The printed table puts rows without a description first (a consistent comparator in
    # format-table.c; 257 still compared cells of different types by insertion order). First release
    # unverified between 258 and 262.
    "table_empty_cells_first": 262,
    # --user: a per-user service never runs privileged; User= unset scores 0 ("the calling user's
    # identity") and RemoveIPC= does not apply (PR #42743).
    "user_scope_unprivileged": 262,
    # `CapabilityBoundingSet=~X` starts from the kernel's capabilities; `~` then a positive list merges.
    "capability_invert_from_kernel": 262,
}

# Values a directive accepts only from some release on: (directive, value) -> feature.
VALUE_FEATURES: dict[tuple[str, str], str] = {
    ("PrivateTmp", "connected"): "private_tmp_modes",
    ("PrivateTmp", "disconnected"): "private_tmp_modes",
    ("PrivateUsers", "self"): "private_users_modes",
    ("PrivateUsers", "identity"): "private_users_modes",
    ("PrivateUsers", "full"): "private_users_full",
    ("PrivateUsers", "managed"): "private_users_managed",
    ("ProtectControlGroups", "private"): "protect_control_groups_modes",
    ("ProtectControlGroups", "strict"): "protect_control_groups_modes",
    ("ProtectHostname", "private"): "protect_hostname_private",
}
# Directives a release does not know at all: directive -> feature that added it.
DIRECTIVE_FEATURES: dict[str, str] = {
    "PrivatePIDs": "private_pids",
}

# The highest capability number the pinned kernel knows (CAP_CHECKPOINT_RESTORE, Linux 5.9+).
PINNED_KERNEL_CAP_LAST = 40


@dataclass(frozen=True)
class Release:
    """One scoring model: a systemd release and the behaviours it has."""

    name: str  # "systemd-257"
    version: int

    def has(self, feature: str) -> bool:
        return self.version >= ADDED_IN[feature]

    def directive(self, section_key: str) -> tuple[str, str] | None:
        """(parser, ltype) of a `Section.Key` this release knows, else None."""
        return _keys(self.name).get(section_key)

    def known_keys(self) -> tuple[str, ...]:
        """Every `Section.Key` this release knows."""
        return tuple(_keys(self.name))

    def syscall_group(self, name: str) -> tuple[str, ...] | None:
        """A SystemCallFilter= group's members in this release (None: the release has no such group)."""
        if self.name == BASE_MODEL:
            return syscalls.GROUPS.get(name)
        from unitgate.security import syscall_models  # a later release's changes: loaded when scored with it

        return syscall_models.GROUP_CHANGES.get(self.name, {}).get(name, syscalls.GROUPS.get(name))

    @property
    def template_instance(self) -> str:
        """The instance a template is analysed as (`foo@.service` -> `foo@i.service`)."""
        return "test_instance" if self.has("template_instance_test_instance") else "i"


SYSTEMD_252 = Release("systemd-252", 252)
SYSTEMD_255 = Release("systemd-255", 255)
SYSTEMD_257 = Release("systemd-257", 257)
SYSTEMD_262 = Release("systemd-262", 262)
RELEASES: tuple[Release, ...] = (SYSTEMD_252, SYSTEMD_255, SYSTEMD_257, SYSTEMD_262)
MODELS: tuple[str, ...] = tuple(r.name for r in RELEASES)
DEFAULT_MODEL = SYSTEMD_252.name
BASE_MODEL = SYSTEMD_252.name  # keys.py and syscalls.py are its tables; later releases are changes to them
_BY_NAME = {r.name: r for r in RELEASES}


def release(model: str) -> Release:
    """The release a model name stands for; ValueError names the models there are."""
    try:
        return _BY_NAME[model]
    except KeyError:
        raise ValueError(f"unknown scoring model '{model}' (models: {', '.join(MODELS)})") from None


def added_in(feature: str) -> int:
    return ADDED_IN[feature]


@cache
def _keys(model: str) -> dict[str, tuple[str, str]]:
    merged = dict(keys.KEYS)
    if model == BASE_MODEL:
        return merged
    from unitgate.security import keys_models  # a later release's changes: loaded when scored with it

    for key, spec in keys_models.CHANGES.get(model, {}).items():
        if spec is None:
            merged.pop(key, None)
        else:
            merged[key] = spec
    return merged


def first_knowing(section_key: str) -> Release | None:
    """The oldest model whose release knows a directive (None: no model does)."""
    return next((r for r in RELEASES if r.directive(section_key) is not None), None)
