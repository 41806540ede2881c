"""The policy file: discovery, loading, `extends`, and per-unit resolution (validation: policy_check.py;
names and constants: policy_terms.py).

A policy is TOML (`.unitgate.toml`, or `[tool.unitgate]` in `pyproject.toml`), format version 1,
described by `policies/schema/policy-v1.schema.json`. Loading goes: read -> TOML -> check
`policy-version` -> JSON Schema (jsonschema, skipped when the same content already validated: see
`_validated`) -> semantic checks the schema cannot express -> dataclasses -> merge over `extends`.

Every problem raises PolicyError naming the file and the key path; the gate turns it into exit 2.
"""

from __future__ import annotations

import os
import sys

from unitgate import escape, fsread, policy_cache
from unitgate.memo import pattern
from unitgate.policy_check import check_semantics, check_structure, check_values, validate_schema
from unitgate.policy_releases import check_requirements_exist
from unitgate.policy_terms import (
    CAPABILITY_DIRECTIVES,
    CHECK_ALIASES,
    CONTAINER_BOOLEANS,
    CONTAINER_CAPABILITY_KEYS,
    DEFAULT_BUILTIN,
    DEFAULT_CONTAINER_SCORING,
    DEFAULT_PODMAN,
    DEFAULT_SCORING,
    POLICY_FILE,
    POLICY_VERSION,
    SCHEMA_FILE,
    SYSTEMD_MODELS,
    PolicyError,
    Value,
    canonical_check,
    canonical_directive,
    container_key,
    display_directive,
    key_path,
    template_name,
    to_value,
)
from unitgate.records import dataclass, field

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

# Re-exported: the gate, suppressions and tests import these from here.
__all__ = [
    "CAPABILITY_DIRECTIVES",
    "CHECK_ALIASES",
    "CONTAINER_BOOLEANS",
    "CONTAINER_CAPABILITY_KEYS",
    "DEFAULT_BUILTIN",
    "DEFAULT_CONTAINER_SCORING",
    "DEFAULT_PODMAN",
    "DEFAULT_SCORING",
    "POLICY_FILE",
    "POLICY_VERSION",
    "SCHEMA_FILE",
    "SYSTEMD_MODELS",
    "ContainerRules",
    "Override",
    "Policy",
    "PolicyError",
    "UnitPolicy",
    "Value",
    "canonical_check",
    "canonical_directive",
    "container_key",
    "display_directive",
    "layered",
    "load_builtin",
    "load_file",
    "template_name",
]


@dataclass(frozen=True)
class ContainerRules:
    """The `[container]` table: what a podman quadlet `.container` is held against.

    Keys of `require`/`forbid` are `[Container]` keys ("ReadOnly"); `ignore` holds rule ids and
    canonical keys ("Container.ReadOnly", "Service.User"). `None` scalars: not set here."""

    scoring: str | None = None  # the container model; None: DEFAULT_CONTAINER_SCORING
    podman: str | None = None  # the podman release whose quadlet reads the file; None: DEFAULT_PODMAN
    max_exposure: int | None = None  # tenths, exposure in the container model
    rootless: bool | None = None  # None: a rootless pattern, else the mode implied by where the file lives
    # `rootless = ["home/*/quadlets/**"]`: globs of files holding rootless quadlets, relative to
    # `rootless_base` (the directory of the policy file that declared them)
    rootless_paths: tuple[str, ...] = ()
    rootless_base: str | None = None
    require: Mapping[str, Value] = field(default_factory=dict)
    forbid: Mapping[str, Value] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    exclude_checks: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        """No rule at all: nothing to check a container against."""
        return self.max_exposure is None and not self.require and not self.forbid

    @property
    def model(self) -> str:
        return self.scoring or DEFAULT_CONTAINER_SCORING

    def over(self, base: ContainerRules) -> ContainerRules:
        """These rules on top of `base`: scalars replace, require/forbid per key, lists add up."""
        return ContainerRules(
            scoring=self.scoring if self.scoring is not None else base.scoring,
            podman=self.podman if self.podman is not None else base.podman,
            max_exposure=self.max_exposure if self.max_exposure is not None else base.max_exposure,
            rootless=self.rootless if self.rootless is not None else base.rootless,
            rootless_paths=(*base.rootless_paths, *self.rootless_paths),
            rootless_base=self.rootless_base or base.rootless_base,
            require={**base.require, **self.require},
            forbid={**base.forbid, **self.forbid},
            ignore=base.ignore | self.ignore,
            exclude_checks=base.exclude_checks | self.exclude_checks,
        )


