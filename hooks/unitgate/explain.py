"""`unitgate explain`: systemd-analyze's security table, plus the line that decided each row."""

from __future__ import annotations

import json
import sys
from functools import partial

from unitgate import escape
from unitgate.analysis import CheckResult, LoadState, UnitAnalysis
from unitgate.engine import Job, plan, run_job
from unitgate.explain_view import FULL, View, fit, rows, terminal_width
from unitgate.model import Diagnostic, Location
from unitgate.parallel import map_ordered
from unitgate.records import replace
from unitgate.security.score import CheckRows, check_head, format_tenths, rating_for

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

_ANALYSED = (LoadState.LOADED, LoadState.MASKED, LoadState.SKIPPED)


def run(ns: argparse.Namespace) -> int:
    paths = list(ns.paths)
    if getattr(ns, "files_from", None):
        from unitgate.gate.changes import read_list  # only for lists: keeps start-up light
        from unitgate.model import SelectionError

        try:
            paths += read_list(ns.files_from)
        except SelectionError as exc:
            from unitgate.gate.command import input_error  # the one spelling of a run-stopping error

            return input_error(exc)
    if not paths:
        print("unitgate: error: explain needs a PATH or --files-from", file=sys.stderr)
        return 2
    view = View(
        terminal_width(getattr(ns, "width", None)),
        getattr(ns, "failing", False),
        getattr(ns, "sort", "systemd"),
    )
    render = partial(_render_one, ns.format, _stdout_is_utf8(), view)
    json_out = ns.format == "json"
    ok = True
    out = sys.stdout.write
    # Written unit by unit, as results arrive: thousands of units make tens of megabytes of JSON. The
    # array is closed on every way out (an error in one unit included), so stdout is always one valid
    # JSON document; the exit code (2 for an internal error) says whether it is complete.
    out("[" if json_out else "")
    try:
        jobs = plan(paths, ns.scoring, podman=getattr(ns, "podman", None))
        for index, (text, analysed, diagnostics) in enumerate(map_ordered(render, jobs)):
            out(("," if index else "") + "\n" + text if json_out else ("\n" if index else "") + text)
            if diagnostics and not json_out:
                print(diagnostics, file=sys.stderr)
            ok &= analysed
    finally:
        out("\n]\n" if json_out else "")
    return 0 if ok else 1


def _render_one(fmt: str, utf8: bool, view: View, job: Job) -> tuple[str, bool, str]:
    """One unit, analysed and rendered (in a worker process for large runs): text, analysed?, stderr."""
    r = run_job(job)
    text = escape.json_text(unit_json_text(r)) if fmt == "json" else render_unit_text(r, utf8, view)
    shown = (escape.path(escape.bounded(str(d), escape.MESSAGE_LIMIT)) for d in r.diagnostics)
    return text, r.state in _ANALYSED, "\n".join(shown)


def _stdout_is_utf8() -> bool:
    return (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") == "utf8"


def _tenths(value: int | None) -> float | None:
    return None if value is None else round(value / 10, 1)


def check_json(c: CheckResult) -> dict[str, Any]:
    return {
        **check_head(c),
        "source": None if c.source is None else str(c.source),
        "directives": list(c.directives),
    }


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "file": d.location.path,
        "line": d.location.line,
        "severity": d.severity.value,
        "code": d.code,
        "message": d.message,
    }


def unit_json(r: UnitAnalysis) -> dict[str, Any]:
    out: dict[str, Any] = {
        "unit": r.unit,
        "path": r.path,
        "state": r.state.value,
        "model": r.model,
        "exposure": _tenths(r.exposure),
        "rating": r.rating,
        "sources": list(r.sources),
        "checks": [check_json(c) for c in r.checks],
        "diagnostics": [diagnostic_json(d) for d in r.diagnostics],
    }
    if r.wrapper is not None:
        out["wrapper"] = unit_json(r.wrapper)
    return out


def unit_json_text(r: UnitAnalysis) -> str:
    """unit_json(r) encoded, as ASCII (non-ASCII escaped), which keeps joining and writing megabytes
    cheap; rows come pre-encoded from the scorer when it can (thousands of units)."""
    if not isinstance(r.checks, CheckRows):
        return json.dumps(unit_json(r))
    data = unit_json(replace(r, checks=()))
    diagnostics = json.dumps(data.pop("diagnostics"))
    wrapper = data.pop("wrapper", None)
    head = json.dumps(data)[:-1].replace('"checks": []', '"checks": ' + r.checks.json_text(), 1)
    tail = "" if wrapper is None else ', "wrapper": ' + json.dumps(wrapper)
    return f'{head}, "diagnostics": {diagnostics}{tail}}}'


def render_json(results: Sequence[UnitAnalysis]) -> str:
    return json_array([unit_json_text(r) for r in results])


