"""CapabilityBoundingSet= and AmbientCapabilities=: capability lists, `~` inverting."""

from __future__ import annotations

from unitgate.model import Assignment
from unitgate.security import names
from unitgate.security.directives.state import OK, Handler, Outcome, UnitState, safe_atoi, warn
from unitgate.security.releases import PINNED_KERNEL_CAP_LAST, Release
from unitgate.security.words import Extract, UnitContext, WordError, split_words

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence


def capability_mask(words: Sequence[str], numeric_max: int = names.CAP_NUMERIC_MAX) -> int:
    """The OR of the named capabilities; unknown names are dropped silently, as systemd does."""
    mask = 0
    for word in words:
        number = safe_atoi(word)
        if number is not None:
            if 0 <= number <= numeric_max:
                mask |= 1 << number
            continue
        bit = names.CAPABILITIES.get(word.upper()) if word.isascii() else None
        if bit is not None:
            mask |= 1 << bit
    return mask


def _split_lenient(value: str, flags: int) -> list[str]:
    """Words up to the first syntax error (capability_set_from_string stops there silently)."""
    try:
        return split_words(value, flags)
    except WordError:
        return split_words(value, flags | Extract.RELAX)[:-1]


# Since 255 numbers go up to CAP_LIMIT. systemd 262: every bit but the top one is "all" (CAP_MASK_ALL),
# and `~X` starts from the kernel's capabilities (pinned: see releases.PINNED_KERNEL_CAP_LAST).
CAP_LIMIT = 62
CAP_MASK_ALL_262 = (1 << 63) - 1
KERNEL_CAPS_262 = (1 << (PINNED_KERNEL_CAP_LAST + 1)) - 1


def initial_bounding_set(release: Release) -> int:
    return CAP_MASK_ALL_262 if release.has("capability_invert_from_kernel") else names.CAP_ALL


def capabilities(attr: str) -> Handler:
    """CapabilityBoundingSet= (initially all) and AmbientCapabilities= (initially none)."""

    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        value, invert = (a.value[1:], True) if a.value.startswith("~") else (a.value, False)
        newer = state.release.has("capability_invert_from_kernel")
        initial = initial_bounding_set(state.release) if attr == "capability_bounding_set" else 0
        if state.release.has("capability_limit_62"):
            try:  # since 255 a syntax error fails the whole line (252 keeps the words before it)
                total = capability_mask(split_words(value, Extract.UNQUOTE | Extract.RELAX), CAP_LIMIT)
            except WordError:
                return warn(a, "invalid syntax, ignored")
        else:
            total = capability_mask(_split_lenient(value, Extract.UNQUOTE))
        everything = KERNEL_CAPS_262 if newer else names.CAP_ALL
        current = getattr(state, attr)
        # Replace whenever the set still equals its initial value, even if a previous line put it
        # there; otherwise merge. (In 262 `~X` never gives the initial value, so a list after it merges.)
        if total == 0 or current == initial:
            new = (~total & everything) if invert else total
        elif invert:
            new = current & ~total
        else:
            new = current | total
        setattr(state, attr, new)
        state.touch(attr, a.location)
        return OK

    return handle
