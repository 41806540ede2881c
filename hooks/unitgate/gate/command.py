"""The `unitgate check` subcommand: which files (`select`), one `check()` run (gate/run.py), the report
on stdout or `--output`, the job summary, and the exit code."""

from __future__ import annotations

import os
import sys

from unitgate import escape, fsread
from unitgate.findings import Finding
from unitgate.gate.run import EXIT_ERROR, EXIT_OK, check
from unitgate.model import SelectionError, UnitInputError
from unitgate.policy import PolicyError
from unitgate.policy_terms import BASELINE_FILE
from unitgate.records import replace

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from unitgate.gate.baseline import Baseline


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


def select(ns: argparse.Namespace) -> list[str]:
    """The files `unitgate check` was asked about: the paths given (a directory stands for the files in
    it), `--files-from`, the change set of `--staged`/`--diff-base`; none of these: the whole
    repository (or the working tree). Raises SelectionError."""
    staged = getattr(ns, "staged", False)
    base = getattr(ns, "diff_base", None)
    from_file = getattr(ns, "files_from", None)
    if not (staged or base is not None or from_file) and ns.paths and not any(map(os.path.isdir, ns.paths)):
        return list(dict.fromkeys(ns.paths))  # the hook's case: files named on the command line
    from unitgate.gate import changes  # git and directory walks: not needed above

    listed = changes.read_list(from_file) if from_file else []
    given = [*ns.paths, *listed]
    out: list[str] = []
    for path in given:
        out += changes.tree_files(path) if os.path.isdir(path) else [path]
    if staged or base is not None:
        changed, against = changes.changes(base)
        out += changes.paths_for_changes(changed, against, ns.policy)
    elif not given:
        # The whole repository, wherever in it unitgate runs (outside git: the working directory).
        root = changes.repo_root() or "."
        out += [os.path.relpath(p) for p in changes.tree_files(root)]
    return list(dict.fromkeys(out))


def repository_relative(findings: Sequence[Finding]) -> list[Finding]:
    """Paths relative to the repository root (GitHub attaches annotations and SARIF results by them),
    whatever directory unitgate runs from; paths outside the repository are left as they are."""
    from unitgate.gate.changes import repo_root

    root = repo_root()
    if root is None:
        return list(findings)
    here = os.path.relpath(os.getcwd(), root)
    out = []
    for f in findings:
        path = os.path.normpath(os.path.join(here, f.location.path))
        if os.path.isabs(f.location.path) or path.startswith(".."):
            out.append(f)
        else:
            out.append(replace(f, location=replace(f.location, path=path.replace(os.sep, "/"))))
    return out


def input_error(exc: PolicyError | UnitInputError | SelectionError) -> int:
    """A policy, an input or a file selection that stops a run, on stderr (escaped and bounded, as
    every message): exit 2. The one spelling for `check`, `fix` and `baseline`."""
    kind = "policy error" if isinstance(exc, PolicyError) else "error"
    print(f"unitgate: {kind}: {escape.quote(str(exc), escape.MESSAGE_LIMIT)}", file=sys.stderr)
    return EXIT_ERROR


def _baseline(ns: argparse.Namespace) -> Baseline | None:
    """`--baseline FILE`, else the repository root's baseline when there is one (gate/baseline.py,
    loaded only then: most repositories have none)."""
    root = fsread.work_tree()
    if ns.baseline is None and not os.path.lexists(os.path.join(root, BASELINE_FILE)):
        return None
    from unitgate.gate.baseline import load

    return load(ns.baseline, ns.update_baseline)


def run(ns: argparse.Namespace) -> int:
    """The `unitgate check` subcommand."""
    from unitgate.report import REPORTERS, SUMMARY_ENV

    fmt = ns.format or default_format()
    try:
        paths = select(ns)
    except SelectionError as exc:
        return input_error(exc)
    if not paths:
        print("unitgate: no files to check", file=sys.stderr)
        return EXIT_OK
    if not any(os.path.lexists(p) for p in paths):
        for path in paths:
            print(f"unitgate: error: {escape.quote(path)}: no such file", file=sys.stderr)
        return EXIT_ERROR
    try:
        baseline = _baseline(ns)
        result = check(
            paths,
            policy_file=ns.policy,
            color=fmt == "text" and use_color(),
            baseline=baseline,
            podman=getattr(ns, "podman", None),
            scoring=getattr(ns, "scoring", None),
            keep=False,  # the report needs the findings only: stream (gate/batch.py)
        )
    except (PolicyError, UnitInputError) as exc:
        return input_error(exc)
    findings: Sequence[Finding] = result.findings
    if fmt in ("github", "sarif"):
        findings = repository_relative(findings)
    # The errors go first (on stderr), then every finding there is; with errors and nothing checked,
    # no report at all (a summary would suggest something passed).
    for error in result.errors:
        print(f"unitgate: {escape.quote(error, escape.MESSAGE_LIMIT)}", file=sys.stderr)
    if not result.errors or findings or result.info.units:
        if not emit(REPORTERS[fmt](findings, result.info), ns.output):
            return EXIT_ERROR
        if os.environ.get(SUMMARY_ENV):
            from unitgate.report import summary  # only under GitHub Actions

            summary.write(findings, result.info, annotated=fmt == "github")
    if ns.exit_zero and result.exit_code != EXIT_ERROR:
        return EXIT_OK
    return result.exit_code


def emit(rendered: str, output: str | None) -> bool:
    """The report to stdout, or to `--output FILE` (e.g. SARIF for an upload step)."""
    if output is None:
        try:
            if sys.stdout is None:  # started with the descriptor closed (`>&-`)
                raise OSError("standard output is closed")
            sys.stdout.write(rendered)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader went away: cli.main ends quietly
        except OSError as exc:
            print(f"unitgate: error: cannot write the report: {exc.strerror or exc}", file=sys.stderr)
            return False
        return True
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(rendered)
    except OSError as exc:
        print(
            f"unitgate: error: {escape.quote(output)}: cannot write: {exc.strerror or exc}", file=sys.stderr
        )
        return False
    return True
