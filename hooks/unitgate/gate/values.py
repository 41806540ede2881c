"""What a unit rule compares: the engine's merged unit, and policy values read by the engine's parsers.

One source of truth. The value of a directive the engine tracks (booleans, enums, capability sets,
address families, system calls, users, UMask=) is read from the engine's result for the unit
(`UnitAnalysis.merged`: its `UnitState`, and the `SecurityInfo` after systemd's load-time
implications such as `DynamicUser=`'s), with the line that decided it (`origins`). A policy value is
parsed by feeding it to the same engine parser as a line of a probe unit, so `0x15`, `cap_sys_admin`
and `CAP_SYS_ADMIN` are one capability and `~AF_INET` is a deny-list on both sides. Directives the
engine does not track (paths, environment...) are compared as the merged lines in effect.
"""

from __future__ import annotations

from unitgate.analysis import Merged, UnitAnalysis
from unitgate.memo import lru_cache
from unitgate.model import Assignment, Location
from unitgate.records import Enum, dataclass
from unitgate.security import names
from unitgate.security.directives.flags import SCORED_BOOLS
from unitgate.security.info import SecurityInfo, build_info
from unitgate.security.releases import DEFAULT_MODEL, MODELS, release
from unitgate.security.settings import UnitState, apply, capability_mask, new_state, parse_boolean
from unitgate.security.words import UnitContext

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable


class Kind(Enum):
    FLAG = "flag"  # a boolean, as the engine parsed it
    WORD = "word"  # one of an enum's words (ProtectSystem=strict...)
    USER = "user"  # a user or group name; 0 is root
    UMASK = "umask"
    CAPS = "caps"  # a capability set (a 64-bit mask)
    FAMILIES = "families"  # RestrictAddressFamilies=: an allow- or deny-list of address families
    SYSCALLS = "syscalls"  # SystemCallFilter=: an allow- or deny-list of system calls


# Boolean directives the engine keeps, by their UnitState/SecurityInfo field: the engine's own table
# (one place), plus Delegate=, which the engine parses with its cgroup-controller list.
_FLAGS = {**SCORED_BOOLS, "Delegate": "delegate"}


# Directive (in its unit type's own section) -> how to read it, and the engine's field.
FIELDS: dict[str, tuple[Kind, str]] = {
    **{name: (Kind.FLAG, field) for name, field in _FLAGS.items()},
    "ProtectHome": (Kind.WORD, "protect_home"),
    "ProtectSystem": (Kind.WORD, "protect_system"),
    "ProtectProc": (Kind.WORD, "protect_proc"),
    "ProcSubset": (Kind.WORD, "proc_subset"),
    "KeyringMode": (Kind.WORD, "keyring_mode"),
    "NotifyAccess": (Kind.WORD, "notify_access"),
    "DevicePolicy": (Kind.WORD, "device_policy"),
    "User": (Kind.USER, "user"),
    "Group": (Kind.USER, "group"),
    "UMask": (Kind.UMASK, "umask"),
    "CapabilityBoundingSet": (Kind.CAPS, "capability_bounding_set"),
    "AmbientCapabilities": (Kind.CAPS, "ambient_capabilities"),
    "RestrictAddressFamilies": (Kind.FAMILIES, "address_families"),
    "SystemCallFilter": (Kind.SYSCALLS, "syscall_filter"),
}
# Fields SecurityInfo holds after load-time implications; the rest are read from UnitState.
_INFO_FIELDS = frozenset(
    {"capability_bounding_set", "user", "device_policy", "protect_home", "protect_system", "protect_proc"}
    | {"proc_subset", "keyring_mode", "notify_access"}
    | {field for kind, field in FIELDS.values() if kind is Kind.FLAG}
)
_PROBE_UNIT = "policy.service"
_PROBE_AT = Location("<policy>", 0)


