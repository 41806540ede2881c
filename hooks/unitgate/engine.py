"""Entry point of the analysis: paths in, one UnitAnalysis per affected unit out.

files -> parsed files -> merged unit state (every value knows its file:line) -> SecurityInfo -> checks.
"""

from __future__ import annotations

import os

from unitgate import fsread
from unitgate.analysis import LoadState, Merged, UnitAnalysis
from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.parse import dropins, unitname
from unitgate.parse.unitfile import MAX_DIAGNOSTICS, ParsedFile, parse_unit_bytes, too_many
from unitgate.records import dataclass, replace
from unitgate.security import settings
from unitgate.security.info import build_info
from unitgate.security.releases import DEFAULT_MODEL, MODELS, SYSTEMD_252, Release, release
from unitgate.security.score import rating_for, score
from unitgate.security.words import UnitContext

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

# Diagnostic codes of this stage (files not read at all: fsread.OUTSIDE, NOT_REGULAR, TOO_LARGE).
UNREADABLE = fsread.UNREADABLE
BAD_NAME = "UG-INPUT-BAD-NAME"
NOT_FOUND = "UG-INPUT-NOT-FOUND"
MASKED = "UG-UNIT-MASKED"
SHADOWED = "UG-INPUT-SHADOWED"
NUL_BYTES = "UG-INPUT-NUL"
NOT_SUPPORTED = "UG-INPUT-NOT-SUPPORTED"
DROPIN_STOPPED = "UG-DROPIN-STOPPED"
_TYPE_SECTION = {t: t.capitalize() for t in ("service", "socket", "mount", "swap", "timer", "path", "slice")}
QUADLET_SUFFIXES = (".container", ".volume", ".network", ".kube", ".image", ".build", ".pod", ".artifact")


@dataclass(frozen=True)
class Target:
    """One unit to analyse: a name within a search path, and the path the user gave for it."""

    search: dropins.SearchPath
    unit: str
    given: str
    release: Release = SYSTEMD_252


__all__ = ["MODELS", "analyze_paths", "iter_plan", "plan", "run_job"]


def analyze_paths(paths: Sequence[str], model: str = DEFAULT_MODEL) -> list[UnitAnalysis]:
    """Resolve each path to the unit(s) it affects and analyse each unit once.

    A unit file analyses that unit; a drop-in (`foo.service.d/x.conf`, `service.d/x.conf`) analyses
    every unit it reaches in the repository, with all their drop-ins; a quadlet `.container` (or its
    drop-in) analyses the container. Each result's `path` is the path as given. `model` names the
    systemd release whose rules apply (one of `MODELS`; ValueError for another name).
    """
    return [run_job(job) for job in plan(paths, model)]


Job = Target | UnitAnalysis  # a unit still to load, or a result that needed no loading


def plan(paths: Sequence[str], model: str = DEFAULT_MODEL, *, podman: str | None = None) -> list[Job]:
    """The units the paths affect, each once, in the order the paths name them (`model`: the systemd
    release whose rules score them; `podman`: the release whose quadlet reads `.container` files)."""
    return list(iter_plan(paths, model, podman=podman))


def iter_plan(
    paths: Sequence[str], model: str = DEFAULT_MODEL, *, podman: str | None = None
) -> Iterator[Job]:
    """`plan`, one job at a time: a large run starts judging units while the rest are still being
    resolved. A new run starts (directory listings forgotten) when this is called."""
    dropins.clear_caches()  # directory listings are cached for one run only
    _DROPIN_FILES.clear()  # ...and so are the drop-ins read
    return _jobs(paths, release(model), podman)


def _jobs(paths: Sequence[str], rel: Release, podman: str | None) -> Iterator[Job]:
    seen: set[tuple[tuple[str, ...], str]] = set()
    for path in paths:
        if is_quadlet(path):
            yield from _quadlets(path, seen, podman)
            continue
        targets, problem = resolve(path, rel)
        if problem is not None:
            yield problem
            continue
        for t in targets:
            key = (t.search.dirs, t.unit)
            if key not in seen:
                seen.add(key)
                yield t


def run_job(job: Job) -> UnitAnalysis:
    return job if isinstance(job, UnitAnalysis) else load_unit(job)


