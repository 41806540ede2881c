"""RestrictAddressFamilies= and RestrictNamespaces=: allow/deny lists of families and namespaces."""

from __future__ import annotations

from unitgate.model import Assignment, Diagnostic
from unitgate.security import names
from unitgate.security.directives.state import OK, Outcome, UnitState, parse_boolean, warn
from unitgate.security.words import Extract, UnitContext, WordError, split_words


def address_families(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    state.touch("address_families", a.location)
    if not a.value:
        state.address_families, state.address_families_allow_list = None, False
        return OK
    if a.value == "none":
        # The set is freed, not emptied: the next line decides the mode afresh.
        state.address_families, state.address_families_allow_list = None, True
        return OK
    value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
    if state.address_families is None:
        state.address_families, state.address_families_allow_list = set(), not invert
    try:
        words = split_words(value, Extract.UNQUOTE)
    except WordError:
        return warn(a, "invalid syntax, rest of the line ignored", ignored=False)
    diags: list[Diagnostic] = []
    for word in words:
        af = names.ADDRESS_FAMILIES.get(word.upper()) if word.isascii() else None
        if af is None and state.release.has("address_family_unknown_stops"):
            diags += warn(a, f"unknown address family '{word}', rest of the line ignored").diagnostics
            break
        if af is None:
            diags += warn(a, f"unknown address family '{word}', ignored").diagnostics
        elif (not invert) == state.address_families_allow_list:
            state.address_families.add(af)
        else:
            state.address_families.discard(af)
    return Outcome(tuple(diags))


def restrict_namespaces(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.restrict_namespaces = names.NAMESPACE_FLAGS_INITIAL
    elif (b := parse_boolean(a.value)) is not None:
        state.restrict_namespaces = 0 if b else names.NAMESPACE_FLAGS_ALL
    else:
        value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
        try:
            words = split_words(value)
        except WordError:
            return warn(a, "invalid syntax, ignored")
        if any(w not in names.NAMESPACES for w in words):
            return warn(a, "unknown namespace type; the whole line is ignored")
        flags = 0
        for w in words:
            flags |= names.NAMESPACES[w]
        if state.restrict_namespaces == names.NAMESPACE_FLAGS_INITIAL:
            state.restrict_namespaces = (~flags & names.NAMESPACE_FLAGS_ALL) if invert else flags
        elif invert:
            state.restrict_namespaces &= ~flags
        else:
            state.restrict_namespaces |= flags
    state.touch("restrict_namespaces", a.location)
    return OK