def merged(analysis: UnitAnalysis) -> Merged:
    """The engine's merged unit; for a result built without one (tests, tools), the engine's parsers
    applied to the lines in effect."""
    if analysis.merged is not None:
        return analysis.merged
    unit_type = analysis.unit.rpartition(".")[2]
    state = new_state(unit_type, "system", release(_model(analysis.model)))
    ctx = UnitContext(analysis.unit, analysis.fragment)
    for a in analysis.assignments:
        apply(state, a, ctx)
    return Merged(state, build_info(state, analysis.unit))


@dataclass(frozen=True)
class Reading:
    """One directive of one unit as the engine left it."""

    kind: Kind
    value: object  # the engine's value (bool, str, int mask, UnitState for sets...)
    location: Location | None  # the line that decided it; None: systemd's default
    written: bool  # a line of this directive was applied (else the value is a default or implied)
    implied_by: str | None = None  # "DynamicUser=yes" when another line's implication decided it


def read(analysis: UnitAnalysis, key: str) -> Reading | None:
    """The engine's value of `key` ("Service.NoNewPrivileges"), or None when the engine does not
    track it for this unit (another unit type's section, or a directive without a field)."""
    section, _, name = key.partition(".")
    spec = FIELDS.get(name)
    if spec is None or section.lower() != analysis.unit.rpartition(".")[2]:
        return None
    reading = read_merged(merged(analysis), key)
    if reading.location is not None and reading.location != _written_at(merged(analysis), key):
        return Reading(
            reading.kind,
            reading.value,
            reading.location,
            reading.written,
            _line_at(analysis, reading.location),
        )
    return reading


def _written_at(m: Merged, key: str) -> Location | None:
    return m.state.origins.get(FIELDS[key.partition(".")[2]][1])


def read_merged(m: Merged, key: str) -> Reading:
    """`key`'s value in one merged unit (the unit's, or a probe's)."""
    kind, field = FIELDS[key.partition(".")[2]]
    state, info = m.state, m.info
    written = state.origins.get(field)
    decided = info.origins.get(field, written) if field in _INFO_FIELDS else written
    if field == "user" and info.dynamic_user and state.user is None:
        decided = info.origins.get("dynamic_user")
    return Reading(kind, _value(kind, field, state, info), decided, written is not None)


def _value(kind: Kind, field: str, state: UnitState, info: SecurityInfo) -> object:
    if kind in (Kind.FAMILIES, Kind.SYSCALLS):
        return state if kind is Kind.FAMILIES else info
    return getattr(info if field in _INFO_FIELDS else state, field)


def _line_at(analysis: UnitAnalysis, where: Location) -> str | None:
    for a in analysis.assignments:
        if a.location == where:
            return f"{a.key}={a.value}"
    return None


def written_text(analysis: UnitAnalysis, key: str, where: Location | None) -> str | None:
    """The raw value of `key` written at `where` (what the user sees in the file)."""
    section, _, name = key.partition(".")
    for a in analysis.assignments:
        if a.location == where and a.key == name and a.section == section:
            return a.value
    return None


# --- policy values, read by the engine's parsers -----------------------------------------------------


def _model(model: str) -> str:
    """The systemd model whose parsers read policy values for a unit scored with `model`."""
    return model if model in MODELS else DEFAULT_MODEL


@lru_cache(maxsize=4096)  # pure: keyed on the whole input, so it cannot go stale
def probe(key: str, text: str, model: str = DEFAULT_MODEL) -> Merged | None:
    """A one-line unit holding `key=text`, parsed by the engine of the release `model` names (a
    value a release does not know is refused there); None when the engine refuses it."""
    section, _, name = key.partition(".")
    state = new_state(section.lower(), "system", release(_model(model)))
    outcome = apply(state, Assignment(section, name, text, _PROBE_AT), UnitContext(_PROBE_UNIT))
    if outcome.ignored or outcome.fatal:
        return None
    return Merged(state, build_info(state, _PROBE_UNIT))