def _quadlets(
    path: str, seen: set[tuple[tuple[str, ...], str]], podman: str | None = None
) -> list[UnitAnalysis]:
    """`.container` files (and their drop-ins): the container's own score, plus the wrapper's."""
    name = os.path.basename(path)
    if not os.path.lexists(path):
        return [_problem(path, name, LoadState.NOT_FOUND, "no such file", UNREADABLE)]
    from unitgate import quadlet  # imported only when a quadlet file is checked
    from unitgate.quadlet.generate import service_name
    from unitgate.quadlet.releases import release

    directory = os.path.basename(os.path.dirname(path))
    if not (name.endswith(".container") or quadlet_dropin_type(directory) == ".container"):
        message = "only .container quadlets are scored; this file counts as part of the containers using it"
        return [_problem(path, name, LoadState.SKIPPED, message, NOT_SUPPORTED, Severity.INFO)]
    rel = release(podman)
    targets = quadlet.quadlet_targets(path, rel.dropin_names_first)
    if not targets:
        message = "no .container in the repository that this drop-in applies to"
        return [_problem(path, name, LoadState.NOT_FOUND, message, NOT_FOUND)]
    out = []
    for target in targets:
        key = (("quadlet",), os.path.realpath(target))
        if key in seen:
            continue
        seen.add(key)
        inspection = quadlet.inspect_container(target, podman=podman)
        analysis = replace(inspection.analysis, path=path)
        conversion = inspection.conversion
        if inspection.unit is not None and conversion is not None and analysis.state is LoadState.LOADED:
            svc_name = service_name(inspection.unit, template_names=rel.template_names) + ".service"
            analysis = replace(analysis, wrapper=analyze_assignments(svc_name, conversion.service, path))
        out.append(analysis)
    return out


def analyze_assignments(unit: str, assignments: Sequence[Assignment], path: str) -> UnitAnalysis:
    """Score lines that are not in a unit file of their own (a quadlet's generated service)."""
    unit_type = unitname.split_type(unit)[1]
    state = settings.new_state(unit_type, "system")
    ctx = UnitContext(unit, path)
    applied = []
    for a in assignments:
        if a.section.startswith("X-"):
            continue  # systemd ignores such a section whole (quadlet keeps the .container's keys there)
        outcome = settings.apply(state, a, ctx)
        if outcome.fatal:
            break
        if not outcome.ignored:
            applied.append(a)
    info = build_info(state, unit)
    exposure, checks = score(info)
    return UnitAnalysis(
        unit=unit,
        path=path,
        fragment=None,
        sources=(),
        state=LoadState.LOADED,
        exposure=exposure,
        rating=rating_for(exposure).name,
        checks=checks,
        assignments=tuple(applied),
        merged=Merged(state, info),
    )


def _problem(
    path: str, unit: str, state: LoadState, message: str, code: str, severity: Severity = Severity.ERROR
) -> UnitAnalysis:
    diag = Diagnostic(Location(path), message, severity, code)
    return UnitAnalysis(unit=unit, path=path, fragment=None, sources=(), state=state, diagnostics=(diag,))


def is_quadlet(path: str) -> bool:
    name = os.path.basename(path)
    if name.endswith(QUADLET_SUFFIXES):
        return True
    return name.endswith(".conf") and quadlet_dropin_type(os.path.basename(os.path.dirname(path))) is not None


def quadlet_dropin_type(directory: str) -> str | None:
    """The quadlet file type a drop-in directory's name serves (".container" for `app.container.d`,
    `app-.container.d` and the type-wide `container.d`, which applies to every container), or None."""
    for suffix in QUADLET_SUFFIXES:
        if directory == suffix[1:] + ".d" or directory.endswith(suffix + ".d"):
            return suffix
    return None


def is_dropin(path: str) -> bool:
    """A drop-in: `NAME.conf` in a directory named `*.d` (relative paths against the working directory)."""
    return path.endswith(".conf") and os.path.dirname(os.path.abspath(path)).endswith(".d")


def resolve(path: str, rel: Release = SYSTEMD_252) -> tuple[list[Target], UnitAnalysis | None]:
    """The units a path affects, or a result explaining why there are none."""
    name = os.path.basename(path)
    if not os.path.lexists(path):
        return [], _problem(path, name, LoadState.NOT_FOUND, "no such file", UNREADABLE)
    if os.path.isdir(path):
        return [], _problem(path, name, LoadState.ERROR, "is a directory, not a unit file", UNREADABLE)
    parent = os.path.dirname(os.path.abspath(path))
    dropin = is_dropin(path)
    home = os.path.dirname(parent) if dropin else parent
    refused = fsread.refusal_of(parent, dropins.search_path_for(home).boundary)
    if refused is not None:  # the path given leads through a directory symlink out of the repository
        return [], _problem(path, name, LoadState.ERROR, refused.message, refused.code)
    if dropin:
        stem = os.path.basename(parent)[:-2]
        sp = dropins.search_path_for(os.path.dirname(parent))
        units = dropins.units_reached_by_dropin(sp, stem, rel.template_instance)
        if not units:
            message = f"no unit in the repository that this drop-in applies to ('{stem}')"
            return [], _problem(path, stem, LoadState.NOT_FOUND, message, NOT_FOUND)
        return [Target(sp, u, path, rel) for u in units], None
    if not unitname.is_valid(name):
        message = f"'{name}' is not a valid unit file name (expected e.g. foo.service, foo@.service)"
        return [], _problem(path, name, LoadState.ERROR, message, BAD_NAME)
    sp = dropins.search_path_for(parent)
    unit = dropins.resolve_alias(sp, dropins.analysed_name(name, rel.template_instance))
    return [Target(sp, unit, path, rel)], None