if TYPE_CHECKING:  # a type only: a Protocol class would import `typing` at run time

    class Rules(Protocol):
        """The rules a policy, an override and a unit's policy share."""

        @property
        def max_exposure(self) -> int | None: ...
        @property
        def require(self) -> Mapping[str, Value]: ...
        @property
        def forbid(self) -> Mapping[str, Value]: ...
        @property
        def ignore(self) -> frozenset[str]: ...
        @property
        def exclude_checks(self) -> frozenset[str]: ...
        @property
        def container(self) -> ContainerRules: ...


def layered(base: Rules, top: Rules) -> dict[str, Any]:
    """`top`'s rules over `base`'s (an `extends`, or an override): the one merge rule. Scalars
    replace when set, require/forbid per key, lists add up; `[container]` likewise (`over`)."""
    return {
        "max_exposure": top.max_exposure if top.max_exposure is not None else base.max_exposure,
        "require": {**base.require, **top.require},
        "forbid": {**base.forbid, **top.forbid},
        "ignore": base.ignore | top.ignore,
        "exclude_checks": base.exclude_checks | top.exclude_checks,
        "container": top.container.over(base.container),
    }


@dataclass(frozen=True)
class Override:
    units: tuple[str, ...]
    reason: str
    max_exposure: int | None = None
    require: Mapping[str, Value] = field(default_factory=dict)
    forbid: Mapping[str, Value] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    exclude_checks: frozenset[str] = frozenset()
    container: ContainerRules = field(default_factory=ContainerRules)

    def matches(self, unit: str) -> bool:
        import fnmatch  # only policies with [[override]] tables get here

        names = (unit, template_name(unit))
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.units for name in names)


@dataclass(frozen=True)
class Policy:
    """A loaded policy, already merged over what it extends."""

    origin: str  # the file it came from, or "built-in strict@1"
    extends: tuple[str, ...] = ()  # the built-ins it stands on, nearest first
    scoring: tuple[str, ...] = (DEFAULT_SCORING,)  # systemd models; a unit is gated on each
    max_exposure: int | None = None  # tenths
    require: Mapping[str, Value] = field(default_factory=dict)  # key: "Service.NoNewPrivileges"
    forbid: Mapping[str, Value] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    exclude_checks: frozenset[str] = frozenset()
    overrides: tuple[Override, ...] = ()
    container: ContainerRules = field(default_factory=ContainerRules)

    @property
    def description(self) -> str:
        return f"{self.origin} (extends {', '.join(self.extends)})" if self.extends else self.origin

    def for_unit(self, unit: str) -> UnitPolicy:
        """The policy as it applies to one unit: the global keys, then each matching override."""
        result = UnitPolicy(
            description=self.description,
            scoring=self.scoring,
            max_exposure=self.max_exposure,
            require=self.require,
            forbid=self.forbid,
            ignore=self.ignore,
            exclude_checks=self.exclude_checks,
            container=self.container,
        )
        for override in self.overrides:
            if override.matches(unit):
                result = UnitPolicy(
                    description=result.description,
                    scoring=result.scoring,
                    reasons=(*result.reasons, override.reason),
                    **layered(result, override),
                )
        return result


