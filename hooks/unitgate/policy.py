"""The policy file: discovery, loading, validation, `extends`, and per-unit resolution.

A policy is TOML (`.unitgate.toml`, or `[tool.unitgate]` in `pyproject.toml`), format version 1,
described by `policies/schema/policy-v1.schema.json`. Loading goes: read -> TOML -> check
`policy-version` -> JSON Schema (jsonschema, skipped when the same content already validated: see
`_validated`) -> semantic checks the schema cannot express -> dataclasses -> merge over `extends`.

Every problem raises PolicyError naming the file and the key path; the gate turns it into exit 2.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from unitgate.security.names import CAPABILITIES  # the generated table: names by number

POLICY_VERSION = 1
DEFAULT_SCORING = "systemd-252"
DEFAULT_BUILTIN = "baseline@1"
POLICY_FILE = ".unitgate.toml"
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


@dataclass(frozen=True)
class ContainerRules:
    """The `[container]` table: what a podman quadlet `.container` is held against.

    Keys of `require`/`forbid` are `[Container]` keys ("ReadOnly"); `ignore` holds rule ids and
    canonical keys ("Container.ReadOnly", "Service.User"). `None` scalars: not set here."""

    scoring: str | None = None
    max_exposure: int | None = None  # tenths, quadlet-1 exposure
    rootless: bool | None = None  # None: the mode implied by where the file lives
    require: Mapping[str, Value] = field(default_factory=dict)
    forbid: Mapping[str, Value] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    exclude_checks: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        """No rule at all: nothing to check a container against."""
        return self.max_exposure is None and not self.require and not self.forbid

    def over(self, base: ContainerRules) -> ContainerRules:
        """These rules on top of `base`: scalars replace, require/forbid per key, lists add up."""
        return ContainerRules(
            scoring=self.scoring if self.scoring is not None else base.scoring,
            max_exposure=self.max_exposure if self.max_exposure is not None else base.max_exposure,
            rootless=self.rootless if self.rootless is not None else base.rootless,
            require={**base.require, **self.require},
            forbid={**base.forbid, **self.forbid},
            ignore=base.ignore | self.ignore,
            exclude_checks=base.exclude_checks | self.exclude_checks,
        )


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
        names = (unit, template_name(unit))
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.units for name in names)


@dataclass(frozen=True)
class Policy:
    """A loaded policy, already merged over what it extends."""

    origin: str  # the file it came from, or "built-in strict@1"
    extends: tuple[str, ...] = ()  # the built-ins it stands on, nearest first
    scoring: str = DEFAULT_SCORING
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
    scoring: str
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


# --- loading -----------------------------------------------------------------------------------------


def builtin_names() -> list[str]:
    """The built-in policies shipped with this unitgate, e.g. ["baseline@1", "strict@1"]."""
    root = resources.files("unitgate.policies")
    return sorted(p.name[: -len(".toml")] for p in root.iterdir() if p.name.endswith(".toml"))


def load_builtin(name: str, *, referrer: str = "", _seen: tuple[str, ...] = ()) -> Policy:
    """A built-in policy by its pinned name ("strict@1"). Built-ins are validated by the test suite."""
    where = referrer or f"built-in {name}"
    if "@" not in name:
        raise PolicyError(where, f"{name!r} must pin a version, e.g. {name}@1", key="extends")
    if name in _seen:
        raise PolicyError(where, f"extends cycle: {' -> '.join((*_seen, name))}", key="extends")
    resource = resources.files("unitgate.policies").joinpath(f"{name}.toml")
    if not resource.is_file():
        known = ", ".join(builtin_names())
        raise PolicyError(
            where, f"unknown built-in policy {name!r} (this unitgate ships: {known})", key="extends"
        )
    data = _parse_toml(resource.read_bytes(), f"built-in {name}")
    return from_data(data, f"built-in {name}", trusted=True, _seen=(*_seen, name))


def load_file(path: str | os.PathLike[str], *, display: str | None = None) -> Policy:
    """A policy file given with --policy or found by discovery: .unitgate.toml or pyproject.toml."""
    shown = display or os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(shown, f"cannot read policy file: {exc.strerror or exc}") from None
    data = _parse_toml(raw, shown)
    if Path(path).name == "pyproject.toml":
        table = data.get("tool", {}).get("unitgate") if isinstance(data.get("tool"), dict) else None
        if not isinstance(table, dict):
            raise PolicyError(shown, "has no [tool.unitgate] table")
        return from_data(table, shown, prefix="tool.unitgate")
    return from_data(data, shown)


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


def _parse_toml(raw: bytes, shown: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
        return data
    except UnicodeDecodeError as exc:
        raise PolicyError(shown, f"not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(shown, f"invalid TOML: {exc}") from None


def from_data(
    data: Mapping[str, Any],
    origin: str,
    *,
    prefix: str = "",
    trusted: bool = False,
    _seen: tuple[str, ...] = (),
) -> Policy:
    """Build a Policy from parsed TOML, validating it unless `trusted` (built-ins)."""

    def key(*parts: str | int) -> str:
        return _key_path(prefix, *parts)

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
    if not trusted:
        _validate_schema(data, origin, prefix)
    _check_semantics(data, origin, prefix)

    own = Policy(
        origin=origin,
        scoring=data.get("scoring", DEFAULT_SCORING),
        max_exposure=_tenths(data.get("max-exposure")),
        require=_directives(data.get("require", {})),
        forbid=_directives(data.get("forbid", {})),
        ignore=frozenset(data.get("ignore", ())),
        exclude_checks=frozenset(canonical_check(c) for c in data.get("exclude-checks", ())),
        overrides=tuple(_override(o) for o in data.get("override", ())),
        container=_container(data.get("container", {})),
    )
    extends = data.get("extends")
    if extends is None:
        return own
    base = load_builtin(extends, referrer=origin, _seen=_seen)
    return Policy(
        origin=origin,
        extends=(extends, *base.extends),
        scoring=data.get("scoring", base.scoring),
        overrides=(*base.overrides, *own.overrides),
        **layered(base, own),
    )


def _key_path(prefix: str, *parts: str | int) -> str:
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else part
    return text


def _tenths(value: float | int | None) -> int | None:
    return None if value is None else round(value * 10)


def _value(value: Any) -> Value:
    return tuple(value) if isinstance(value, list) else value  # type: ignore[no-any-return,unused-ignore]


def _directives(table: Mapping[str, Any]) -> dict[str, Value]:
    return {canonical_directive(k): _value(v) for k, v in table.items()}


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


def _container(data: Mapping[str, Any]) -> ContainerRules:
    return ContainerRules(
        scoring=data.get("scoring"),
        max_exposure=_tenths(data.get("max-exposure")),
        rootless=data.get("rootless"),
        require={k: _value(v) for k, v in data.get("require", {}).items()},
        forbid={k: _value(v) for k, v in data.get("forbid", {}).items()},
        ignore=frozenset(container_key(i) for i in data.get("ignore", ())),
        exclude_checks=frozenset(data.get("exclude-checks", ())),
    )


# --- validation --------------------------------------------------------------------------------------


def _check_semantics(data: Mapping[str, Any], origin: str, prefix: str) -> None:
    """What JSON Schema cannot say: one-decimal scores, known rule ids, capability names."""

    def scopes() -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
        yield (), data
        for i, override in enumerate(data.get("override", ())):
            yield ("override", i), override

    for where, scope in list(scopes()):
        container = scope.get("container")
        if isinstance(container, Mapping):
            _check_container(container, origin, prefix, (*where, "container"))
    for where, scope in scopes():
        _check_scope(
            scope,
            origin,
            prefix,
            where,
            lambda name, value, table: _value_problem(canonical_directive(name), value, table),
        )


def _check_container(data: Mapping[str, Any], origin: str, prefix: str, where: tuple[str | int, ...]) -> None:
    """`[container]`: one-decimal max-exposure, known rule ids, [Container] keys, sensible values."""
    _check_scope(data, origin, prefix, where, container_value_problem)


def _check_scope(
    scope: Mapping[str, Any],
    origin: str,
    prefix: str,
    where: tuple[str | int, ...],
    value_problem: Callable[[str, Value, str], str | None],
) -> None:
    """What the schema cannot say about one scope (top level, an override, a [container] table):
    one-decimal max-exposure, known rule ids, and values that make sense for their directive."""
    from unitgate.findings import RULE_BY_ID

    exposure = scope.get("max-exposure")
    if exposure is not None and abs(exposure * 10 - round(exposure * 10)) > 1e-9:
        raise PolicyError(
            origin,
            f"{exposure} has more than one decimal; exposure is scored in steps of 0.1",
            _key_path(prefix, *where, "max-exposure"),
        )
    for item in scope.get("ignore", ()):
        if item.startswith("UG") and item[2:].isdigit() and item not in RULE_BY_ID:
            raise PolicyError(
                origin,
                f"unknown rule id {item!r} (rule ids: {', '.join(RULE_BY_ID)})",
                _key_path(prefix, *where, "ignore"),
            )
    for table in ("require", "forbid"):
        for name, value in scope.get(table, {}).items():
            problem = value_problem(name, _value(value), table)
            if problem:
                raise PolicyError(origin, problem, _key_path(prefix, *where, table, name))


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


def container_value_problem(key: str, value: Value, table: str) -> str | None:
    """Why `key = value` cannot be used in [container.require]/[container.forbid], if it cannot."""
    from unitgate.quadlet.keys import CONTAINER_KEYS

    if key not in CONTAINER_KEYS:
        import difflib

        close = difflib.get_close_matches(key, sorted(CONTAINER_KEYS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{key!r} is not a [Container] key quadlet knows{hint}"
    if value == "*" and table == "forbid":
        return '"*" (any value) is only meaningful in [require]'
    if key in CONTAINER_BOOLEANS and not isinstance(value, bool):
        return f"{key} is a boolean: write true or false"
    if key not in CONTAINER_BOOLEANS and isinstance(value, bool):
        return f"{key} takes a value, not true/false"
    if key == "DropCapability" and table == "forbid":
        return (
            "forbidding a dropped capability means nothing: to keep capabilities out of the container, "
            "forbid them with AddCapability = [...] or require DropCapability"
        )
    if key == "AddCapability" and table == "require":
        return (
            'to limit the container\'s capabilities, require DropCapability = "all" and forbid the ones '
            "it must never hold with [container.forbid] AddCapability = [...]"
        )
    if isinstance(value, bool):
        return None
    if key in CONTAINER_CAPABILITY_KEYS and value != "*":
        names = value.split() if isinstance(value, str) else list(value)
        known = {c.removeprefix("CAP_") for c in CAPABILITIES} | {"ALL"}
        unknown = [n for n in names if n.upper().removeprefix("CAP_") not in known]
        if unknown:
            return f"unknown capability {unknown[0]!r}"
    if key in ("PodmanArgs", "GlobalArgs") and value != "*":
        flags = [value] if isinstance(value, str) else list(value)
        bad = [f for f in flags if not f.startswith("-")]
        if bad:
            return f'{bad[0]!r} is not a podman flag (write it as on the command line: "--privileged")'
    return None


def _value_problem(key: str, value: Value, table: str) -> str | None:
    if key in CAPABILITY_DIRECTIVES:
        if isinstance(value, bool):
            return 'a capability set takes capability names ("CAP_NET_RAW"), not true/false'
        names = value.split() if isinstance(value, str) else list(value)
        unknown = [n for n in names if n.upper() not in CAPABILITIES]
        if unknown:
            return f"unknown capability {unknown[0]!r}"
    if value == "*" and table == "forbid":
        return '"*" (any value) is only meaningful in [require]'
    return None


def _validate_schema(data: Mapping[str, Any], origin: str, prefix: str) -> None:
    schema_text = resources.files("unitgate.policies.schema").joinpath(SCHEMA_FILE).read_bytes()
    digest = hashlib.sha256(schema_text + b"\0" + json.dumps(data, sort_keys=True, default=str).encode())
    cache = _cache_dir()
    marker = cache / "policy-valid" / digest.hexdigest() if cache else None
    if marker is not None and marker.exists():
        return
    # Imported here: jsonschema costs ~70 ms, paid only when a policy's content is new to this machine.
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(json.loads(schema_text))
    error = jsonschema.exceptions.best_match(validator.iter_errors(_jsonable(data)))
    if error is not None:
        raise PolicyError(origin, _schema_message(error), _key_path(prefix, *error.absolute_path))
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only cache only costs speed


def _jsonable(value: Any) -> Any:
    """TOML dates/times have no JSON Schema type: give them as strings (check-jsonschema does too)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _schema_message(error: Any) -> str:
    if error.validator == "additionalProperties":
        import difflib

        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra and list(error.absolute_path)[-1:] == ["container"] and extra[0][:1].isupper():
            return (
                f"unknown key {extra[0]!r}: [Container] keys go in [container.require] or [container.forbid]"
            )
        if extra:
            close = difflib.get_close_matches(extra[0], allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(allowed)})"
            return f"unknown key {extra[0]!r}{hint}"
    if error.validator == "const" and error.schema.get("const") is not None:
        return f"must be {error.schema['const']!r}, not {error.instance!r}"
    if error.validator == "oneOf" and list(error.schema_path)[-2:-1] == ["additionalProperties"]:
        return f"{error.instance!r} is not true/false, a string, or a non-empty list of distinct strings"
    if error.validator == "pattern" and list(error.absolute_path) == ["extends"]:
        name = str(error.instance).partition("@")[0]
        return f"{error.instance!r} must name a built-in policy pinned by version, e.g. {name}@1"
    if error.validator == "pattern" and error.schema.get("pattern") == "\\S":
        return "must not be empty"
    if "propertyNames" in error.schema_path and "container" in list(error.absolute_path):
        hint = ""
        if error.instance in _CONTAINER_TABLE_KEYS:
            hint = (
                " (a key after a [table] header belongs to that table: "
                f"move {error.instance} under [container], above [container.require]/[container.forbid])"
            )
        return f"{error.instance!r} is not a [Container] key name (ReadOnly, DropCapability, ...){hint}"
    if "propertyNames" in error.schema_path:
        hint = ""
        if error.instance in _TOP_LEVEL_KEYS:
            hint = f" (a key after a [table] header belongs to that table: move {error.instance} above it)"
        return f"{error.instance!r} is not a directive name (NoNewPrivileges, or Section.Key){hint}"
    message: str = error.message
    return message


