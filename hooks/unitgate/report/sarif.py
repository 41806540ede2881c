"""`sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

A finding about a directive gets the hierarchical rule id `UG101/NoNewPrivileges` (SARIF 3.27.5), so
each rule's help text names the directive and links its man page; every rule's helpUri is the rule's
page (docs/rules/, ruledocs.py) and `help.markdown` is that page. Each rule carries `security-severity`
(GitHub shows Critical/High/Medium/Low). Locations are URIs against `%SRCROOT%`, the repository root
(`originalUriBaseIds`), with `endLine`. The fingerprint is the baseline's (rule, unit, directive,
message without lines or numbers): moving a line keeps the alert, and a repeat within a run gets its
ordinal, so each finding's is unique. Validated against the official schema
(fixtures/sarif-2.1.0.schema.json) in the test suite.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from unitgate import escape, ruledocs
from unitgate.findings import RULE_BY_ID, Finding, Level, RunInfo, man_page, man_url, rule_url
from unitgate.gate import baseline

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTE: "note"}


def rule_id(finding: Finding) -> str:
    return f"{finding.rule}/{finding.directive}" if finding.directive else finding.rule


def page_of(sarif_id: str) -> str:
    """'podman' for findings about quadlet keys or quadlet-only rules, else 'systemd'."""
    base_id, _, directive = sarif_id.partition("/")
    page = man_page(directive) if directive else (RULE_BY_ID[base_id].man or "")
    return "podman" if page.startswith("podman") else "systemd"


def _rule(sarif_id: str) -> dict[str, Any]:
    base_id, _, directive = sarif_id.partition("/")
    rule = RULE_BY_ID[base_id]
    if directive:
        url: str | None = man_url(directive)
        page = man_page(directive)
        help_text = f"{rule.help}\n\n{directive}= is documented in {page}(5): {url}"
        short = f"{rule.summary} ({directive}=)"
        name = f"{rule.name}/{directive}"
    else:
        url = rule_url(rule)
        help_text = rule.help + (f"\n\nSee {url}" if url else "")
        short, name = rule.summary, rule.name
    descriptor: dict[str, Any] = {
        "id": sarif_id,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": rule.summary},
        "help": {"text": help_text, "markdown": ruledocs.page(base_id) + (f"\n{help_text}\n" if url else "")},
        "helpUri": ruledocs.page_url(base_id),  # the rule's page; the man page is in the help
        "defaultConfiguration": {"level": _LEVEL[rule.level]},
        "properties": {
            "tags": ["security", "podman" if page_of(sarif_id) == "podman" else "systemd"],
            # GitHub code scanning shows Critical/High/Medium/Low from this (9+, 7+, 4+, below).
            "security-severity": f"{ruledocs.DOCS[base_id].security_severity:.1f}",
        },
    }
    return descriptor


def artifact(path: str) -> dict[str, str]:
    if os.path.isabs(path):
        return {"uri": "file://" + quote(path.replace(os.sep, "/"))}
    return {"uri": quote(os.path.normpath(path).replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}


def fingerprint(finding: Finding) -> str:
    """The baseline's fingerprint: the same across line moves and unrelated edits (gate/baseline.py)."""
    return baseline.fingerprint(finding)


def _fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One per finding, unique within the run: a repeat of the same fingerprint gets its ordinal."""
    seen: Counter[str] = Counter()
    out = []
    for finding in findings:
        value = fingerprint(finding)
        out.append(value if not seen[value] else f"{value}/{seen[value]}")
        seen[value] += 1
    return out


def document(findings: Sequence[Finding], info: RunInfo) -> dict[str, Any]:
    ids = sorted({rule_id(f) for f in findings})
    index = {sarif_id: i for i, sarif_id in enumerate(ids)}
    results = []
    for finding, print_ in zip(findings, _fingerprints(findings), strict=True):
        result: dict[str, Any] = {
            "ruleId": rule_id(finding),
            "ruleIndex": index[rule_id(finding)],
            "level": _LEVEL[finding.effective_level],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact(finding.location.path),
                        "region": {"startLine": finding.line, "startColumn": 1, "endLine": finding.line},
                    }
                }
            ],
            "partialFingerprints": {"unitgate/v2": print_},
        }
        if finding.unit:
            result["properties"] = {"unit": finding.unit}
        if finding.models:
            result.setdefault("properties", {})["models"] = list(finding.models)
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "unitgate",
                        "version": info.version,
                        "semanticVersion": info.version,
                        "rules": [_rule(i) for i in ids],
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {
                        "uri": Path(baseline.repository_root()).as_uri().rstrip("/") + "/",
                        "description": {"text": "The repository root"},
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(findings: Sequence[Finding], info: RunInfo) -> str:
    return escape.json_text(json.dumps(document(findings, info), indent=2, ensure_ascii=False)) + "\n"
