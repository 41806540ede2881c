"""`text`: one `path:line:col: ID message` line per finding (ruff's concise style), grouped by file,
then a one-line summary. ANSI colours only when `info.color` (the caller checks TTY/NO_COLOR)."""

from __future__ import annotations

from unitgate import escape
from unitgate.findings import Finding, Level, RunInfo, counts
from unitgate.policy_terms import DEFAULT_SCORING

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_LEVEL_COLOR = {Level.ERROR: "\033[1;31m", Level.WARNING: "\033[1;33m", Level.NOTE: "\033[1;36m"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def line(finding: Finding, color: bool = False) -> str:
    """`path:line:col: ID message`; the column is always 1 (findings are about whole lines)."""
    where = _paint(escape.path(finding.location.path), _BOLD, color) + _paint(
        f":{finding.line}:1:", _DIM, color
    )
    rule = _paint(finding.rule, _LEVEL_COLOR[finding.effective_level], color)
    return f"{where} {rule} {escape.text(finding.message)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(findings: Sequence[Finding], info: RunInfo) -> str:
    n = counts(findings)
    units = _plural(len({(u.unit, u.path) for u in info.units}), "unit")  # once, however many models
    if info.checked_files:
        units += f" from {_plural(info.checked_files, 'file')}"
    policies = sorted({escape.text(u.policy) for u in info.units})
    policy = f"; policy: {'; '.join(policies)}" if policies else ""
    models = sorted({u.model for u in info.units if u.model.startswith("systemd-")})
    if models and models != [DEFAULT_SCORING]:  # a model other than the default: say which
        policy += f"; units scored as {', '.join(models)}"
    releases = sorted({u.podman for u in info.units if u.podman})
    if releases:  # which quadlet read the containers changes what they are judged by
        policy += f"; containers read as podman {', '.join(releases)}"
    suppressed = f", {info.suppressed} suppressed" if info.suppressed else ""
    baseline = f"\nBaseline: {escape.text(info.baseline_note)}." if info.baseline_note else ""
    if info.errors:
        parts = [_plural(n[level], level.value) for level in Level if n[level]]
        found = f"found {', '.join(parts)}" if parts else "no findings"
        errors = _plural(info.errors, "error")
        return (
            f"Not everything could be checked ({errors}, see above): {found} in {units}{suppressed}{policy}."
            f"{baseline}"
        )
    if not n[Level.ERROR] and not n[Level.WARNING]:
        notes = f" ({_plural(n[Level.NOTE], 'note')})" if n[Level.NOTE] else ""
        return f"All checks passed: {units}{notes}{suppressed}{policy}.{baseline}"
    parts = [_plural(n[level], level.value) for level in Level if n[level]]
    return f"Found {', '.join(parts)} in {units}{suppressed}{policy}.{baseline}"


def render(findings: Sequence[Finding], info: RunInfo) -> str:
    out: list[str] = []
    previous: str | None = None
    for finding in findings:
        if previous is not None and finding.location.path != previous:
            out.append("")
        previous = finding.location.path
        out.append(line(finding, info.color))
    if out:
        out.append("")
    out.append(_paint(summary(findings, info), _BOLD, info.color))
    return "\n".join(out) + "\n"