@dataclass(frozen=True)
class UnitPolicy:
    """What the gate checks one unit against."""

    description: str
    scoring: tuple[str, ...]  # systemd models, oldest release first
    max_exposure: int | None
    require: Mapping[str, Value]
    forbid: Mapping[str, Value]
    ignore: frozenset[str]
    exclude_checks: frozenset[str]
    reasons: tuple[str, ...] = ()  # the overrides that applied, by their reason
    container: ContainerRules = field(default_factory=ContainerRules)

    def ignores(self, rule: str, directive: str | None, *, container: bool = False) -> bool:
        """Whether `ignore` drops a finding; for a container, `[container] ignore` counts too."""
        extra = self.container.ignore if container else frozenset()
        if rule in self.ignore or rule in extra:
            return True
        if directive is None:
            return False
        key = canonical_directive(directive)
        return key in self._ignored_directives or key in extra

    @property
    def _ignored_directives(self) -> frozenset[str]:
        return frozenset(canonical_directive(i) for i in self.ignore if not i.startswith("UG"))


# --- loading -----------------------------------------------------------------------------------------


def builtin_names() -> list[str]:
    """The built-in policies shipped with this unitgate, e.g. ["baseline@1", "strict@1"]."""
    names = os.listdir(policy_cache.policies_dir())
    return sorted(n[: -len(".toml")] for n in names if n.endswith(".toml"))


def load_builtin(name: str, *, referrer: str = "", _seen: tuple[str, ...] = ()) -> Policy:
    """A built-in policy by its pinned name ("strict@1"). Built-ins are validated by the test suite.

    `name` comes from a policy in the repository: it is only ever looked up among the names this
    package ships (never joined to a path), whatever the schema or its validation cache said."""
    where = referrer or f"built-in {name}"
    if not isinstance(name, str) or "@" not in name:
        raise PolicyError(where, f"{name!r} must pin a version, e.g. {name}@1", key="extends")
    if name in _seen:
        raise PolicyError(where, f"extends cycle: {' -> '.join((*_seen, name))}", key="extends")
    known = builtin_names()
    if name not in known:
        raise PolicyError(
            where,
            f"unknown built-in policy {escape.quote(repr(name))} (this unitgate ships: {', '.join(known)})",
            key="extends",
        )
    with open(os.path.join(policy_cache.policies_dir(), f"{name}.toml"), "rb") as handle:
        raw = handle.read()
    data = policy_cache.lookup("builtin", raw)
    cached = data is not None
    if data is None:
        data = _parse_toml(raw, f"built-in {name}")
    policy = from_data(data, f"built-in {name}", trusted=True, _seen=(*_seen, name))
    if not cached:
        policy_cache.store("builtin", raw, data)
    return policy


def load_file(path: str | os.PathLike[str], *, display: str | None = None) -> Policy:
    """A policy file given with --policy or found by discovery: .unitgate.toml or pyproject.toml."""
    shown = display or os.fspath(path)
    raw = read_policy_bytes(path, shown)
    pyproject = os.path.basename(os.fspath(path)) == "pyproject.toml"
    kind, prefix = ("pyproject", "tool.unitgate") if pyproject else ("policy", "")
    # The same bytes loaded before (policy_cache.py): no TOML parser, no JSON Schema; the structure,
    # semantics and `extends` are checked again below as for any data.
    cached = policy_cache.lookup(kind, raw)
    if cached is not None:
        return from_data(cached, shown, prefix=prefix, schema_valid=True, base=_directory(path))
    if pyproject and not mentions_policy_table(raw):
        raise PolicyError(shown, "has no [tool.unitgate] table")
    data = _parse_toml(raw, shown)
    if pyproject:
        table = data.get("tool", {}).get("unitgate") if isinstance(data.get("tool"), dict) else None
        if not isinstance(table, dict):
            raise PolicyError(shown, "has no [tool.unitgate] table")
        data = table
    policy = from_data(data, shown, prefix=prefix, base=_directory(path))
    policy_cache.store(kind, raw, data)
    return policy


def _directory(path: str | os.PathLike[str]) -> str:
    """Where relative paths in a policy file start: the directory holding it."""
    return os.path.dirname(os.path.abspath(path))


def default_policy() -> Policy:
    builtin = load_builtin(DEFAULT_BUILTIN)
    return Policy(
        origin=f"built-in default ({DEFAULT_BUILTIN})",
        scoring=builtin.scoring,
        max_exposure=builtin.max_exposure,
        require=builtin.require,
        forbid=builtin.forbid,
        ignore=builtin.ignore,
        exclude_checks=builtin.exclude_checks,
        overrides=builtin.overrides,
        container=builtin.container,
    )


