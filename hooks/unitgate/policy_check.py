"""Policy validation: the JSON Schema (validated once per content, remembered in a cache directory)
and the semantic checks the schema cannot express (one decimal, known rule ids, capability names,
container keys and values). Raises PolicyError naming the file and key path."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

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


def validate_schema(data: Mapping[str, Any], origin: str, prefix: str) -> None:
    schema_text = resources.files("unitgate.policies.schema").joinpath(SCHEMA_FILE).read_bytes()
    digest = hashlib.sha256(schema_text + b"\0" + json.dumps(data, sort_keys=True, default=str).encode())
    cache = cache_dir()
    marker = cache / "policy-valid" / digest.hexdigest() if cache else None
    if marker is not None and marker.exists():
        return
    # Imported here: jsonschema costs ~70 ms, paid only when a policy's content is new to this machine.
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(json.loads(schema_text))
    error = jsonschema.exceptions.best_match(validator.iter_errors(_jsonable(data)))
    if error is not None:
        raise PolicyError(origin, _schema_message(error), key_path(prefix, *error.absolute_path))
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


_CONTAINER_TABLE_KEYS = frozenset(
    {"scoring", "podman", "max-exposure", "rootless", "ignore", "exclude-checks"}
)


def cache_dir() -> Path | None:
    """Where validated-policy markers live; UNITGATE_CACHE_DIR="" turns the cache off."""
    configured = os.environ.get("UNITGATE_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "unitgate"