_TOP_LEVEL_KEYS = frozenset(
    {
        "policy-version",
        "extends",
        "scoring",
        "max-exposure",
        "require",
        "forbid",
        "ignore",
        "exclude-checks",
        "container",
    }
)
_CONTAINER_TABLE_KEYS = frozenset({"scoring", "max-exposure", "rootless", "ignore", "exclude-checks"})


def _cache_dir() -> Path | None:
    """Where validated-policy markers live; UNITGATE_CACHE_DIR="" turns the cache off."""
    configured = os.environ.get("UNITGATE_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "unitgate"


# --- discovery ---------------------------------------------------------------------------------------


@dataclass
class Finder:
    """Finds the policy for each checked file: the nearest .unitgate.toml or [tool.unitgate] in a
    pyproject.toml, walking up from the file to the repository root (a directory holding .git);
    else the built-in default. Results are cached per directory and per policy file."""

    cwd: Path = field(default_factory=Path.cwd)
    _by_dir: dict[Path, Path | None] = field(default_factory=dict)
    _loaded: dict[Path | None, Policy] = field(default_factory=dict)

    def for_path(self, path: str) -> Policy:
        source = self.source_for(Path(os.path.abspath(path)).parent)
        if source not in self._loaded:
            self._loaded[source] = (
                default_policy() if source is None else load_file(source, display=self._show(source))
            )
        return self._loaded[source]

    def source_for(self, directory: Path) -> Path | None:
        walked: list[Path] = []
        found: Path | None = None
        for d in (directory, *directory.parents):
            if d in self._by_dir:
                found = self._by_dir[d]
                break
            walked.append(d)
            found = _policy_in(d)
            if found is not None or (d / ".git").exists():
                break
        for d in walked:
            self._by_dir[d] = found
        return found

    def _show(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.cwd)
        except ValueError:  # another drive on Windows
            return str(path)


def _policy_in(directory: Path) -> Path | None:
    candidate = directory / POLICY_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            raw = pyproject.read_bytes()
        except OSError:
            return pyproject  # unreadable: load_file reports it (exit 2) rather than skipping it silently
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            # A broken pyproject.toml may still hold our table: let load_file report it properly.
            return pyproject if b"[tool.unitgate" in raw else None
        tool = data.get("tool")
        if isinstance(tool, dict) and "unitgate" in tool:
            return pyproject
    return None
