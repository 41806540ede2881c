"""Output formats for findings: one module per format, each a pure `render(findings, info) -> str`.

Findings are collected and sorted before any reporter runs; reporters decide nothing, they only
render. `REPORTERS` maps a `--format` name to its render function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from unitgate.findings import Finding, RunInfo
from unitgate.report import github, json, sarif, text

Render = Callable[[Sequence[Finding], RunInfo], str]

REPORTERS: dict[str, Render] = {
    "text": text.render,
    "github": github.render,
    "json": json.render,
    "sarif": sarif.render,
}
