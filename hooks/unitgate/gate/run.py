"""`unitgate check`: analyse the changed files, hold each unit against its policy, report.

The pipeline is plain data: paths -> engine.analyze_paths -> UnitAnalysis per unit -> `evaluate`
(pure: one unit + its UnitPolicy -> findings; gate/units.py or gate/containers.py) -> policy `ignore`
-> inline suppressions (suppress.py) -> sorted findings -> one reporter's `render`. Exit 0 clean
(notes only), 1 findings, 2 usage/policy/input error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from unitgate import __version__, fsread, suppress
from unitgate.analysis import LoadState, UnitAnalysis
from unitgate.engine import is_quadlet, plan, run_job
from unitgate.findings import Finding, RunInfo, UnitSummary, blocking
from unitgate.gate.baseline import Baseline
from unitgate.gate.baseline import apply as apply_baseline
from unitgate.gate.baseline import load as load_baseline
from unitgate.gate.exposure import unit_exposure
from unitgate.gate.grouped import group_missing
from unitgate.gate.load import INPUT_ERRORS, is_container, load_findings
from unitgate.gate.units import evaluate_unit
from unitgate.gate.whatif import dropin_path
from unitgate.model import Location, UnitInputError
from unitgate.policy import ContainerRules, Finder, Policy, PolicyError, UnitPolicy, load_file

if TYPE_CHECKING:
    from unitgate.quadlet.engine import QuadletInspection

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def evaluate(
    analysis: UnitAnalysis, policy: UnitPolicy, inspection: QuadletInspection | None = None
) -> list[Finding]:
    """Every finding for one unit under its policy, before `ignore` and suppressions. A quadlet
    `.container` is held against `policy.container`, given its `inspection` (posture, command line)."""
    findings = load_findings(analysis)
    if analysis.state is not LoadState.LOADED:
        return findings
    if not is_container(analysis):
        return findings + evaluate_unit(analysis, policy)
    if policy.container.empty:
        findings.append(
            Finding(
                "UG902",
                Location(analysis.path, 1),
                f"{analysis.unit}: the policy ({policy.description}) has no [container] rules, so only "
                "quadlet load errors and warnings were checked; add a [container] table to check more",
                analysis.unit,
            )
        )
    elif inspection is not None:
        from unitgate.gate import containers  # podman support is loaded only when a quadlet is checked

        findings += containers.evaluate(analysis, inspection, policy.container)
    return findings


def analyze_units(paths: Sequence[str], *, podman: str | None = None) -> list[UnitAnalysis]:
    """The engine's analysis of every unit the paths reach (`podman`: the release whose quadlet reads
    `.container` files and decides which containers a drop-in reaches; None: the default)."""
    return [run_job(job) for job in plan(paths, podman=podman)]


Analyzer = Callable[..., list[UnitAnalysis]]  # like `analyze_units`


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    info: RunInfo
    suppressed: tuple[Finding, ...] = field(default=())
    checked: tuple[tuple[UnitAnalysis, UnitPolicy], ...] = field(default=())  # each unit and its policy

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if blocking(self.findings) else EXIT_OK


Inspector = Callable[[UnitAnalysis, ContainerRules], "QuadletInspection | None"]


def _default_inspector(analysis: UnitAnalysis, rules: ContainerRules) -> QuadletInspection | None:
    """The posture and command line of a `.container` the engine analysed, read again as the policy
    says (`[container]` podman release, rootless setting or patterns, scoring model), keeping the path
    the user gave and the wrapper's score."""
    from unitgate.quadlet import inspect_container

    fragment = analysis.fragment
    if fragment is None or not fragment.endswith(".container") or not os.path.isfile(fragment):
        return None
    inspection = inspect_container(
        fragment,
        rootless=rules.rootless,
        podman=rules.podman,
        rootless_paths=rules.rootless_paths,
        base=rules.rootless_base,
        model=rules.model,
    )
    return replace(
        inspection, analysis=replace(inspection.analysis, path=analysis.path, wrapper=analysis.wrapper)
    )


