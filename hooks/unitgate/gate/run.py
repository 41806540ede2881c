"""`unitgate check`: analyse the changed files, hold each unit against its policy, report.

The pipeline is plain data: paths -> engine.analyze_paths -> UnitAnalysis per unit -> `evaluate`
(pure: one unit + its UnitPolicy -> findings; gate/units.py or gate/containers.py) -> policy `ignore`
-> inline suppressions (suppress.py) -> sorted findings -> one reporter's `render`. Exit 0 clean
(notes only), 1 findings, 2 usage/policy/input error.
"""

from __future__ import annotations

import os

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable, Iterator, Sequence

from unitgate import __version__, escape, fsread, suppress
from unitgate.analysis import LoadState, UnitAnalysis
from unitgate.engine import Job, is_dropin, is_quadlet, iter_plan, plan, run_job
from unitgate.findings import Finding, Level, RunInfo, UnitSummary, blocking
from unitgate.gate.batch import FileScan, UnitOutcome, map_units, scan_file
from unitgate.gate.exposure import unit_exposure
from unitgate.gate.grouped import group_missing
from unitgate.gate.load import is_container, load_findings
from unitgate.gate.units import evaluate_unit
from unitgate.gate.whatif import dropin_path
from unitgate.model import Location
from unitgate.policy import (
    DEFAULT_SCORING,
    SYSTEMD_MODELS,
    ContainerRules,
    Policy,
    PolicyError,
    UnitPolicy,
    load_file,
)
from unitgate.policy_find import Finder
from unitgate.records import dataclass, field, replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from unitgate.gate.baseline import Baseline
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


def analyze_units(
    paths: Sequence[str], *, model: str = DEFAULT_SCORING, podman: str | None = None
) -> list[UnitAnalysis]:
    """The engine's analysis of every unit the paths reach, scored with the systemd `model`
    (`podman`: the release whose quadlet reads `.container` files and decides which containers a
    drop-in reaches; None: the default)."""
    return [run_job(job) for job in plan(paths, model=model, podman=podman)]


Analyzer = Callable[..., list[UnitAnalysis]]  # like `analyze_units`


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    info: RunInfo
    suppressed: tuple[Finding, ...] = field(default=())
    checked: tuple[tuple[UnitAnalysis, UnitPolicy], ...] = field(default=())  # each unit and its policy
    errors: tuple[str, ...] = ()  # what could not be checked at all (a missing path, a broken policy)

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if blocking(self.findings) else EXIT_OK


