"""Command line: `unitgate check`, `explain`, `fix`, `baseline` and `rule`.

Argument parsing lives here; each subcommand's work lives in its own module (explain.py, gate/run.py),
which takes the parsed namespace and returns the exit code: 0 clean, 1 findings, 2 usage/config/tool error.
"""

from __future__ import annotations

import os
import sys

from unitgate import __version__, escape
from unitgate.security.releases import DEFAULT_MODEL, MODELS

TYPE_CHECKING = False  # `typing` is not imported on the hook's path
if TYPE_CHECKING:
    import argparse
    from argparse import Namespace as _Args
    from collections.abc import Sequence
else:

    class _Args:
        """The parsed command line, as attributes (argparse's Namespace; `types` is not imported)."""

        def __init__(self, **values: object) -> None:
            self.__dict__.update(values)


EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "github", "json", "sarif")


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse  # here: the hook's plain `check` is parsed without it (fast_check_args)

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            # argparse exits 2 as well; keep its usage line but make the message name the tool.
            self.print_usage(sys.stderr)
            print(f"unitgate: error: {escape.text(message)}", file=sys.stderr)
            raise SystemExit(EXIT_ERROR)

    return _Parser


def build_parser() -> argparse.ArgumentParser:
    _Parser = _parser_class()
    parser = _Parser(prog="unitgate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"unitgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    explain = sub.add_parser(
        "explain",
        help="print systemd-analyze's security table for each unit, with the line that decided each row",
    )
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("--failing", action="store_true", help="text: only the rows that cost exposure")
    explain.add_argument(
        "--sort",
        choices=("systemd", "exposure"),
        default="systemd",
        help="text: row order (default: %(default)s)",
    )
    explain.add_argument(
        "--width",
        type=int,
        metavar="N",
        help="text: fit rows in N columns (default: $COLUMNS or the terminal's)",
    )
    explain.add_argument(
        "--podman",
        choices=("5.4", "5.8"),
        default=None,
        help="podman release whose quadlet reads .container files (default: 5.4)",
    )
    explain.add_argument(
        "--scoring",
        choices=MODELS,
        default=DEFAULT_MODEL,
        metavar="MODEL",
        help=f"the systemd release whose rules score the units: {', '.join(MODELS)} (default: %(default)s)",
    )
    explain.add_argument(
        "--files-from",
        metavar="FILE",
        help="also explain the paths listed in FILE (one a line, or NUL-separated; - for standard input)",
    )
    explain.add_argument("paths", nargs="*", metavar="PATH", help="unit files, drop-ins or quadlet files")

    check = sub.add_parser("check", help="check units against the policy (the pre-commit hook)")
    check.add_argument("--policy", metavar="FILE", help="policy file (default: nearest .unitgate.toml)")
    check.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: github under GitHub Actions, else text)",
    )
    check.add_argument(
        "--scoring",
        choices=MODELS,
        default=None,
        metavar="MODEL",
        help="the systemd release whose rules score the units, instead of the policy's scoring: "
        f"{', '.join(MODELS)}",
    )
    check.add_argument(
        "--podman",
        choices=("5.4", "5.8"),
        default=None,
        help="podman release whose quadlet reads .container files (default: the policy's [container] "
        "podman, else 5.4)",
    )
    check.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even with findings (2 still means an error)",
    )
    check.add_argument(
        "--baseline",
        metavar="FILE",
        help="baseline file (default: .unitgate-baseline.json at the repository root)",
    )
    check.add_argument(
        "--update-baseline", action="store_true", help="tighten the baseline entries of units that improved"
    )
    check.add_argument(
        "--files-from",
        metavar="FILE",
        help="also check the paths listed in FILE (one a line, or NUL-separated; - for standard input)",
    )
    changed = check.add_mutually_exclusive_group()
    changed.add_argument(
        "--staged",
        action="store_true",
        help="also check what git's staged changes affect: the units of deleted or renamed drop-ins, "
        "and every file a changed policy file governs (the pre-commit hook)",
    )
    changed.add_argument(
        "--diff-base",
        metavar="REF",
        help="also check what changed since the merge base of REF and HEAD, deletions and policy changes "
        "included (CI)",
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories to check (a directory: every unit, drop-in and quadlet in it); "
        "none: the whole repository (git's tracked and untracked, not ignored, files) or working tree",
    )

    baseline = sub.add_parser(
        "baseline", help="record today's findings so that `check` fails only on new ones (adoption)"
    )
    baseline.add_argument("--policy", metavar="FILE", help="policy file (default: nearest .unitgate.toml)")
    baseline.add_argument(
        "--output",
        metavar="FILE",
        help="where to write it (default: .unitgate-baseline.json at the repository root)",
    )
    baseline.add_argument(
        "paths", nargs="*", metavar="PATH", help="files to record (default: every unit file)"
    )

    rule = sub.add_parser("rule", help="print a rule's documentation (without ID: list the rules)")
    rule.add_argument("rule", nargs="?", metavar="ID", help="a rule id (UG201) or name")

    fix = sub.add_parser("fix", help="write one drop-in per unit that makes it meet its policy")
    fix.add_argument("--policy", metavar="FILE", help="policy file (default: nearest .unitgate.toml)")
    fix.add_argument("--name", default="50-unitgate.conf", help="drop-in file name (default: %(default)s)")
    fix.add_argument("--diff", action="store_true", help="print the drop-ins as a diff, write nothing")
    fix.add_argument("paths", nargs="+", metavar="PATH", help="unit files, drop-ins or quadlet files")
    return parser