POLICY_MAX_BYTES = 256 * 1024  # a policy is a few kilobytes; anything near this is not one
KEY_PARTS_MAX = 16  # dotted key parts ("a.b.c"); tomllib's cost grows with the square of the count
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
# Anchored after a non-key character, so each run of key characters is tried once: linear time.
_LONG_KEY = rf"(?<![A-Za-z0-9_\-\"']){_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{KEY_PARTS_MAX}}}"
_TOOL, _UNITGATE = r"""(?:tool|"tool"|'tool')""", r"""(?:unitgate|"unitgate"|'unitgate')"""
_POLICY_TABLE = rf"(?m)^[ \t]*\[\[?[ \t]*{_TOOL}[ \t]*\.[ \t]*{_UNITGATE}[ \t]*[].]".encode()


def mentions_policy_table(raw: bytes) -> bool:
    """Whether a pyproject.toml has a `[tool.unitgate...]` table header: only then is it parsed."""
    return pattern(_POLICY_TABLE).search(raw) is not None


def read_policy_bytes(path: str | os.PathLike[str], shown: str) -> bytes:
    """A policy file's bytes, through the engine's confined reader (fsread): a regular file inside the
    repository holding it (a symlink out is refused, naming its target), never a FIFO or device, at
    most POLICY_MAX_BYTES."""
    given = os.fspath(path)
    if not os.path.lexists(given):
        raise PolicyError(shown, "cannot read policy file: No such file or directory")
    try:
        return fsread.read_confined(given, fsread.boundary_for(given), POLICY_MAX_BYTES)
    except fsread.Refused as exc:
        refusal = exc.refusal
        if refusal.code == fsread.TOO_LARGE:
            message = f"larger than {POLICY_MAX_BYTES // 1024} KiB; a policy is a few kilobytes"
        elif refusal.code == fsread.UNREADABLE:
            message = f"cannot read policy file: {refusal.message.removeprefix('cannot read: ')}"
        else:
            message = refusal.message
        raise PolicyError(shown, escape.quote(message, escape.MESSAGE_LIMIT)) from None


def _tomllib() -> Any:
    # Imported on first use: a policy loaded before comes from policy_cache, without parsing.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    return tomllib


