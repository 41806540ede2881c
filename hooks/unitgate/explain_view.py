"""`unitgate explain` for people: only the rows that cost exposure (`--failing`), the costliest first
(`--sort exposure`), and a table that fits the terminal (descriptions wrapped, long paths shortened
from the left). Text only: `--format json` stays byte-for-byte what it was.

The width is `--width`, else `$COLUMNS`, else the terminal's when stdout is one; output into a pipe
or a file keeps full-width rows (scripts and diffs see the same lines on any terminal).
"""

from __future__ import annotations

import os
import re
import shutil
import sys

from unitgate.analysis import CheckResult
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

_GAP = 2


@dataclass(frozen=True)
class View:
    width: int | None = None  # None: rows as wide as they need
    failing: bool = False  # only rows that cost exposure
    sort: str = "systemd"  # "systemd" (systemd-analyze's order) or "exposure" (costliest first)


FULL = View()


def terminal_width(given: int | None = None) -> int | None:
    if given:
        return given
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(sys.stdout, "isatty", None)
    if isatty and isatty():
        return shutil.get_terminal_size().columns
    return None


def rows(checks: Sequence[CheckResult], view: View) -> list[CheckResult]:
    chosen = [c for c in checks if c.badness] if view.failing else list(checks)
    if view.sort == "exposure":
        chosen.sort(key=lambda c: -((c.badness or 0) * c.weight) / c.range)  # stable: ties keep order
    return chosen


def _shorten(cell: str, width: int) -> str:
    if len(cell) <= width:
        return cell
    tail = cell[len(cell) - width + 1 :]
    cut = tail.find("/")
    return "…" + (tail[cut:] if 0 <= cut < len(tail) - 1 else tail)


def _wrap(cell: str, width: int) -> list[str]:
    """Greedy wrap after blanks, `=`, `|` and `/` (a directive name or a description); a piece
    longer than the width is cut."""
    pieces = [p for p in re.findall(r"[^ =|/]*[ =|/]?", cell) if p]
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current + piece.rstrip()) > width:
            lines.append(current.rstrip())
            current = ""
        while len(piece.rstrip()) > width:
            lines.append(piece[:width])
            piece = piece[width:]
        current += piece
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


# Which columns give way, in order, and how narrow they may get: DESCRIPTION wraps, then DECIDED BY
# is shortened from the left (the file name and line stay), then NAME wraps.
_SHRINK = ((2, 20, "wrap"), (4, 16, "shorten"), (1, 22, "wrap"))


def fit(table: list[list[str]], width: int) -> list[str] | None:
    """The table (header first) in at most `width` columns; None when it fits as it is."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    over = sum(widths) + _GAP * (len(widths) - 1) - width
    if over <= 0:
        return None
    # A shortened path keeps its file name and line: "…/override.conf:4".
    names = [len("…/" + r[4].rpartition("/")[2]) for r in table[1:] if "/" in r[4]]
    floor = {4: min(max(names, default=0), 40)}
    for column, minimum, _ in _SHRINK:
        cut = max(0, min(over, widths[column] - max(minimum, floor.get(column, 0))))
        widths[column] -= cut
        over -= cut
    wrapped = {column for column, _, how in _SHRINK if how == "wrap"}
    lines = []
    for r in table:
        cells = [
            _wrap(cell, widths[i]) if i in wrapped else [_shorten(cell, widths[i]) if i == 4 else cell]
            for i, cell in enumerate(r)
        ]
        for n in range(max(len(c) for c in cells)):
            parts = [c[n] if n < len(c) else "" for c in cells]
            padded = [
                p.rjust(w) if i == 3 else p.ljust(w)
                for i, (p, w) in enumerate(zip(parts, widths, strict=True))
            ]
            lines.append((" " * _GAP).join(padded).rstrip())
    return lines