def policy_scalar(
    key: str, kind: Kind, field: str, alternative: str | bool, model: str = DEFAULT_MODEL
) -> object:
    """A policy alternative as the engine of `model` would hold it for this directive."""
    # A mode word of a later release (PrivateTmp=disconnected) goes through that release's parser,
    # which keeps what the checks score: on or off (so `yes` meets "disconnected" too).
    if kind is Kind.FLAG and (isinstance(alternative, bool) or parse_boolean(alternative) is not None):
        return alternative if isinstance(alternative, bool) else parse_boolean(alternative)
    if kind is Kind.USER:
        return _identity(str(alternative))
    text = ("yes" if alternative else "no") if isinstance(alternative, bool) else alternative
    parsed = probe(key, text, model)
    if parsed is None:
        return text
    return getattr(parsed.info if field in _INFO_FIELDS else parsed.state, field)


def _identity(name: str | None) -> str | None:
    """uid/gid 0 is root, however it is written."""
    return "root" if name in ("0", "root") else name


def same_identity(a: str | None, b: str | None) -> bool:
    return _identity(a) == _identity(b)


def policy_caps(words: Iterable[str]) -> int:
    return capability_mask(list(words))


def cap_names(mask: int) -> list[str]:
    by_bit = {bit: name for name, bit in names.CAPABILITIES.items()}
    return [by_bit.get(b, str(b)) for b in range(64) if (mask >> b) & 1]


# --- allow/deny sets: address families and system calls ----------------------------------------------


def family_allowed(state: UnitState, family: int) -> bool:
    """Whether the unit may open sockets of `family` (`none` is an empty allow-list)."""
    return (family in (state.address_families or ())) == state.address_families_allow_list


def syscall_allowed(info: SecurityInfo, name: str) -> bool:
    return (name in info.system_call_filter) == info.system_call_filter_allow_list


@lru_cache(maxsize=4096)
def members(key: str, words: str, model: str = DEFAULT_MODEL) -> frozenset[object]:
    """What the policy words stand for (families as numbers, syscall groups expanded), as the engine
    of `model` reads them in a deny-list (syscall groups differ between releases)."""
    parsed = probe(key, "~" + words.lstrip("~"), model)
    if parsed is None:
        return frozenset()
    if key.endswith("RestrictAddressFamilies"):
        return frozenset(parsed.state.address_families or ())
    return frozenset(parsed.info.system_call_filter)


def allowed(kind: Kind, value: object, member: object) -> bool:
    if kind is Kind.FAMILIES:
        assert isinstance(value, UnitState) and isinstance(member, int)
        return family_allowed(value, member)
    assert isinstance(value, SecurityInfo) and isinstance(member, str)
    return syscall_allowed(value, member)


def within_allow_list(key: str, kind: Kind, value: object, words: str, model: str = DEFAULT_MODEL) -> bool:
    """Whether the unit allows only what an allow-list of `words` would (an allow-list requirement)."""
    parsed = probe(key, words, model)
    if parsed is None:
        return False
    if kind is Kind.FAMILIES:
        assert isinstance(value, UnitState)
        if not value.address_families_allow_list:
            return False
        wanted = parsed.state.address_families or set()
        return (value.address_families or set()) <= wanted
    assert isinstance(value, SecurityInfo)
    return value.system_call_filter_allow_list and value.system_call_filter <= parsed.info.system_call_filter


def meets(key: str, kind: Kind, value: object, alternative: str, model: str = DEFAULT_MODEL) -> bool:
    """A set requirement: `~words` when none of them is allowed; `words` as an allow-list bound."""
    if alternative.startswith("~"):
        return not any(allowed(kind, value, m) for m in members(key, alternative, model))
    return within_allow_list(key, kind, value, alternative, model)


def allowed_words(
    key: str, kind: Kind, value: object, alternative: str, model: str = DEFAULT_MODEL
) -> list[str]:
    """The policy's words (families, syscalls or groups) of which the unit allows something."""
    return [
        word
        for word in alternative.lstrip("~").split()
        if any(allowed(kind, value, m) for m in members(key, word, model))
    ]