def __getattr__(name: str) -> Any:
    """`policy.tomllib` (tests parse with the same parser) without importing it at start-up."""
    if name == "tomllib":
        return _tomllib()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _parse_toml(raw: bytes, shown: str) -> dict[str, Any]:
    """TOML, refusing before parsing what would make the parser slow (a long dotted key costs time
    and memory with the square of its parts), and after parsing any value a policy cannot hold."""
    if len(raw) > POLICY_MAX_BYTES:
        raise PolicyError(shown, f"larger than {POLICY_MAX_BYTES // 1024} KiB; a policy is a few kilobytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(shown, f"not UTF-8 (byte {exc.start})") from None
    long_key = pattern(_LONG_KEY).search(text)
    if long_key is not None:
        line = text.count("\n", 0, long_key.start()) + 1
        raise PolicyError(shown, f"line {line}: a dotted key or value with more than {KEY_PARTS_MAX} parts")
    tomllib = _tomllib()
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(shown, f"invalid TOML: {escape.quote(str(exc))}") from None
    except RecursionError:
        raise PolicyError(shown, "arrays or inline tables nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (4300 digits)
        raise PolicyError(shown, f"invalid value: {escape.quote(str(exc))}") from None
    check_values(data, shown)
    return data


def from_data(
    data: Mapping[str, Any],
    origin: str,
    *,
    prefix: str = "",
    trusted: bool = False,
    schema_valid: bool = False,
    base: str | None = None,
    _seen: tuple[str, ...] = (),
) -> Policy:
    """Build a Policy from parsed TOML, validating it unless `trusted` (built-ins). `base`: the
    directory relative paths in it start from (the policy file's; default the working directory)."""

    def key(*parts: str | int) -> str:
        return key_path(prefix, *parts)

    version = data.get("policy-version")
    if version is None:
        raise PolicyError(origin, f"policy-version is required (this unitgate reads {POLICY_VERSION})", key())
    if isinstance(version, bool) or not isinstance(version, int):
        raise PolicyError(origin, f"must be an integer, not {version!r}", key("policy-version"))
    if version != POLICY_VERSION:
        hint = "upgrade unitgate" if version > POLICY_VERSION else "there is no such version"
        raise PolicyError(
            origin,
            f"unknown policy-version {version} (this unitgate reads version {POLICY_VERSION}; {hint})",
            key("policy-version"),
        )
    # The JSON Schema (precise messages and patterns) may be skipped when its cache says this content
    # passed before; the structure (every key's type and range) is checked on every load, so a cache
    # marker can only save time, never let through what the schema refuses to load.
    if not trusted and not schema_valid:  # schema_valid: these exact bytes passed it (policy_cache)
        validate_schema(data, origin, prefix)
    check_structure(data, origin, prefix)
    check_semantics(data, origin, prefix)

    own = Policy(
        origin=origin,
        scoring=_models(data.get("scoring", DEFAULT_SCORING)),
        max_exposure=_tenths(data.get("max-exposure")),
        require=_directives(data.get("require", {})),
        forbid=_directives(data.get("forbid", {})),
        ignore=frozenset(data.get("ignore", ())),
        exclude_checks=frozenset(canonical_check(c) for c in data.get("exclude-checks", ())),
        overrides=tuple(_override(o) for o in data.get("override", ())),
        container=_container(data.get("container", {}), base),
    )
    extends = data.get("extends")
    merged = own
    if extends is not None:
        builtin = load_builtin(extends, referrer=origin, _seen=_seen)
        merged = Policy(
            origin=origin,
            extends=(extends, *builtin.extends),
            scoring=own.scoring if "scoring" in data else builtin.scoring,
            overrides=(*builtin.overrides, *own.overrides),
            **layered(builtin, own),
        )
    if not trusted:
        check_requirements_exist(data, merged.scoring, origin, prefix)
    return merged


def _models(value: str | list[str]) -> tuple[str, ...]:
    """`scoring` as written (one model, or a list), oldest release first."""
    names = [value] if isinstance(value, str) else value
    return tuple(m for m in SYSTEMD_MODELS if m in names)


def _tenths(value: float | int | None) -> int | None:
    return None if value is None else round(value * 10)


def _directives(table: Mapping[str, Any]) -> dict[str, Value]:
    return {canonical_directive(k): to_value(v) for k, v in table.items()}


def _override(data: Mapping[str, Any]) -> Override:
    return Override(
        units=tuple(data["units"]),
        reason=data["reason"].strip(),
        max_exposure=_tenths(data.get("max-exposure")),
        require=_directives(data.get("require", {})),
        forbid=_directives(data.get("forbid", {})),
        ignore=frozenset(data.get("ignore", ())),
        exclude_checks=frozenset(canonical_check(c) for c in data.get("exclude-checks", ())),
        container=_container(data.get("container", {})),
    )


def _container(data: Mapping[str, Any], base: str | None = None) -> ContainerRules:
    rootless = data.get("rootless")
    paths = tuple(rootless) if isinstance(rootless, list) else ()
    return ContainerRules(
        scoring=data.get("scoring"),
        podman=data.get("podman"),
        max_exposure=_tenths(data.get("max-exposure")),
        rootless=rootless if isinstance(rootless, bool) else None,
        rootless_paths=paths,
        rootless_base=(base or os.getcwd()) if paths else None,
        require={k: to_value(v) for k, v in data.get("require", {}).items()},
        forbid={k: to_value(v) for k, v in data.get("forbid", {}).items()},
        ignore=frozenset(container_key(i) for i in data.get("ignore", ())),
        exclude_checks=frozenset(data.get("exclude-checks", ())),
    )


# --- validation --------------------------------------------------------------------------------------


# --- discovery ---------------------------------------------------------------------------------------
