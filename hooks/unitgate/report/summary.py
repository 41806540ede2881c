"""The job summary under GitHub Actions: a Markdown table appended to `$GITHUB_STEP_SUMMARY`.

One row per checked unit (exposure, maximum, findings), then every finding that is not an annotation
on the diff (GitHub keeps 10 per kind per step): nothing a run found is lost to the limits.
"""

from __future__ import annotations

import os
import re

from unitgate import escape
from unitgate.findings import Finding, RunInfo, tenths
from unitgate.report import SUMMARY_ENV, github, text

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_LISTED = 500  # findings listed in the summary (GitHub caps a step's summary at 1 MiB)


_MARKDOWN = r"([\\`*_{}\[\]()<>#+!|~])"


def _cell(value: str) -> str:
    """Repository text for a Markdown table cell: escaped (escape.text), then every Markdown and HTML
    character backslash-escaped, so a file name or value cannot add a link, an image or markup."""
    return re.compile(_MARKDOWN).sub(r"\\\1", escape.text(value))


def _code(value: str) -> str:
    """Repository text inside a `code span` of a table cell: backslash escapes do not work there, so
    backticks become quotes; `|` is escaped for the table (GFM splits cells before code spans)."""
    return escape.text(value).replace("`", "'").replace("|", "\\|")


def _item(f: Finding) -> str:
    return f"- `{_code(f.location.path)}:{f.line}` **{f.rule}** {_cell(f.message)}"


def render(findings: Sequence[Finding], info: RunInfo, annotated: bool) -> str:
    """The summary's Markdown; `annotated`: the findings were also written as annotations."""
    per_unit: dict[str, int] = {}
    for f in findings:
        if f.unit:
            per_unit[f.unit] = per_unit.get(f.unit, 0) + 1
    lines = [
        "## unitgate",
        "",
        " ".join(_cell(line) for line in text.summary(findings, info).split("\n")),
        "",
    ]
    if info.units:
        lines += ["| unit | exposure | maximum | findings |", "|---|---:|---:|---:|"]
        for u in info.units:
            exposure = tenths(u.exposure) if u.exposure is not None else "—"
            maximum = tenths(u.max_exposure) if u.max_exposure is not None else "—"
            lines.append(f"| `{_code(u.unit)}` | {exposure} | {maximum} | {per_unit.get(u.unit, 0)} |")
        lines.append("")
    shown = {id(f) for f in github.select(findings)[0]} if annotated else set()
    listed = [f for f in findings if id(f) not in shown]
    if listed:
        title = "Findings not shown as annotations" if annotated else "Findings"
        lines += [f"### {title}", ""]
        lines += [_item(f) for f in listed[:MAX_LISTED]]
        if len(listed) > MAX_LISTED:
            lines.append(f"- … and {len(listed) - MAX_LISTED} more (see the step's log)")
        lines.append("")
    return "\n".join(lines) + "\n"


def write(findings: Sequence[Finding], info: RunInfo, annotated: bool) -> None:
    """Append the summary to `$GITHUB_STEP_SUMMARY`, when it is set (GitHub Actions sets it)."""
    path = os.environ.get(SUMMARY_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(render(findings, info, annotated))
    except OSError:
        pass  # the summary is an extra; the findings are in the log and the exit code
