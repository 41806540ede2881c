"""Sandboxing switches that grew from booleans into modes in later releases.

PrivateMounts= (a tristate since 254), PrivateTmp=, PrivateUsers=, ProtectControlGroups= (modes since
257) and ProtectHostname= (`private[:NAME]` since 258). The checks only ask "anything but no?", so the
state keeps a boolean; which words a release accepts comes from `releases.VALUE_FEATURES`. A word that
the release rejects but a later one accepts gets a diagnostic naming the release that added it.
"""

from __future__ import annotations

from unitgate.model import Assignment, Diagnostic, Severity
from unitgate.security.directives.flags import scored_bool
from unitgate.security.directives.state import (
    NEWER_VALUE,
    OK,
    Handler,
    Outcome,
    UnitState,
    parse_boolean,
    warn,
)
from unitgate.security.directives.validated import VALIDATORS
from unitgate.security.releases import ADDED_IN, VALUE_FEATURES, Release
from unitgate.security.words import SpecifierError, UnitContext

_HOST_NAME_MAX = 64


def newer_value(a: Assignment, release: Release, feature: str, value: str) -> Outcome:
    """A value the release ignores but a later one accepts: a lost protection, said as such."""
    added = ADDED_IN[feature]
    message = (
        f"{a.key}={value}: systemd {release.version} ignores this value (added in {added}); "
        "the protection is off on this release"
    )
    return Outcome((Diagnostic(a.location, message, Severity.WARNING, NEWER_VALUE),), ignored=True)


def _known_word(release: Release, directive: str, word: str) -> bool:
    feature = VALUE_FEATURES.get((directive, word))
    return feature is not None and release.has(feature)


def _unknown(state: UnitState, a: Assignment, word: str) -> Outcome:
    feature = VALUE_FEATURES.get((a.key, word))
    if feature is not None and not state.release.has(feature):
        return newer_value(a, state.release, feature, a.value)
    return warn(a, "not a valid value, ignored")


def private_mounts(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """A tristate since 254: empty resets to unset, which offline analysis counts as private."""
    if not state.release.has("private_mounts_tristate"):
        return scored_bool(state, a, ctx)
    b = None if not a.value else parse_boolean(a.value)
    if a.value and b is None:
        return warn(a, "not a boolean, ignored")
    state.private_mounts = b
    state.touch("private_mounts", a.location)
    return OK


def modes(attr: str) -> Handler:
    """A boolean or (in releases that have them) one of the directive's mode words."""

    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        b = parse_boolean(a.value)
        if b is None and not _known_word(state.release, a.key, a.value):
            return _unknown(state, a, a.value)
        word = a.value if b is None else ("yes" if b else "no")
        setattr(state, attr, word != "no")
        state.modes[attr] = word
        if attr == "private_users":
            state.private_users_managed = word == "managed"
        state.touch(attr, a.location)
        return OK

    return handle


def _hostname_is_valid(name: str) -> bool:
    """hostname_is_valid() without flags: dot-separated labels of letters, digits and inner hyphens."""
    if not name or len(name) > _HOST_NAME_MAX:
        return False
    for label in name.split("."):
        if not label or label.startswith("-") or label.endswith("-"):
            return False
        if not all(c.isascii() and (c.isalnum() or c == "-") for c in label):
            return False
    return True


def protect_hostname(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """`private[:NAME]` since 258; an empty value resets to no; `no:NAME` is an error."""
    if not state.release.has("protect_hostname_private"):
        if a.value.partition(":")[0] == "private":
            return newer_value(a, state.release, "protect_hostname_private", a.value)
        return scored_bool(state, a, ctx)
    if not a.value:
        state.protect_hostname = False
        state.touch("protect_hostname", a.location)
        return OK
    word, colon, name = a.value.partition(":")
    if colon:
        try:
            host = ctx.expand(name)
        except SpecifierError as exc:
            return warn(a, f"{exc}, ignored")
        if not _hostname_is_valid(host):
            return warn(a, f"invalid hostname '{host}', ignored")
    b = parse_boolean(word)
    if b is None and word not in ("private",):
        return warn(a, "not a valid value, ignored")
    if b is False and colon:
        return warn(a, "a hostname needs ProtectHostname=yes or private, ignored")
    state.protect_hostname = b is not False and word != "no"
    state.touch("protect_hostname", a.location)
    return OK


def namespace_list(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Only whether the directive currently holds something (which needs a mount namespace) is kept;
    an empty assignment resets it. The values get their parser's warnings (validated.py)."""
    spec = state.release.directive(f"{a.section}.{a.key}")
    validate = VALIDATORS.get(spec[0]) if spec else None
    outcome = validate(state, a, ctx) if validate else OK
    if a.key in ("MountAPIVFS", "BindLogSockets"):  # tristates: empty means unset (the default decides)
        b = parse_boolean(a.value) if a.value else None
        if b is None:
            state.namespace_lists.pop(a.key, None)
        else:
            state.namespace_lists[a.key] = b
    elif a.key == "MountFlags":
        state.namespace_lists[a.key] = a.value not in ("", "shared")
    else:
        state.namespace_lists[a.key] = bool(a.value)
    return outcome


def private_pids(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """PrivatePIDs= (257+): a boolean; not scored, but it decides load refusals."""
    b = parse_boolean(a.value)
    if b is None:
        return warn(a, "not a boolean, ignored")
    state.private_pids = b
    state.touch("private_pids", a.location)
    return OK
