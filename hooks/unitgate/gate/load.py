"""What the engine said about loading a unit, as findings: masked, missing, refused, ignored lines."""

from __future__ import annotations

from unitgate import __version__, fsread
from unitgate.analysis import LoadState, UnitAnalysis
from unitgate.findings import Finding, Level
from unitgate.model import Diagnostic, Location, Severity
from unitgate.security.settings import NEWER_KEY, NEWER_VALUE

# Diagnostic codes of the engine (unitgate.engine) that the gate treats specially.
NOT_SUPPORTED = "UG-INPUT-NOT-SUPPORTED"  # a file kind unitgate does not score: UG901
SHADOWED = "UG-INPUT-SHADOWED"  # the given file is not the one systemd loads: UG305
QUADLET_SHADOWED = "UGQ005"  # quadlet uses another file of the same name: UG305
QUADLET_SERVICE_KEY = "UGQ010"  # [Service] User=/Group=/DynamicUser= in a quadlet: UG306
# A file the engine did not read (fsread's refusals), or whose name is no unit name: UG308 for that
# file, at the diagnostic's level (a dangling drop-in, which systemd skips, is a warning); the rest of
# the run goes on.
INPUT_ERRORS = frozenset(
    {
        fsread.OUTSIDE,
        fsread.NOT_REGULAR,
        fsread.TOO_LARGE,
        fsread.UNREADABLE,
        fsread.DANGLING,
        "UG-INPUT-BAD-NAME",
    }
)
TOO_MANY = "UG-INPUT-TOO-MANY-DIAGNOSTICS"  # the engine's count of a file's warnings past its cap: UG903


def is_input_error(diagnostic: Diagnostic) -> bool:
    return diagnostic.code in INPUT_ERRORS


# A value or directive only a later release than the scoring model's knows: UG309.
NEWER_RELEASE = frozenset({NEWER_VALUE, NEWER_KEY})


def is_container(analysis: UnitAnalysis) -> bool:
    return analysis.model.startswith("quadlet")


def load_findings(analysis: UnitAnalysis) -> list[Finding]:
    unit = analysis.unit
    if analysis.state is LoadState.MASKED:
        return [
            Finding(
                "UG302",
                Location(analysis.path, 1),
                f"{unit} is masked (empty file or symlink to /dev/null): not scored",
                unit,
            )
        ]
    if analysis.state is LoadState.NOT_FOUND:
        details = "; ".join(d.message for d in analysis.diagnostics)
        return [
            Finding(
                "UG303",
                Location(analysis.path, 1),
                f"{unit} is not in the repository, so this drop-in cannot be checked merged over it"
                + (f" ({details})" if details else ""),
                unit,
            )
        ]
    convert = _quadlet_finding if is_container(analysis) else _diagnostic_finding
    shown = [d for d in analysis.diagnostics if d.severity is not Severity.INFO or d.code == NOT_SUPPORTED]
    findings = [
        _unread_finding(unit, d) if is_input_error(d) or d.code == TOO_MANY else convert(unit, d)
        for d in shown
    ]
    refused = analysis.state in (LoadState.ERROR, LoadState.BAD_SETTING)
    if refused and not any(f.rule in ("UG301", "UG308", "UG901") for f in findings):
        where = analysis.fragment or analysis.path
        findings.append(
            Finding(
                "UG301",
                Location(where, 1),
                f"systemd would refuse to load {unit} ({analysis.state.value})",
                unit,
            )
        )
    return findings


def _unread_finding(unit: str, diagnostic: Diagnostic) -> Finding:
    """A file the engine did not read: UG308, naming why (the engine's message names the file, and for
    a link its target, never its content); the engine's count of dropped warnings: UG903."""
    level = None if diagnostic.severity is Severity.ERROR else Level.WARNING
    rule = "UG903" if diagnostic.code == TOO_MANY else "UG308"
    return Finding(rule, diagnostic.location, f"{unit}: {diagnostic.message}", unit, level=level)


def _quadlet_finding(unit: str, diagnostic: Diagnostic) -> Finding:
    """A diagnostic of the quadlet engine (UGQ001-UGQ010) as a finding."""
    if diagnostic.code == QUADLET_SERVICE_KEY:
        message = f"{unit}: {diagnostic.message}"
        return Finding("UG306", diagnostic.location, message, unit, _service_key(diagnostic))
    if diagnostic.code == QUADLET_SHADOWED:
        return Finding("UG305", diagnostic.location, f"{unit}: {diagnostic.message}", unit)
    if diagnostic.severity is Severity.ERROR:
        message = diagnostic.message
        if not message.startswith("quadlet"):
            message = f"quadlet would refuse this: {message}"
        return Finding("UG301", diagnostic.location, message, unit)
    return Finding("UG307", diagnostic.location, f"quadlet would warn: {diagnostic.message}", unit)


def _service_key(diagnostic: Diagnostic) -> str | None:
    """'Service.User' from UGQ010's message ("... the key User= in [Service] ...")."""
    for key in ("DynamicUser", "Group", "User"):
        if f"key {key}=" in diagnostic.message:
            return f"Service.{key}"
    return None


def _diagnostic_finding(unit: str, diagnostic: Diagnostic) -> Finding:
    if diagnostic.code == NOT_SUPPORTED:
        return Finding(
            "UG901",
            diagnostic.location,
            f"{diagnostic.message}: not checked by unitgate {__version__}; "
            "exclude it from the hook until a release supports it",
            unit,
            level=Level.NOTE if diagnostic.severity is Severity.INFO else None,
        )
    if diagnostic.code == SHADOWED:
        return Finding("UG305", diagnostic.location, f"{unit}: {diagnostic.message}", unit)
    if diagnostic.code in NEWER_RELEASE:
        # "PrivateTmp=disconnected: systemd 252 ignores this value (added in 257); ..."
        directive = diagnostic.message.split("=", 1)[0] if "=" in diagnostic.message else None
        return Finding("UG309", diagnostic.location, f"{unit}: {diagnostic.message}", unit, directive)
    if diagnostic.severity is Severity.ERROR:
        return Finding("UG301", diagnostic.location, f"systemd would refuse this: {diagnostic.message}", unit)
    return Finding(
        "UG304", diagnostic.location, f"systemd would ignore this line: {diagnostic.message}", unit
    )