def read_file(path: str, boundary: str = "/") -> bytes | Diagnostic:
    """A file's bytes, read only inside `boundary` (see fsread); a mask (symlink to /dev/null, or one
    checked out as a file holding that target) reads as empty: it shadows its name and parses as
    nothing, and /dev/null itself is never opened."""
    if fsread.is_dev_null_link(path):
        return b""
    try:
        data = fsread.read_confined(path, boundary)
    except fsread.Refused as exc:
        r = exc.refusal
        if r.code == fsread.DANGLING:  # systemd ignores ENOENT for a drop-in
            return Diagnostic(Location(path), f"{r.message}; systemd skips it", Severity.WARNING, r.code)
        return Diagnostic(Location(path), r.message, Severity.ERROR, r.code)
    return b"" if data == dropins.DEV_NULL.encode() else data


# A type-wide (`service.d/`) or dash-prefix drop-in is part of every unit it reaches: read and parsed
# once per run, like the directory listings (plan() clears both), never across runs.
_DROPIN_FILES: dict[tuple[object, ...], object] = {}


def _read_dropin(path: str, boundary: str) -> bytes | Diagnostic:
    key = ("read", path, boundary)
    if key not in _DROPIN_FILES:
        _DROPIN_FILES[key] = read_file(path, boundary)
    return _DROPIN_FILES[key]  # type: ignore[return-value]


def _parse_dropin(data: bytes, display: str, sections: frozenset[str]) -> ParsedFile:
    key = ("parsed", data, display, sections)
    if key not in _DROPIN_FILES:
        _DROPIN_FILES[key] = parse_unit_bytes(data, display, sections)
    return _DROPIN_FILES[key]  # type: ignore[return-value]


def _display(path: str, given: str, given_abs: str) -> str:
    """Show files relative to where the user pointed us, when that is shorter and unambiguous."""
    if path == given_abs:
        return given
    # A type-wide or dash-prefix drop-in is shown for every unit it reaches: computed once per
    # working directory (relpath is a pure function of both).
    key = (os.getcwd(), path)
    shown = _SHOWN.get(key)
    if shown is None:
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            return path
        shown = path if rel.startswith("..") else rel.replace(os.sep, "/")
        if len(_SHOWN) > 10_000:
            _SHOWN.clear()
        _SHOWN[key] = shown
    return shown


_SHOWN: dict[tuple[str, str], str] = {}


def _with_overlay(files: list[str], overlay: Mapping[str, bytes] | None) -> list[str]:
    """Drop-ins with the overlay's: a same-named file is replaced; all in file-name order."""
    if not overlay:
        return files
    names = {os.path.basename(p) for p in overlay}
    kept = [p for p in files if os.path.basename(p) not in names]
    return sorted([*kept, *overlay], key=os.path.basename)


