"""`json`: one document with a stable, versioned shape (`"version": 1`), whatever the findings.

Adding keys keeps version 1; renaming or removing one makes version 2.
"""

from __future__ import annotations

import json

from unitgate import escape, ruledocs
from unitgate.findings import RULE_BY_ID, Finding, Level, RunInfo, counts, man_url, rule_url

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

FORMAT_VERSION = 1


def _exposure(value: int | None) -> float | None:
    return None if value is None else value / 10


def finding_dict(finding: Finding) -> dict[str, Any]:
    rule = RULE_BY_ID[finding.rule]
    return {
        "rule": rule.id,
        "name": rule.name,
        "level": finding.effective_level.value,
        "path": finding.location.path,
        "line": finding.line,
        "column": 1,
        "unit": finding.unit,
        "directive": finding.directive,
        "message": finding.message,
        "url": man_url(finding.directive) if finding.directive else rule_url(rule),
        "models": list(finding.models),  # the scoring models the finding holds under
        "rule_url": ruledocs.page_url(rule.id),
    }


def document(findings: Sequence[Finding], info: RunInfo) -> dict[str, Any]:
    n = counts(findings)
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "unitgate", "version": info.version},
        "summary": {
            "errors": n[Level.ERROR],
            "warnings": n[Level.WARNING],
            "notes": n[Level.NOTE],
            "suppressed": info.suppressed,
            "baselined": info.baselined,
            "units": len({(u.unit, u.path) for u in info.units}),  # a unit once, however many models
            "passed": not (n[Level.ERROR] or n[Level.WARNING]),
        },
        "units": [
            {
                "unit": u.unit,
                "path": u.path,
                "state": u.state,
                "exposure": _exposure(u.exposure),
                "max_exposure": _exposure(u.max_exposure),
                "policy": u.policy,
                "model": u.model,
                "podman": u.podman,
                "mode": u.mode,
            }
            for u in info.units
        ],
        "findings": [finding_dict(f) for f in findings],
    }


def render(findings: Sequence[Finding], info: RunInfo) -> str:
    return escape.json_text(json.dumps(document(findings, info), indent=2, ensure_ascii=False)) + "\n"
