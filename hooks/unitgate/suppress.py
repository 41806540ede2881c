"""Inline suppressions: whole-line comments in a unit or drop-in (unit files have no end-of-line comments).

    # unitgate: disable=UG201,NoNewPrivileges reason="legacy daemon, tracked in #42"
    # unitgate: disable-file=PrivateNetwork reason="serves the LAN"

`disable=` (alias `disable-next-line=`) silences the named findings on the next line that is not blank
and not a comment: a directive, or a `[Service]` header (where missing-directive and exposure findings
point). `disable-file=` silences them for every unit the file is part of. Each target is a rule id
(UG101) or a directive name (NoNewPrivileges, or Section.Key). The reason is mandatory: a suppression
without one still applies but is itself a finding (UG401), so the commit stays blocked until it says why.
"""

from __future__ import annotations

from unitgate.findings import RULE_BY_ID, Finding
from unitgate.memo import pattern
from unitgate.model import Location
from unitgate.policy import canonical_directive, display_directive
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_COMMENT = r"^[ \t]*[#;][ \t]*unitgate[ \t]*:(?P<body>.*)$"
_CLAUSE = r"^(?P<kind>disable-next-line|disable-file|disable)[ \t]*=[ \t]*(?P<targets>[^ \t]*)"
_REASON = r"""^reason[ \t]*=[ \t]*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')[ \t]*$"""
_DIRECTIVE = r"^(?:(?:Unit|Service|Install|Container|Quadlet)\.)?[A-Z][A-Za-z0-9]*$"
_RULE = r"^UG[0-9]{3}$"
UNSUPPRESSIBLE = frozenset({"UG401", "UG403"})  # a suppression cannot excuse itself


@dataclass(frozen=True)
class Suppression:
    location: Location  # the comment line
    targets: tuple[str, ...]  # rule ids, and directives as canonical keys ("Service.NoNewPrivileges")
    reason: str | None
    file_wide: bool
    line: int = 0  # for next-line suppressions: the line they apply to (0: none follows)

    def matches(self, finding: Finding) -> bool:
        if finding.rule in UNSUPPRESSIBLE:
            return False
        if not self.file_wide and finding.location != Location(self.location.path, self.line):
            return False
        directive = canonical_directive(finding.directive) if finding.directive else None
        if finding.rule in self.targets or (directive is not None and directive in self.targets):
            return True
        # A bare name (ReadOnly) in a quadlet file means the [Container] key as well as the [Service] one.
        return (
            directive is not None
            and directive.startswith("Container.")
            and f"Service.{directive.partition('.')[2]}" in self.targets
        )

    @property
    def shown_targets(self) -> str:
        return ",".join(t if pattern(_RULE).match(t) else display_directive(t) for t in self.targets)


def parse(path: str, text: str) -> tuple[list[Suppression], list[Finding]]:
    """Every `# unitgate:` comment in one file: the suppressions, and findings for broken ones."""
    suppressions: list[Suppression] = []
    findings: list[Finding] = []
    pending: list[int] = []  # indexes of next-line suppressions still waiting for their line
    continued = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        match = pattern(_COMMENT).match(line) if "unitgate" in line else None  # most lines: no regex
        if match and not continued:
            result = _parse_comment(Location(path, number), match["body"])
            if isinstance(result, Finding):
                findings.append(result)
                continue
            if result.reason is None:
                findings.append(_no_reason(result))
            if not result.file_wide:
                pending.append(len(suppressions))
            suppressions.append(result)
            continue
        if not stripped or stripped[0] in "#;":
            continue
        if not continued:
            for index in pending:
                old = suppressions[index]
                suppressions[index] = Suppression(old.location, old.targets, old.reason, False, number)
            pending = []
        continued = stripped.endswith("\\")
    return suppressions, findings


def _parse_comment(location: Location, body: str) -> Suppression | Finding:
    body = body.strip()
    clause = pattern(_CLAUSE).match(body)
    if not clause:
        return _malformed(location, f"expected disable=... or disable-file=..., found {body!r}")
    raw_targets = [t for t in clause["targets"].split(",") if t]
    if not raw_targets:
        return _malformed(location, f"{clause['kind']}= names no rule id or directive")
    targets: list[str] = []
    for target in raw_targets:
        if pattern(_RULE).match(target):
            if target not in RULE_BY_ID:
                return _malformed(location, f"unknown rule id {target!r}")
            targets.append(target)
        elif pattern(_DIRECTIVE).match(target):
            targets.append(canonical_directive(target))
        else:
            return _malformed(location, f"{target!r} is neither a rule id (UG101) nor a directive name")
    rest = body[clause.end() :].strip()
    reason: str | None = None
    if rest:
        found = pattern(_REASON).match(rest)
        if not found:
            return _malformed(location, f'expected reason="..." after the targets, found {rest!r}')
        reason = (found["dq"] if found["dq"] is not None else found["sq"]).strip() or None
    return Suppression(location, tuple(targets), reason, clause["kind"] == "disable-file")


def _malformed(location: Location, why: str) -> Finding:
    return Finding(
        "UG403",
        location,
        f'malformed unitgate comment: {why}; write # unitgate: disable=UG101,NoNewPrivileges reason="..."',
    )


def _no_reason(suppression: Suppression) -> Finding:
    kind = "disable-file" if suppression.file_wide else "disable"
    return Finding(
        "UG401",
        suppression.location,
        f"suppression of {suppression.shown_targets} has no reason: "
        f'write # unitgate: {kind}={suppression.shown_targets} reason="why this is acceptable"',
    )


@dataclass(frozen=True)
class Applied:
    kept: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    unused: tuple[Suppression, ...]


def apply(
    findings: Iterable[Finding],
    by_file: Mapping[str, list[Suppression]],
    sources_of: Mapping[str, tuple[str, ...]],
) -> Applied:
    """Drop the findings a suppression covers.

    `by_file`: the suppressions of each file read; `sources_of`: unit name -> files merged into it
    (file-wide suppressions apply to every finding about a unit that includes the file).
    """
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[Suppression] = set()
    for finding in findings:
        files = sources_of.get(finding.unit or "", ()) or (finding.location.path,)
        candidates = [s for s in by_file.get(finding.location.path, ()) if not s.file_wide]
        candidates += [
            s
            for f in dict.fromkeys((*files, finding.location.path))
            for s in by_file.get(f, ())
            if s.file_wide
        ]
        hits = [s for s in candidates if s.matches(finding)]
        if hits:
            used.update(hits)
            suppressed.append(finding)
        else:
            kept.append(finding)
    unused = tuple(s for suppressions in by_file.values() for s in suppressions if s not in used)
    return Applied(tuple(kept), tuple(suppressed), unused)


def unused_finding(suppression: Suppression) -> Finding:
    scope = "in this file" if suppression.file_wide else "on the next line"
    if not suppression.file_wide and suppression.line == 0:
        scope = "(no line follows it)"
    return Finding(
        "UG402",
        suppression.location,
        f"unused suppression: no {suppression.shown_targets} finding {scope}; remove the comment",
    )