def load_unit(target: Target, overlay: Mapping[str, bytes] | None = None) -> UnitAnalysis:
    """Load one unit as systemd would, merge its drop-ins and score it. `overlay` (absolute drop-in
    path -> content) adds or replaces drop-ins that are not on disk: what a unit would be with them."""
    sp, unit = target.search, target.unit
    given_abs = dropins.normalize(target.given)
    unit_type = unitname.split_type(unit)[1]
    sections = settings.SECTIONS_BY_TYPE.get(unit_type, frozenset({"Unit", "Install"}))
    entry = dropins.fragment_of(sp, unit)
    diags: list[Diagnostic] = []

    def result(state: LoadState, sources: tuple[str, ...] = (), **kw: object) -> UnitAnalysis:
        return UnitAnalysis(
            unit=unit,
            path=target.given,
            fragment=sources[0] if sources else None,
            sources=sources,
            state=state,
            diagnostics=tuple(diags),
            model=target.release.name,
            **kw,  # type: ignore[arg-type]
        )

    diags += [
        Diagnostic(Location(_display(r.path, target.given, given_abs)), r.message, Severity.ERROR, r.code)
        for r in dropins.search_refusals(sp)
    ]
    if entry is None:
        diags.append(Diagnostic(Location(target.given), f"unit {unit} not found", Severity.ERROR, NOT_FOUND))
        return result(LoadState.NOT_FOUND)
    fragment = _display(entry.path, target.given, given_abs)
    if entry.refused is not None:
        refused = entry.refused
        diags.append(Diagnostic(Location(fragment), refused.message, Severity.ERROR, refused.code))
        return result(LoadState.ERROR)  # no sources: nothing was read
    if entry.path != given_abs and not target.given.endswith(".conf") and os.path.isfile(target.given):
        diags.append(
            Diagnostic(
                Location(target.given),
                f"systemd loads {fragment} instead of this file (it comes first in the search path)",
                Severity.WARNING,
                SHADOWED,
            )
        )
    if entry.masked:
        diags.append(Diagnostic(Location(fragment), f"unit {unit} is masked", Severity.INFO, MASKED))
        return result(LoadState.MASKED, (fragment,))

    aliases = dropins.aliases_of(sp, unit)
    found = dropins.dropin_files(dropins.dropin_dirs(sp, unit, aliases), sp.boundary)
    files = [entry.path, *_with_overlay(found, overlay)]
    shown = tuple(_display(p, target.given, given_abs) for p in files)
    ctx = UnitContext(unit, entry.path, sp.scope)
    state = settings.new_state(unit_type, sp.scope, target.release)
    applied: list[Assignment] = []
    section_lines: dict[tuple[str, str], int] = {}
    unread: set[str] = set()  # left out of the sources: only files actually read are sources

    for index, (path, display) in enumerate(zip(files, shown, strict=True)):
        main = index == 0
        if overlay and path in overlay:
            data: bytes | Diagnostic = overlay[path]
        else:
            data = read_file(path, sp.boundary) if main else _read_dropin(path, sp.boundary)
        if isinstance(data, Diagnostic):
            diags.append(Diagnostic(Location(display), data.message, data.severity, data.code))
            if main:
                return result(LoadState.ERROR)
            unread.add(display)
            continue
        if b"\0" in data:
            diags.append(
                Diagnostic(
                    Location(display),
                    "file contains NUL bytes (binary?); systemd treats each as a line end",
                    Severity.WARNING,
                    NUL_BYTES,
                )
            )
        parsed = parse_unit_bytes(data, display, sections) if main else _parse_dropin(data, display, sections)
        start = len(diags)
        for section, line in parsed.section_lines:
            section_lines[(display, section)] = line
        budget, dropped = MAX_DIAGNOSTICS - len(parsed.diagnostics), 0  # warnings kept per file
        stop: Assignment | None = None  # a fatal value: systemd reads no further in this file
        error = False
        for a in parsed.assignments:
            outcome = settings.apply(state, a, ctx)
            if budget > 0 or outcome.fatal:
                diags.extend(outcome.diagnostics)
                budget -= len(outcome.diagnostics)
            else:
                dropped += len(outcome.diagnostics)
            if outcome.fatal:
                stop, error = a, outcome.error
                break
            if not outcome.ignored:
                applied.append(a)
        if dropped:
            diags.append(too_many(display, dropped))
        # What the syntax pass found beyond a fatal value is never seen by systemd.
        last = None if stop is None else stop.location.line
        diags[start:start] = [d for d in parsed.diagnostics if last is None or d.location.line <= last]
        if stop is not None or parsed.fatal is not None:
            if main:
                failed = LoadState.BAD_SETTING if stop is not None and not error else LoadState.ERROR
                return result(failed, shown, section_lines=section_lines)
            where = stop.location if stop is not None else parsed.fatal.location  # type: ignore[union-attr]
            message = "the rest of this drop-in is ignored"
            diags.append(Diagnostic(where, message, Severity.WARNING, DROPIN_STOPPED))

    shown = tuple(s for s in shown if s not in unread)
    header = section_lines.get((shown[0], _TYPE_SECTION.get(unit_type, "Unit")), 1)
    where = Location(shown[0], header)
    refusal = settings.verify_contexts(state, where)  # unit_verify_contexts() runs before the type's own
    if refusal is None and unit_type == "service":
        refusal = settings.verify_service(state, where)
    elif refusal is None:
        refusal = settings.verify_other(unit_type, applied, where)
    if refusal is not None:
        diags.append(refusal)
        return result(LoadState.BAD_SETTING, shown, section_lines=section_lines)

    info = build_info(state, unit)
    exposure, checks = score(info)
    return result(
        LoadState.LOADED,
        shown,
        exposure=exposure,
        rating=rating_for(exposure).name,
        checks=checks,
        assignments=tuple(applied),
        section_lines=section_lines,
        merged=Merged(state, info),
    )