def check(
    paths: Sequence[str],
    *,
    policy_file: str | None = None,
    analyze: Analyzer = analyze_units,
    inspect: Inspector | None = None,
    color: bool = False,
    podman: str | None = None,
    grouped: bool = True,
    baseline: Baseline | None = None,
) -> Result:
    """Analyse `paths` and hold every affected unit against its policy. `podman` ("5.4", "5.8")
    overrides the policies' `[container] podman`. Raises PolicyError, or UnitInputError for exit-2
    conditions."""
    for path in paths:
        if not os.path.lexists(path):
            raise UnitInputError(Location(path), "no such file")
    fixed_policy = load_file(policy_file) if policy_file else None
    finder = Finder()
    inspect = inspect or _default_inspector

    def policy_for(path: str) -> Policy:
        return fixed_policy or finder.for_path(path)

    def container_rules(unit_policy: UnitPolicy) -> ContainerRules:
        rules = unit_policy.container
        return rules if podman is None else replace(rules, podman=podman)

    # Units first, then quadlets, each in the order given (the summary lists them so); quadlets per
    # podman release, which decides the containers a drop-in reaches.
    systemd_paths = [p for p in paths if not is_quadlet(p)]
    by_release: dict[str | None, list[str]] = {}
    for given in paths:
        if is_quadlet(given):
            by_release.setdefault(podman or policy_for(given).container.podman, []).append(given)
    analyses = [
        *(analyze(systemd_paths) if systemd_paths else []),
        *(a for release, group in by_release.items() for a in analyze(group, podman=release)),
    ]

    for analysis in analyses:
        for diagnostic in analysis.diagnostics:
            if diagnostic.code in INPUT_ERRORS:
                raise UnitInputError(diagnostic.location, diagnostic.message)
    findings: list[Finding] = []
    summaries: list[UnitSummary] = []
    sources_of: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    checked: list[UnitAnalysis] = []
    pairs: list[tuple[UnitAnalysis, UnitPolicy]] = []
    for analysis in analyses:
        if analysis.unit in seen:
            continue  # each unit once, even when several changed files reach it
        seen.add(analysis.unit)
        unit_policy = policy_for(analysis.path).for_unit(analysis.unit)
        container = is_container(analysis)
        inspection = None
        if container:
            rules = container_rules(unit_policy)
            unit_policy = replace(unit_policy, container=rules)
            inspection = inspect(analysis, rules)
            if inspection is not None:
                analysis = inspection.analysis
        checked.append(analysis)
        pairs.append((analysis, unit_policy))
        sources_of[analysis.unit] = analysis.sources
        unit_findings = evaluate(analysis, unit_policy, inspection)
        if inspection is not None:
            unit_findings += _declared_mode(analysis, inspection, unit_policy.container)
        findings += [
            f for f in unit_findings if not unit_policy.ignores(f.rule, f.directive, container=container)
        ]
        if container:
            from unitgate.gate import container_advice

            exposure = container_advice.exposure(analysis, unit_policy.container)
            maximum = unit_policy.container.max_exposure
        else:
            exposure, maximum = unit_exposure(analysis, unit_policy), unit_policy.max_exposure
        summaries.append(
            UnitSummary(
                analysis.unit,
                analysis.path,
                analysis.state.value,
                exposure,
                maximum,
                unit_policy.description,
                analysis.model,
                podman=inspection.release.name if inspection is not None else None,
                mode=inspection.mode.text if inspection is not None and inspection.mode else None,
            )
        )
    analyses = checked

    files = list(dict.fromkeys([*paths, *(s for a in analyses for s in a.sources)]))
    by_file: dict[str, list[suppress.Suppression]] = {}
    for file in files:
        text = _read_text(file)
        if text is None:
            continue
        suppressions, broken = suppress.parse(file, text)
        by_file[file] = suppressions
        file_policy = policy_for(file).for_unit("")
        findings += [f for f in broken if not file_policy.ignores(f.rule, None)]
    applied = suppress.apply(findings, by_file, sources_of)
    # An unused suppression is reported only where every finding it could match was computed: in a
    # changed file, or in the base unit of a checked unit (a shared drop-in may serve unchecked units).
    owned = set(paths) | {a.fragment for a in analyses if a.fragment}
    unused = [
        suppress.unused_finding(s)
        for s in applied.unused
        if s.location.path in owned and not policy_for(s.location.path).for_unit("").ignores("UG402", None)
    ]
    final = sorted(dict.fromkeys((*applied.kept, *unused)), key=Finding.sort_key)
    baselined = None
    if baseline is not None:
        exposures = {s.unit: s.exposure for s in summaries}
        baselined = apply_baseline(baseline, final, [(a, exposures.get(a.unit)) for a in checked])
        final = list(baselined.kept)
    if grouped:
        final = group_missing(final, {a.unit: p for a in analyses if (p := dropin_path(a))})
    info = RunInfo(
        version=__version__,
        units=tuple(summaries),
        files=tuple(paths),
        color=color,
        suppressed=len(applied.suppressed),
        baselined=baselined.baselined if baselined else 0,
        baseline_note=baselined.note if baselined else "",
    )
    return Result(tuple(final), info, applied.suppressed, tuple(pairs))


