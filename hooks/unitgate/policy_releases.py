"""Policy requirements against a scoring model's release: a required directive or value that only a
later systemd release knows can never be met under that model, and is a policy error that says so."""

from __future__ import annotations

from unitgate.memo import pattern
from unitgate.model import Assignment, Location
from unitgate.policy_terms import (
    CAPABILITY_DIRECTIVES,
    SYSTEMD_MODELS,
    PolicyError,
    Value,
    canonical_directive,
    key_path,
    to_value,
)

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from unitgate.security.releases import Release


def check_requirements_exist(
    data: Mapping[str, Any], models: tuple[str, ...], origin: str, prefix: str = ""
) -> None:
    """A required directive or value that the release of a scoring model does not know (it only
    exists in a later one) can never be met there: a policy error that says which release added it.
    (`forbid` needs no such check: a value the release ignores is never in effect.)"""
    from unitgate.security.releases import release

    scopes: list[tuple[tuple[str | int, ...], Mapping[str, Any]]] = [((), data)]
    scopes += [(("override", i), o) for i, o in enumerate(data.get("override", ()))]
    for model in models:
        rel = release(model)
        for where, scope in scopes:
            for name, value in scope.get("require", {}).items():
                key = canonical_directive(name)
                section, _, directive = key.partition(".")
                if key in CAPABILITY_DIRECTIVES:
                    continue  # capability names: every release knows them (unknown ones are dropped)
                problems = [_newer(rel, section, directive, t) for t in _probe_texts(to_value(value))]
                if problems and all(problems):  # no accepted alternative exists in this release
                    where_key = key_path(prefix, *where, "require", name)
                    raise PolicyError(origin, _newer_message(problems[0] or "", model), where_key)


def _newer(rel: Release, section: str, directive: str, text: str) -> str | None:
    """The engine's diagnostic when `directive=text` only exists in a later release than `rel`."""
    from unitgate.security.settings import NEWER_KEY, NEWER_VALUE, apply, new_state
    from unitgate.security.words import UnitContext

    state = new_state("service", "system", rel)  # the probe is a service, as in gate/values.py
    line = Assignment(section, directive, text, Location("<policy>", 0))
    outcome = apply(state, line, UnitContext("policy.service"))
    return next((d.message for d in outcome.diagnostics if d.code in (NEWER_KEY, NEWER_VALUE)), None)


def _probe_texts(value: Value) -> tuple[str, ...]:
    """What to feed the engine for each accepted alternative ("*": any value, so only the name)."""
    if isinstance(value, bool):
        return ("yes" if value else "no",)
    alternatives = (value,) if isinstance(value, str) else value
    return tuple("" if a == "*" else a for a in alternatives)


def _newer_message(engine: str, model: str) -> str:
    """The engine's 'X=v: systemd 252 ignores this value (added in 257); ...' (or 'X= is not known to
    systemd 252 (added in 257)...') as a policy problem."""
    what = pattern(r": | is not known").split(engine, maxsplit=1)[0]
    since = pattern(r"added in (\d+)").search(engine) or pattern(r"systemd (\d+) knows it").search(engine)
    added = int(since[1]) if since else 0
    later = next((m for m in SYSTEMD_MODELS if int(m.rpartition("-")[2]) >= added), None)
    fix = f"require what {model} knows"
    if later:
        fix += f', or set scoring = "{later}"'
    return (
        f"{what} only exists from systemd {added} on, but the policy scores with {model}: no unit could "
        f"meet this requirement there; {fix}"
    )
