"""`github`: GitHub Actions workflow commands, so findings show as annotations on the diff.

    ::error file=web.service,line=3,title=UG101 required-directive-missing::web.service: ...

Escaping is what actions/toolkit's command.ts applies and actions/runner's ActionCommand.cs undoes:
in the message `%` `\\r` `\\n`; in properties also `:` and `,`. The runner keeps only 10 annotations
of each kind (error/warning/notice) per step and 50 per job, so
slots are spread across units (one per unit before any unit gets a second); past the limit, one slot
says how many more there are, and the rest are printed as plain `path:line:col:` lines in the log
and listed in the job summary (report/summary.py).
"""

from __future__ import annotations

from unitgate import escape
from unitgate.findings import RULE_BY_ID, Finding, Level, RunInfo
from unitgate.report import text

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

ANNOTATIONS_PER_KIND = 10  # actions/runner _maxCountPerIssueType
ANNOTATIONS_PER_JOB = 50  # GitHub's limit for a whole job; one unitgate step stays within it
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


def _spread(findings: Sequence[Finding], limit: int) -> list[Finding]:
    """Up to `limit` findings, one per unit (or file) before any unit gets a second: one noisy legacy
    unit must not take every slot."""
    by_owner: dict[str, list[Finding]] = {}
    for f in findings:
        by_owner.setdefault(f.unit or f.location.path, []).append(f)
    picked: list[Finding] = []
    depth = 0
    while len(picked) < limit and any(len(group) > depth for group in by_owner.values()):
        for group in by_owner.values():
            if depth < len(group) and len(picked) < limit:
                picked.append(group[depth])
        depth += 1
    return picked


def select(findings: Sequence[Finding]) -> tuple[list[Finding], dict[Level, int]]:
    """The findings shown as annotations (within 10 per kind and 50 in all), and per kind how many
    are left over; a kind that overflows gives one of its slots to a note saying how many."""
    shown: list[Finding] = []
    left: dict[Level, int] = {}
    budget = ANNOTATIONS_PER_JOB
    for level in Level:
        of_kind = [f for f in findings if f.effective_level is level]
        limit = min(ANNOTATIONS_PER_KIND, budget)
        if len(of_kind) > limit:
            limit -= 1
        picked = _spread(of_kind, max(limit, 0))
        shown += picked
        budget -= len(picked)
        if len(picked) < len(of_kind):
            left[level] = len(of_kind) - len(picked)
            budget -= 1
    keep = set(map(id, shown))
    return [f for f in findings if id(f) in keep], left


def render(findings: Sequence[Finding], info: RunInfo) -> str:
    shown, left = select(findings)
    picked = set(map(id, shown))
    out = [annotation(f) for f in shown]
    for level, count in left.items():
        kind = "notice" if level is Level.NOTE else level.value
        out.append(
            f"::{_COMMAND[level]} title=unitgate::"
            + escape_data(
                f"{count} more {kind}s are not shown as annotations (GitHub keeps {ANNOTATIONS_PER_KIND} "
                f"per step, spread here across units); they are listed in the job summary and in this "
                "step's log"
            )
        )
    # Plain lines: every value in them is escaped already; `plain_line` is the last guard that none of
    # them can be read as a workflow command (the summary may hold a second line: guarded one by one).
    out += [escape.plain_line(text.line(f)) for f in findings if id(f) not in picked]
    out += [escape.plain_line(line) for line in text.summary(findings, info).split("\n")]
    return "\n".join(out) + "\n"