FINDINGS_PER_FILE = 100  # shown per file; the rest are counted in one UG903 finding


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
    scoring: str | None = None,
    grouped: bool = True,
    baseline: Baseline | None = None,
    keep: bool = True,
) -> Result:
    """Analyse `paths` and hold every affected unit against its policy, on each of the policy's
    systemd scoring models. `scoring` ("systemd-257") overrides the policies' `scoring`, `podman`
    ("5.4", "5.8") their `[container] podman`. Raises PolicyError for a `policy_file` that cannot be
    used. Everything else is per file: a path that does not exist, or a discovered policy that cannot
    be used, is an error in `Result.errors` (exit 2) and the other files are still checked; a file that
    cannot be read is a UG308 finding for that file. `keep`: return each unit's analysis and policy in
    `Result.checked` (a baseline needs them too); without, a large run streams over forked workers
    (gate/batch.py), keeping only what the report needs."""
    keep = keep or baseline is not None
    errors = [f"error: {p}: no such file" for p in paths if not os.path.lexists(p)]
    paths = [p for p in paths if os.path.lexists(p)]
    fixed_policy = load_file(policy_file) if policy_file else None
    finder = Finder()
    inspect = inspect or _default_inspector
    broken_policies: dict[str, str] = {}

    def policy_for(path: str) -> Policy | None:
        if fixed_policy is not None:
            return fixed_policy
        try:
            return finder.for_path(path)
        except PolicyError as exc:
            broken_policies.setdefault(exc.path, str(exc))
            return None

    def file_policy(path: str) -> UnitPolicy | None:
        policy = policy_for(path)
        return None if policy is None else policy.for_unit("")

    def models_for(path: str) -> tuple[str, ...]:
        policy = policy_for(path)
        return (scoring,) if scoring else (policy.scoring if policy is not None else (DEFAULT_SCORING,))

    def container_rules(unit_policy: UnitPolicy) -> ContainerRules:
        rules = unit_policy.container
        return rules if podman is None else replace(rules, podman=podman)

    # Units first (once per scoring model, oldest release first), then quadlets (per podman release,
    # which decides the containers a drop-in reaches), each in the order given.
    by_model: dict[str, list[str]] = {}
    by_release: dict[str | None, list[str]] = {}
    # A unit is judged once, under the first given path that reaches it: unit files go before drop-ins,
    # so its findings are about its own file whatever the order (a directory lists `grp-.service.d/`
    # before `grp-web.service`, and `check DIR` must say what `check` of its files says).
    for given in sorted(paths, key=is_dropin):
        if is_quadlet(given):
            policy = policy_for(given)
            release = podman or (policy.container.podman if policy is not None else None)
            by_release.setdefault(release, []).append(given)
        else:
            for model in models_for(given):
                by_model.setdefault(model, []).append(given)

    # With the engine's own analyzer each unit is loaded where it is judged (gate/batch.py): in
    # forked workers for large runs, keeping only what the report needs; the plan is drawn lazily,
    # so the workers judge the first units while the rest are still being resolved.
    def planned() -> Iterator[tuple[Job, str | None]]:
        for model in SYSTEMD_MODELS:
            if model in by_model:
                group = by_model[model]
                units = (
                    iter_plan(group, model=model) if analyze is analyze_units else analyze(group, model=model)
                )
                yield from ((job, model) for job in units)
        for release, group in by_release.items():
            units = (
                iter_plan(group, model=DEFAULT_SCORING, podman=release)
                if analyze is analyze_units
                else analyze(group, podman=release)
            )
            yield from ((job, None) for job in units)

    def judge(item: tuple[Job, str | None]) -> UnitOutcome:
        job, model = item
        analysis = run_job(job)
        if model is not None and analysis.model != model:
            analysis = replace(analysis, model=model)  # results that needed no loading
        root_key = (analysis.unit, os.path.realpath(analysis.fragment or analysis.path))
        key = (*root_key, analysis.model)
        try:
            policy = fixed_policy or finder.for_path(analysis.path)
        except PolicyError as exc:
            return UnitOutcome(key, broken_policy=(exc.path, str(exc)))  # as policy_for records it
        unit_policy = policy.for_unit(analysis.unit)
        container = is_container(analysis)
        inspection = None
        if container:
            held_to = container_rules(unit_policy)
            unit_policy = replace(unit_policy, container=held_to)
            inspection = inspect(analysis, held_to)
            if inspection is not None:
                analysis = inspection.analysis
        unit_findings = evaluate(analysis, unit_policy, inspection)
        if inspection is not None:
            unit_findings += _declared_mode(analysis, inspection, unit_policy.container)
        kept_findings = [
            replace(f, models=(analysis.model,))
            for f in unit_findings
            if not unit_policy.ignores(f.rule, f.directive, container=container)
        ]
        if container:
            from unitgate.gate import container_advice

            exposure = container_advice.exposure(analysis, unit_policy.container)
            maximum = unit_policy.container.max_exposure
        else:
            exposure, maximum = unit_exposure(analysis, unit_policy), unit_policy.max_exposure
        summary = UnitSummary(
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
        return UnitOutcome(
            key,
            sources=analysis.sources,
            fragment=analysis.fragment,
            findings=tuple(kept_findings),
            summary=summary,
            dropin=dropin_path(analysis),
            container=container,
            kept=(analysis, unit_policy) if keep else None,
            scans=scan_new((analysis.path, *analysis.sources)),
        )

    # The files a unit was built from are read for their suppression comments where the unit was
    # judged (in a worker, beside the engine's reading of them), each once per process.
    scanned: set[str] = set()

    def scan_new(files: Sequence[str]) -> tuple[FileScan, ...]:
        new = [f for f in dict.fromkeys(files) if f not in scanned]
        scanned.update(new)
        return tuple(scan_file(f, file_rules, _read_text) for f in new)

    def file_rules(path: str) -> Policy:
        return fixed_policy or finder.for_path(path)

    findings: list[Finding] = []
    per_unit: list[tuple[list[Finding], tuple[str, ...]]] = []
    summaries: list[UnitSummary] = []
    # A unit is its name *in its root*: two x.service in different roots are two units, both checked;
    # once per scoring model, its findings gathered in one entry of `per_unit`.
    entry_of: dict[tuple[str, str], int] = {}
    seen: set[tuple[str, str, str]] = set()
    pairs: list[tuple[UnitAnalysis, UnitPolicy]] = []
    judged: list[tuple[str, str, bool]] = []  # unit, path as given, container?
    sources_seen: list[str] = []
    fragments: set[str] = set()
    dropins_of: dict[str, str] = {}
    scans: dict[str, FileScan] = {}
    for outcome in map_units(judge, planned(), parallel=not keep):
        for scan in outcome.scans:
            scans.setdefault(scan.path, scan)
        if outcome.key in seen:
            continue  # each unit once per model, even when several changed files reach it
        seen.add(outcome.key)
        if outcome.broken_policy is not None:
            broken_policies.setdefault(*outcome.broken_policy)
            continue
        assert outcome.summary is not None
        root_key = (outcome.key[0], outcome.key[1])
        if root_key in entry_of:  # the same unit on another scoring model
            per_unit[entry_of[root_key]][0].extend(outcome.findings)
        else:
            entry_of[root_key] = len(per_unit)
            per_unit.append((list(outcome.findings), outcome.sources))
        summaries.append(outcome.summary)
        judged.append((outcome.summary.unit, outcome.summary.path, outcome.container))
        sources_seen += outcome.sources
        if outcome.fragment:
            fragments.add(outcome.fragment)
        if outcome.dropin:
            dropins_of[outcome.summary.unit] = outcome.dropin
        if outcome.kept is not None:
            pairs.append(outcome.kept)
    checked = [a for a, _ in pairs]
    multi = {unit for unit, path, container in judged if not container and len(models_for(path)) > 1}
    if multi:
        per_unit = [(_per_model(unit_findings, multi), sources) for unit_findings, sources in per_unit]
    else:  # one model each: only repeated findings to drop (as _per_model does)
        per_unit = [(list(dict.fromkeys(unit_findings)), sources) for unit_findings, sources in per_unit]

    files = list(dict.fromkeys([*paths, *sources_seen]))
    by_file: dict[str, list[suppress.Suppression]] = {}
    reals: set[str] = set()
    for file in files:  # most were scanned where their units were judged
        scan = scans.get(file) or scan_file(file, file_rules, _read_text)
        reals.add(scan.real)
        if not scan.readable:
            continue
        if scan.policy_error is not None:  # for every file read: a broken policy over it is reported
            broken_policies.setdefault(*scan.policy_error)
        by_file[file] = list(scan.suppressions)
        findings += scan.broken
    # Suppressions apply unit by unit (a file-wide one to every unit the file is part of); one is
    # unused only when no unit used it.
    every = [s for suppressions in by_file.values() for s in suppressions]
    used: set[suppress.Suppression] = set()
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for unit_findings, sources in [*per_unit, (findings, ())]:
        if not unit_findings:
            continue
        unit = next((f.unit for f in unit_findings if f.unit), "")
        # Only the files this unit's findings can be suppressed from (its sources, the findings' own
        # files): handing every file of a large run to each unit would make the run quadratic.
        relevant = {
            f: by_file[f] for f in (*sources, *(f.location.path for f in unit_findings)) if f in by_file
        }
        applied = suppress.apply(unit_findings, relevant, {unit: sources} if unit else {})
        kept += applied.kept
        suppressed += applied.suppressed
        used |= {s for group in relevant.values() for s in group} - set(applied.unused)
    # An unused suppression is reported only where every finding it could match was computed: in a
    # changed file, or in the base unit of a checked unit (a shared drop-in may serve unchecked units).
    owned = set(paths) | fragments
    unused = []
    for s in dict.fromkeys(every):
        rules = file_policy(s.location.path)
        if (
            s not in used
            and s.location.path in owned
            and rules is not None
            and not rules.ignores("UG402", None)
        ):
            unused.append(suppress.unused_finding(s))
    final = sorted(dict.fromkeys((*kept, *unused)), key=Finding.sort_key)
    baselined = None
    if baseline is not None:
        from unitgate.gate.baseline import apply as apply_baseline  # only with a baseline
        from unitgate.gate.baseline import exposures_of

        exposures = exposures_of(summaries)
        baselined = apply_baseline(baseline, final, [(a, exposures.get((a.unit, a.path))) for a in checked])
        final = list(baselined.kept)
    if grouped:
        final = group_missing(final, dropins_of)
    final = [_shown_models(f) if f.unit in multi and f.models else f for f in final]
    final = cap_per_file(final)
    info = RunInfo(
        version=__version__,
        units=tuple(summaries),
        files=tuple(paths),
        color=color,
        suppressed=len(suppressed),
        checked_files=len(reals),
        baselined=baselined.baselined if baselined else 0,
        baseline_note=baselined.note if baselined else "",
    )
    errors += [f"policy error: {message}" for message in broken_policies.values()]
    info = replace(info, errors=len(errors))
    return Result(tuple(final), info, tuple(suppressed), tuple(pairs), tuple(errors))


def cap_per_file(findings: Sequence[Finding], limit: int = FINDINGS_PER_FILE) -> list[Finding]:
    """At most `limit` findings per file, each message bounded; past that, one UG903 finding counts the
    rest by rule and takes the most severe level among them, so the exit code does not change. Keeps
    the output (and a SARIF document's size) bounded whatever one file holds."""
    out: list[Finding] = []
    rest: dict[str, list[Finding]] = {}
    shown: dict[str, int] = {}
    for f in findings:
        path = f.location.path
        if shown.get(path, 0) < limit - 1:
            shown[path] = shown.get(path, 0) + 1
            message = escape.bounded(f.message, escape.MESSAGE_LIMIT)
            out.append(f if message is f.message else replace(f, message=message))
        else:
            rest.setdefault(path, []).append(f)
    for path, extra in rest.items():
        if len(extra) == 1:
            out.append(replace(extra[0], message=escape.bounded(extra[0].message, escape.MESSAGE_LIMIT)))
            continue
        by_rule: dict[str, int] = {}
        for f in extra:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        level = min((f.effective_level for f in extra), key=list(Level).index)
        counted = ", ".join(f"{n} {rule}" for rule, n in sorted(by_rule.items()))
        out.append(
            Finding(
                "UG903",
                Location(path, extra[0].line),
                f"{len(extra)} more findings in this file are not shown ({counted}); unitgate shows "
                f"{limit - 1} per file",
                level=level,
            )
        )
    return sorted(out, key=Finding.sort_key)


def _per_model(findings: list[Finding], multi: set[str]) -> list[Finding]:
    """Findings about units gated on several models: one finding per distinct problem, carrying every
    model it holds on; others unchanged."""
    merged: dict[Finding, list[str]] = {}
    for f in findings:
        key = replace(f, models=()) if f.unit in multi else f
        merged.setdefault(key, []).extend(f.models)
    return [replace(f, models=tuple(models)) if f.unit in multi else f for f, models in merged.items()]


def _shown_models(f: Finding) -> Finding:
    """The models at the end of the message ("... [systemd-252, systemd-257]"), for every format."""
    return replace(f, message=f"{f.message} [{', '.join(f.models)}]")


def _declared_mode(
    analysis: UnitAnalysis, inspection: QuadletInspection, rules: ContainerRules
) -> list[Finding]:
    """A note when the policy, not the file's location, decided rootful or rootless (UG904): the
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
    return [Finding("UG904", Location(analysis.path, 1), message, analysis.unit)]


def _read_text(path: str) -> str | None:
    """A source's text for its suppression comments, through the same confined, bounded reader as the
    engine: a file the engine refused (outside the repository, a FIFO, a device) is never opened here."""
    try:
        return fsread.read_confined(path, fsread.boundary_for(path)).decode("utf-8", errors="replace")
    except fsread.Refused:
        return None
