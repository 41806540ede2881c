"""Policy validation: the JSON Schema (validated once per content, remembered in a cache directory)
and the semantic checks the schema cannot express (one decimal, known rule ids, capability names,
container keys and values). Raises PolicyError naming the file and key path."""

from __future__ import annotations

import os

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable, Iterator, Mapping

from unitgate import __version__, escape, fsread
from unitgate.policy_terms import (
    CAPABILITIES,
    CAPABILITY_DIRECTIVES,
    CONTAINER_BOOLEANS,
    CONTAINER_CAPABILITY_KEYS,
    SCHEMA_FILE,
    PolicyError,
    Value,
    canonical_directive,
    key_path,
    to_value,
)

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from typing import Any


def check_semantics(data: Mapping[str, Any], origin: str, prefix: str) -> None:
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
            key_path(prefix, *where, "max-exposure"),
        )
    for item in scope.get("ignore", ()):
        if item.startswith("UG") and item[2:].isdigit() and item not in RULE_BY_ID:
            raise PolicyError(
                origin,
                f"unknown rule id {item!r} (rule ids: {', '.join(RULE_BY_ID)})",
                key_path(prefix, *where, "ignore"),
            )
    for table in ("require", "forbid"):
        for name, value in scope.get(table, {}).items():
            problem = value_problem(name, to_value(value), table)
            if problem:
                raise PolicyError(origin, problem, key_path(prefix, *where, table, name))


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


NESTING_MAX = 8  # tables and arrays inside each other; a valid policy needs 6
INTEGER_MAX = 2**31  # no policy integer comes near it


