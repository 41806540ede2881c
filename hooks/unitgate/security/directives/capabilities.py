"""CapabilityBoundingSet= and AmbientCapabilities=: capability lists, `~` inverting."""

from __future__ import annotations

from collections.abc import Sequence

from unitgate.model import Assignment
from unitgate.security import names
from unitgate.security.directives.state import OK, Handler, Outcome, UnitState, safe_atoi
from unitgate.security.words import Extract, UnitContext, WordError, split_words


def capability_mask(words: Sequence[str]) -> int:
    """The OR of the named capabilities; unknown names are dropped silently, as systemd does."""
    mask = 0
    for word in words:
        number = safe_atoi(word)
        if number is not None:
            if 0 <= number <= names.CAP_NUMERIC_MAX:
                mask |= 1 << number
            continue
        bit = names.CAPABILITIES.get(word.upper()) if word.isascii() else None
        if bit is not None:
            mask |= 1 << bit
    return mask


def _split_lenient(value: str, flags: Extract) -> list[str]:
    """Words up to the first syntax error (capability_set_from_string stops there silently)."""
    try:
        return split_words(value, flags)
    except WordError:
        return split_words(value, flags | Extract.RELAX)[:-1]


def capabilities(attr: str, initial: int) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
        total = capability_mask(_split_lenient(value, Extract.UNQUOTE))
        current = getattr(state, attr)
        # systemd 252 replaces whenever the set still equals its initial value (for the bounding set,
        # "all"), even if a previous line put it there; otherwise it merges.
        if total == 0 or current == initial:
            new = (~total & names.CAP_ALL) if invert else total
        elif invert:
            new = current & ~total
        else:
            new = current | total
        setattr(state, attr, new)
        state.touch(attr, a.location)
        return OK

    return handle
