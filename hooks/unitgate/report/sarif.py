"""`sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

A finding about a directive gets the hierarchical rule id `UG101/NoNewPrivileges` (SARIF 3.27.5), so
each rule's help text names the directive and its helpUri is the directive's man page; other findings
use the plain rule id. Locations are repo-relative URIs against `%SRCROOT%`. The fingerprint leaves out
the line number, so moving a line does not open a new alert. Validated against the official schema
(fixtures/sarif-2.1.0.schema.json) in the test suite.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from unitgate import escape
from unitgate.findings import RULE_BY_ID, Finding, Level, RunInfo, man_page, man_url, rule_url

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
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVEL[rule.level]},
        "properties": {"tags": ["security", "podman" if page_of(sarif_id) == "podman" else "systemd"]},
    }
    if url:
        descriptor["helpUri"] = url
    return descriptor


def artifact(path: str) -> dict[str, str]:
    if os.path.isabs(path):
        return {"uri": "file://" + quote(path.replace(os.sep, "/"))}
    return {"uri": quote(os.path.normpath(path).replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}


def fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.rule, finding.unit or "", finding.directive or "", finding.location.path))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def document(findings: Sequence[Finding], info: RunInfo) -> dict[str, Any]:
    ids = sorted({rule_id(f) for f in findings})
    index = {sarif_id: i for i, sarif_id in enumerate(ids)}
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": rule_id(finding),
            "ruleIndex": index[rule_id(finding)],
            "level": _LEVEL[finding.effective_level],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact(finding.location.path),
                        "region": {"startLine": finding.line, "startColumn": 1},
                    }
                }
            ],
            "partialFingerprints": {"unitgate/v1": fingerprint(finding)},
        }
        if finding.unit:
            result["properties"] = {"unit": finding.unit}
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
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root"}}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(findings: Sequence[Finding], info: RunInfo) -> str:
    return escape.json_text(json.dumps(document(findings, info), indent=2, ensure_ascii=False)) + "\n"