def check_values(data: Mapping[str, Any], origin: str) -> None:
    """Every parsed value is one a policy can hold: finite numbers, bounded integers, no dates or
    times, bounded nesting. Walks iteratively and names the first offending key."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        where, value = stack.pop()
        problem = None
        if len(where) > NESTING_MAX:
            problem = f"nested more than {NESTING_MAX} levels deep"
        elif isinstance(value, (bool, str)):
            continue
        elif isinstance(value, int):
            if abs(value) > INTEGER_MAX:
                problem = "integer out of range"
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                problem = f"{value} is not a number a policy can hold"
        elif isinstance(value, Mapping):
            stack += [((*where, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [((*where, i), v) for i, v in enumerate(value)]
        else:
            problem = f"a {type(value).__name__} (TOML date or time) is not a policy value"
        if problem:
            shown = escape.quote(key_path("", *where), 120)
            raise PolicyError(origin, problem, shown)


_STRINGS = "a list of strings"
_DIRECTIVES = "a table of directive = true/false, a string or a list of strings"


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_directives(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(v, (bool, str)) or (_is_strings(v) and v) for v in value.values()
    )


def _is_exposure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 10


# key -> (what it must be, the test). One row per key a scope may hold; the JSON Schema says the same
# with better messages, but is skipped for content its cache has seen: these rows never are.
_SCOPE_KEYS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "max-exposure": ("a number from 0 to 10", _is_exposure),
    "require": (_DIRECTIVES, _is_directives),
    "forbid": (_DIRECTIVES, _is_directives),
    "ignore": (_STRINGS, _is_strings),
    "exclude-checks": (_STRINGS, _is_strings),
}
_TOP_KEYS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **_SCOPE_KEYS,
    "policy-version": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "extends": ("a string", lambda v: isinstance(v, str)),
    "scoring": (
        "a string or a list of strings",
        lambda v: isinstance(v, str) or (_is_strings(v) and bool(v)),
    ),
    "container": ("a table", lambda v: isinstance(v, Mapping)),
    "override": (
        "an array of tables",
        lambda v: isinstance(v, list) and all(isinstance(o, Mapping) for o in v),
    ),
}
_OVERRIDE_KEYS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **_SCOPE_KEYS,
    "units": ("a non-empty list of strings", lambda v: _is_strings(v) and bool(v)),
    "reason": ("a string", lambda v: isinstance(v, str)),
    "container": ("a table", lambda v: isinstance(v, Mapping)),
}
_CONTAINER_KEYS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **_SCOPE_KEYS,
    "scoring": ("a string", lambda v: isinstance(v, str)),
    "podman": ("a string", lambda v: isinstance(v, str)),
    "rootless": ("true, false or a list of path patterns", lambda v: isinstance(v, bool) or _is_strings(v)),
}


def check_structure(data: Mapping[str, Any], origin: str, prefix: str) -> None:
    """Every key known and of the type the loader relies on, in every scope. Always run: this is what
    makes a policy safe to load, whatever the schema cache holds."""
    scopes: list[
        tuple[tuple[str | int, ...], Mapping[str, Any], dict[str, tuple[str, Callable[[Any], bool]]]]
    ]
    scopes = [((), data, _TOP_KEYS)]
    for i, override in enumerate(data.get("override", ()) if isinstance(data.get("override"), list) else ()):
        if isinstance(override, Mapping):
            scopes.append((("override", i), override, _OVERRIDE_KEYS))
    for where, scope, _ in list(scopes):
        container = scope.get("container")
        if isinstance(container, Mapping):
            scopes.append(((*where, "container"), container, _CONTAINER_KEYS))
    for where, scope, rows in scopes:
        for key, value in scope.items():
            row = rows.get(key)
            if row is None:
                raise PolicyError(origin, f"unknown key {escape.quote(repr(key))}", key_path(prefix, *where))
            if not row[1](value):
                raise PolicyError(origin, f"must be {row[0]}", key_path(prefix, *where, escape.quote(key)))
        if rows is _OVERRIDE_KEYS:
            for required in ("units", "reason"):
                if required not in scope:
                    raise PolicyError(origin, f"{required} is required", key_path(prefix, *where))


def validate_schema(data: Mapping[str, Any], origin: str, prefix: str) -> None:
    # Imported here: a policy loaded before never gets here (policy_cache.py).
    import hashlib
    import json
    from importlib import resources

    schema_text = resources.files("unitgate.policies.schema").joinpath(SCHEMA_FILE).read_bytes()
    # The marker is keyed on this unitgate's version, the schema and the content: it can only say
    # "this exact content passed this exact schema before", which skips work and accepts nothing new
    # (check_structure and load_builtin run whatever it says).
    canonical = json.dumps(data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(__version__.encode() + b"\0" + schema_text + b"\0" + canonical)
    cache = cache_dir()
    marker = os.path.join(cache, "policy-valid", digest.hexdigest()) if cache else None
    if marker is not None and os.path.exists(marker):
        return
    # Imported here: jsonschema costs ~70 ms, paid only when a policy's content is new to this machine.
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(json.loads(schema_text))
    error = jsonschema.exceptions.best_match(validator.iter_errors(_jsonable(data)))
    if error is not None:
        raise PolicyError(origin, _schema_message(error), key_path(prefix, *error.absolute_path))
    if marker is not None:
        try:
            os.makedirs(os.path.dirname(marker), exist_ok=True)
            with open(marker, "ab"):
                pass
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
    if error.validator == "oneOf" and list(error.absolute_path)[-1:] == ["rootless"]:
        return f'{error.instance!r} is not true/false or a list of path patterns (["home/*/quadlets/**"])'
    if error.validator == "oneOf" and isinstance(error.instance, str):  # a name, or a list of names
        enum = next((e for e in error.context or () if e.validator == "enum"), None)
        if enum is not None:
            return str(enum.message)
    if error.validator == "oneOf" and list(error.schema_path)[-2:-1] == ["additionalProperties"]:
        return f"{error.instance!r} is not true/false, a string, or a non-empty list of distinct strings"
    if error.validator == "pattern" and list(error.absolute_path) == ["extends"]:
        name = str(error.instance).partition("@")[0]
        example = f"{name}@1" if name.replace("-", "").isalnum() and name[:1].isalpha() else "baseline@1"
        shown = escape.quote(repr(error.instance))
        return f"{shown} must name a built-in policy pinned by version, e.g. {example}"
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


_CONTAINER_TABLE_KEYS = frozenset(
    {"scoring", "podman", "max-exposure", "rootless", "ignore", "exclude-checks"}
)


def cache_dir() -> str | None:
    """Where validated-policy markers live: UNITGATE_CACHE_DIR, else $XDG_CACHE_HOME/unitgate (or
    ~/.cache/unitgate); UNITGATE_CACHE_DIR="" turns the cache off. A cache directory that resolves
    inside the repository being checked (the one holding the working directory) is not used: the
    repository's content must not be able to plant markers."""
    configured = os.environ.get("UNITGATE_CACHE_DIR")
    if configured is not None:
        if not configured:
            return None
        chosen = configured
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        chosen = os.path.join(base, "unitgate")
    return None if _inside_repository(chosen) else chosen


def _inside_repository(path: str) -> bool:
    """Whether `path` resolves inside the repository holding the working directory (else inside the
    working directory itself, the root being checked)."""
    here = os.getcwd()
    root = os.path.realpath(fsread.repository_root(here) or here)
    return fsread.inside(os.path.realpath(path), root)
