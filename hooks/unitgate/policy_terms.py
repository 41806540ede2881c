"""The policy's vocabulary: format constants, the value type, the error, and how directive and check
names are spelt. Imported by the policy loader (policy.py), its validation (policy_check.py) and the
gate; it imports nothing of unitgate's but the generated capability table."""

from __future__ import annotations

from unitgate.security.names import CAPABILITIES  # the generated table: names by number

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CAPABILITIES"]


POLICY_VERSION = 1


# The systemd scoring models (security/releases.py), oldest first; policy-version 1 without `scoring`
# (and `explain` without --scoring) keeps the first, so verdicts never move silently.
SYSTEMD_MODELS = ("systemd-252", "systemd-255", "systemd-257", "systemd-262")
DEFAULT_SCORING = "systemd-252"


# Containers: the exposure models (quadlet/score.py) and the podman releases whose quadlet is modelled
# (quadlet/releases.py); policy-version 1 defaults to the first of each, so verdicts do not move.
CONTAINER_MODELS = ("quadlet-1", "quadlet-2")
DEFAULT_CONTAINER_SCORING = "quadlet-1"
PODMAN_RELEASES = ("5.4", "5.8")
DEFAULT_PODMAN = "5.4"


# With no policy file: the newest baseline, so containers are gated too (baseline@1 has no [container]).
DEFAULT_BUILTIN = "baseline@2"


POLICY_FILE = ".unitgate.toml"
BASELINE_FILE = ".unitgate-baseline.json"  # at the repository root (gate/baseline.py)


SCHEMA_FILE = f"policy-v{POLICY_VERSION}.schema.json"


# A value as written in the policy: true/false, a string, or a list of strings (kept as a tuple).
Value = bool | str | tuple[str, ...]


CAPABILITY_DIRECTIVES = frozenset({"Service.CapabilityBoundingSet", "Service.AmbientCapabilities"})


# systemd-analyze's check ids (json_field), v252-v262. systemd spells one with a stray ")"; both
# spellings are accepted and mean the same row.
CHECK_ALIASES = {
    "CapabilityBoundingSet_CAP_NET_BIND_SERVICE_BROADCAST_RAW": (
        "CapabilityBoundingSet_CAP_NET_BIND_SERVICE_BROADCAST_RAW)"
    ),
}


class PolicyError(Exception):
    """A policy that cannot be used: `path: key: message`, one line."""

    def __init__(self, path: str, message: str, key: str = "") -> None:
        self.path = path
        self.key = key
        self.message = message
        super().__init__(f"{path}: {key}: {message}" if key else f"{path}: {message}")


def template_name(unit: str) -> str:
    """foo@i.service -> foo@.service; other names unchanged."""
    prefix, at, rest = unit.partition("@")
    if not at:
        return unit
    return f"{prefix}@{rest[rest.rfind('.') :]}" if "." in rest else unit


def canonical_directive(name: str) -> str:
    """'NoNewPrivileges' -> 'Service.NoNewPrivileges'; 'Unit.After' unchanged."""
    return name if "." in name else f"Service.{name}"


def display_directive(key: str) -> str:
    """'Service.NoNewPrivileges' -> 'NoNewPrivileges'; 'Unit.After' unchanged."""
    section, _, name = key.partition(".")
    return name if section == "Service" else key


def container_key(name: str) -> str:
    """A name in `[container] ignore`: 'ReadOnly' -> 'Container.ReadOnly'; 'Service.User' unchanged."""
    return name if "." in name or name.startswith("UG") else f"Container.{name}"


def canonical_check(check: str) -> str:
    return CHECK_ALIASES.get(check, check)


def key_path(prefix: str, *parts: str | int) -> str:
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else part
    return text


def to_value(value: Any) -> Value:
    return tuple(value) if isinstance(value, list) else value  # type: ignore[no-any-return,unused-ignore]


# [Container] keys whose value is a quadlet boolean; a policy gives them true/false.
CONTAINER_BOOLEANS = frozenset(
    {
        "EnvironmentHost",
        "NoNewPrivileges",
        "ReadOnly",
        "ReadOnlyTmpfs",
        "RunInit",
        "SecurityLabelDisable",
        "SecurityLabelNested",
        "VolatileTmp",
    }
)


CONTAINER_CAPABILITY_KEYS = frozenset({"AddCapability", "DropCapability"})
