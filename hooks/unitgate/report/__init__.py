"""Output formats for findings: one module per format, each a pure `render(findings, info) -> str`.

Findings are collected and sorted before any reporter runs; reporters decide nothing, they only
render. `REPORTERS` maps a `--format` name to its render function; a format's module is imported
only when it is looked up (a run uses one format, and the hook's start-up is most of its time).
"""

from __future__ import annotations

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable, Iterator, Mapping, Sequence

from unitgate.findings import Finding, RunInfo

Render = Callable[[Sequence[Finding], RunInfo], str]

# --format name -> the module under unitgate.report that renders it.
MODULES: dict[str, str] = {"text": "text", "github": "github", "json": "json", "sarif": "sarif"}


class _Reporters(Mapping[str, Render]):
    """`REPORTERS[name]` imports that format's module on first use."""

    def __getitem__(self, name: str) -> Render:
        render: Render = __import__(f"{__name__}.{MODULES[name]}", fromlist=["render"]).render
        return render

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)


REPORTERS: Mapping[str, Render] = _Reporters()
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"  # where GitHub Actions takes a job summary (report/summary.py)