def _dispatch(ns: argparse.Namespace) -> int:
    # Imported lazily so `unitgate explain` never pays for the gate's imports and vice versa.
    if ns.command == "explain":
        from unitgate.explain import run as run_explain

        return run_explain(ns)
    if ns.command == "rule":
        from unitgate.ruledocs import run as run_rule

        return run_rule(ns)
    if ns.command == "baseline":
        from unitgate.gate.baseline_cmd import run as run_baseline

        return run_baseline(ns)
    if ns.command == "fix":
        from unitgate.gate.fix import run as run_fix

        return run_fix(ns)
    from unitgate.gate.command import run as run_check

    return run_check(ns)


# `check`'s options with their defaults, for the fast path below (a test holds them to argparse's).
CHECK_DEFAULTS: dict[str, object] = {
    "command": "check",
    "policy": None,
    "format": None,
    "output": None,
    "exit_zero": False,
    "baseline": None,
    "update_baseline": False,
    "files_from": None,
    "staged": False,
    "diff_base": None,
    "scoring": None,
    "podman": None,
}
# Options the fast path takes with a value: name -> (namespace field, allowed values or None) ...
_CHECK_VALUES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "--policy": ("policy", None),
    "--format": ("format", FORMATS),
    "--output": ("output", None),
    "--baseline": ("baseline", None),
    "--files-from": ("files_from", None),
    "--diff-base": ("diff_base", None),
    "--scoring": ("scoring", tuple(MODELS)),
    "--podman": ("podman", ("5.4", "5.8")),
}
# ... and without one (store_true): name -> namespace field.
_CHECK_FLAGS: dict[str, str] = {
    "--exit-zero": "exit_zero",
    "--update-baseline": "update_baseline",
    "--staged": "staged",
}


def fast_check_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """`check [OPTION...] PATH...` without argparse, or None for anything else.

    Why: the pre-commit hook runs this on every commit, and building argparse's parsers (with its help
    formatter, gettext and locale) costs several times the check of one file. Only the plain form is
    taken here; anything else (help, an abbreviation, `--`, a value that looks like an option, an
    unknown option) goes to argparse, so its messages and help stay what they are.
    """
    if not argv or argv[0] != "check":
        return None
    values = dict(CHECK_DEFAULTS)
    paths: list[str] = []
    closed = False  # an option after paths: argparse takes no paths after it (one run of PATHs only)
    args = iter(argv[1:])
    for arg in args:
        if not arg.startswith("-"):
            if closed:
                return None
            paths.append(arg)
            continue
        closed = bool(paths)
        if arg in _CHECK_FLAGS:
            values[_CHECK_FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        option = _CHECK_VALUES.get(name)
        if option is None:
            return None
        if not eq:
            value = next(args, "-")
        dest, allowed = option
        if value.startswith("-") or (allowed is not None and value not in allowed):
            return None
        values[dest] = value
    if values["staged"] and values["diff_base"] is not None:
        return None  # mutually exclusive: argparse says so
    values["paths"] = paths
    return _Args(**values)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        ns = fast_check_args(sys.argv[1:] if argv is None else argv)
        if ns is None:
            ns = build_parser().parse_args(argv)
        return _dispatch(ns)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours; silence the final flush too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("unitgate: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except OSError as exc:  # e.g. the output cannot be written (a full disk): not a bug to report
        print(f"unitgate: error: {escape.quote(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        print(f"unitgate: internal error: {type(exc).__name__}: {escape.quote(str(exc))}", file=sys.stderr)
        print("unitgate: please report this, with the file that caused it", file=sys.stderr)
        return EXIT_ERROR
