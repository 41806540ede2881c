"""A unit as it would be with one more drop-in: where `unitgate fix` writes, and the re-score
before anything is written (the engine loads the unit with the drop-in overlaid, not on disk)."""

from __future__ import annotations

import os

from unitgate.analysis import UnitAnalysis
from unitgate.engine import load_unit, resolve
from unitgate.parse.dropins import normalize

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_NAME = "50-unitgate.conf"
WHATIF_NAME = "~~unitgate-every-finding-fixed.conf"  # sorts after any drop-in name


def section_of(analysis: UnitAnalysis) -> str:
    """The section a drop-in's lines go in: [Container] for a quadlet, else the unit type's."""
    if analysis.model != "systemd-252" or (analysis.fragment or "").endswith(".container"):
        return "Container"
    suffix = analysis.unit.rpartition(".")[2]
    return suffix.capitalize()


def dropin_path(analysis: UnitAnalysis, name: str = DEFAULT_NAME) -> str | None:
    """`<dir>/<unit file>.d/<name>` beside the unit's own file (a template's drop-in for an
    instance); None when the unit has no file in the repository."""
    if analysis.fragment is None:
        return None
    return f"{analysis.fragment}.d/{name}"


def read_existing(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""


def dropin_text(section: str, lines: Sequence[str], existing: str = "") -> str:
    """The drop-in with `lines` added to what it already holds (a drop-in of ours may exist)."""
    body = "\n".join(lines) + "\n"
    if existing.strip():
        return existing.rstrip("\n") + f"\n\n[{section}]\n" + body
    return f"[{section}]\n" + body


def with_dropin(analysis: UnitAnalysis, text: str, name: str = DEFAULT_NAME) -> UnitAnalysis | None:
    """The unit re-loaded with the drop-in `name` holding `text` (replacing one of that name);
    None when the unit cannot be re-loaded from its files (e.g. not a systemd unit on disk)."""
    where = dropin_path(analysis, name)
    if where is None or section_of(analysis) == "Container" or not os.path.exists(analysis.path):
        return None
    # resolve(), not plan(): plan() starts a new run and would drop the run's directory listings.
    targets, _ = resolve(analysis.path)
    target = next((t for t in targets if t.unit == analysis.unit), None)
    if target is None:
        return None
    result = load_unit(target, {normalize(where): text.encode()})
    return result if result.exposure is not None else None