def _declared_mode(
    analysis: UnitAnalysis, inspection: QuadletInspection, rules: ContainerRules
) -> list[Finding]:
    """A note when the policy, not the file's location, decided rootful or rootless (UG903): the
    reading changes the score, so the output says which declaration applied."""
    from unitgate.quadlet.engine import rootless_match

    mode = inspection.mode
    if mode is None or analysis.fragment is None:
        return []
    if rules.rootless is not None:
        why = f"the policy sets [container] rootless = {'true' if rules.rootless else 'false'}"
    else:
        pattern = rootless_match(analysis.fragment, rules.rootless_paths, rules.rootless_base)
        if pattern is None:
            return []
        why = f"its path matches the policy's rootless pattern {pattern!r}"
    kind = "rootless" if mode.rootless else "rootful"
    podman = f"podman {inspection.release.reference}"
    message = f"{analysis.unit}: read as a {kind} quadlet of {podman}: {why}"
    return [Finding("UG903", Location(analysis.path, 1), message, analysis.unit)]


def _read_text(path: str) -> str | None:
    """A source's text for its suppression comments, through the same confined, bounded reader as the
    engine: a file the engine refused (outside the repository, a FIFO, a device) is never opened here."""
    try:
        return fsread.read_confined(path, fsread.boundary_for(path)).decode("utf-8", errors="replace")
    except fsread.Refused:
        return None


def use_color(stream: object = None) -> bool:
    """Colour only on a terminal; NO_COLOR turns it off, FORCE_COLOR on (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream or sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def run(ns: argparse.Namespace) -> int:
    """The `unitgate check` subcommand."""
    from unitgate.report import REPORTERS, summary

    fmt = ns.format or default_format()
    if not ns.paths:
        print("unitgate: no files to check", file=sys.stderr)
        return EXIT_OK
    try:
        baseline = load_baseline(ns.baseline, ns.update_baseline)
        result = check(
            ns.paths,
            policy_file=ns.policy,
            color=fmt == "text" and use_color(),
            baseline=baseline,
            podman=getattr(ns, "podman", None),
        )
    except PolicyError as exc:
        print(f"unitgate: policy error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except UnitInputError as exc:
        print(f"unitgate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    rendered = REPORTERS[fmt](result.findings, result.info)
    if not emit(rendered, ns.output):
        return EXIT_ERROR
    summary.write(result.findings, result.info, annotated=fmt == "github")
    return EXIT_OK if ns.exit_zero else result.exit_code


def emit(rendered: str, output: str | None) -> bool:
    """The report to stdout, or to `--output FILE` (e.g. SARIF for an upload step)."""
    if output is None:
        sys.stdout.write(rendered)
        sys.stdout.flush()
        return True
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(rendered)
    except OSError as exc:
        print(f"unitgate: error: {output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True