def json_array(units: Sequence[str]) -> str:
    """One unit per line: readable, and the C encoder (no indent) keeps thousands of units fast."""
    body = ",\n".join(units)
    return f"[\n{body}\n]\n" if units else "[]\n"


_HEADER = ["", "NAME", "DESCRIPTION", "EXPOSURE", "DECIDED BY"]


def _row_cells(c: CheckResult, utf8: bool) -> list[str]:
    """A row's cells before DECIDED BY: the same for every unit with the same settings."""
    good = None if c.badness is None else c.badness == 0  # CheckResult.set, read once
    mark = "" if good is None else (("✓" if good else "✗") if utf8 else ("+" if good else "-"))
    exposure = "" if c.exposure is None else format_tenths(c.exposure)
    return [mark, c.name, c.description or "", exposure]


def _source_cell(source: Location | None) -> str:
    return escape.text(str(source)) if source else "(default)"


def _row_text(c: CheckResult, utf8: bool) -> list[str]:
    return [*_row_cells(c, utf8), _source_cell(c.source)]


def _padded_heads(utf8: bool, checks: Sequence[CheckResult]) -> tuple[str, ...]:
    """The header and every row up to DECIDED BY, padded as render_table pads them: the last column
    needs no padding (lines are right-stripped), so the rest is shared by units with the same rows."""
    table = [_HEADER[:4], *(_row_cells(c, utf8) for c in checks)]
    w0, w1, w2, w3 = (max(map(len, column)) for column in zip(*table, strict=True))
    return tuple(f"{a.ljust(w0)}  {b.ljust(w1)}  {c.ljust(w2)}  {d.rjust(w3)}  " for a, b, c, d in table)


def _full_table(checks: CheckRows, utf8: bool) -> str:
    """render_table() of every row in systemd's order, from the padded cells the units share."""
    heads = checks.shared(("text-table", utf8), partial(_padded_heads, utf8))
    cells: dict[Location | None, str] = {}  # a unit's rows share a few deciding lines
    lines = [(heads[0] + _HEADER[4]).rstrip()]
    for head, source in zip(heads[1:], checks.sources(), strict=True):
        cell = cells.get(source)
        if cell is None:
            cell = cells[source] = _source_cell(source)
        lines.append((head + cell).rstrip())
    return "\n".join(lines)


def render_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        pairs = enumerate(zip(r, widths, strict=True))
        cells = [cell.rjust(w) if i == 3 else cell.ljust(w) for i, (cell, w) in pairs]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_unit_text(r: UnitAnalysis, utf8: bool, view: View = FULL) -> str:
    unit = escape.path(r.unit)  # a name from the repository; the first thing on its line
    systemd_model = r.model.startswith("systemd-")
    title = unit if systemd_model else f"{unit} (container, scoring model {r.model})"
    if r.state is not LoadState.LOADED or r.exposure is None:
        reason = {
            LoadState.MASKED: "is masked (empty file or symlink to /dev/null): not scored",
            LoadState.SKIPPED: "is not scored by itself",
            LoadState.NOT_FOUND: "was not found",
            LoadState.ERROR: "cannot be loaded (systemd would refuse it: see the errors above)",
            LoadState.BAD_SETTING: "has a setting systemd refuses (see the errors above): not scored",
        }[r.state]
        return f"{title} {reason}\n"
    if isinstance(r.checks, CheckRows) and view.width is None and not view.failing and view.sort == "systemd":
        body = _full_table(r.checks, utf8)  # the common case (a pipe, a file), thousands of units
    else:
        table = [_row_text(c, utf8) for c in rows(r.checks, view)]
        fitted = fit([_HEADER, *table], view.width) if view.width else None
        body = "\n".join(fitted) if fitted is not None else render_table(table, _HEADER)
    rating = rating_for(r.exposure)
    arrow = "→" if utf8 else "->"
    glyph = rating.glyph if utf8 else rating.ascii_glyph
    sources = "".join(f"  {escape.path(s)}\n" for s in r.sources)
    level = f"{format_tenths(r.exposure)} {r.rating} {glyph}"
    text = f"{body}\n\n{arrow} Overall exposure level for {unit}: {level}\n"
    if not systemd_model:
        text = f"{title}\n{text}"
    text += f"  merged from:\n{sources}"
    if systemd_model:
        text += f"  scoring model: {r.model}\n"
    w = r.wrapper
    if w is not None and w.exposure is not None:
        text += (
            f"  the generated wrapper service {escape.text(w.unit)} scores {format_tenths(w.exposure)} "
            f"{w.rating} "
            "with systemd's model (this constrains podman, not the container)\n"
        )
    return text


def render_text(results: Sequence[UnitAnalysis], utf8: bool = True) -> str:
    return "\n".join(render_unit_text(r, utf8) for r in results)
