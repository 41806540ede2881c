"""`github`: GitHub Actions workflow commands, so findings show as annotations on the diff.

    ::error file=web.service,line=3,title=UG101 required-directive-missing::web.service: ...

Escaping is what actions/toolkit's command.ts applies and actions/runner's ActionCommand.cs undoes:
in the message `%` `\\r` `\\n`; in properties also `:` and `,`. The runner keeps only 10 annotations
of each kind (error/warning/notice) per step, so past that the 10th becomes a summary annotation and
the rest are printed as plain `path:line:col:` lines in the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from unitgate import escape
from unitgate.findings import RULE_BY_ID, Finding, Level, RunInfo
from unitgate.report import text

ANNOTATIONS_PER_KIND = 10  # actions/runner _maxCountPerIssueType
_COMMAND = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTE: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    rule = RULE_BY_ID[finding.rule]
    props = {
        "file": escape.text(finding.location.path),
        "line": str(finding.line),
        "title": f"{rule.id} {rule.name}",
    }
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{_COMMAND[finding.effective_level]} {joined}::{escape_data(escape.text(finding.message))}"


def render(findings: Sequence[Finding], info: RunInfo) -> str:
    out: list[str] = []
    overflow: list[Finding] = []
    for level in Level:
        of_kind = [f for f in findings if f.effective_level is level]
        if len(of_kind) <= ANNOTATIONS_PER_KIND:
            out += [annotation(f) for f in of_kind]
            continue
        shown, rest = of_kind[: ANNOTATIONS_PER_KIND - 1], of_kind[ANNOTATIONS_PER_KIND - 1 :]
        out += [annotation(f) for f in shown]
        kind = "notice" if level is Level.NOTE else level.value
        out.append(
            f"::{_COMMAND[level]} title=unitgate::"
            + escape_data(
                f"{len(rest)} more {kind}s are not shown as annotations (GitHub keeps "
                f"{ANNOTATIONS_PER_KIND} per step); they are listed in the log of this step"
            )
        )
        overflow += rest
    # Plain lines: every value in them is escaped already; `plain_line` is the last guard that none of
    # them can be read as a workflow command.
    out += [escape.plain_line(text.line(f)) for f in sorted(overflow, key=Finding.sort_key)]
    out.append(escape.plain_line(text.summary(findings, info)))
    return "\n".join(out) + "\n"
