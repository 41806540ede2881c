"""`unitgate fix`: one drop-in per unit that does not meet its policy, never an edit of a base unit.

For each unit the drop-in holds, in this order, the lines that resolve the unit's findings (what the
policy requires or forbids), then, while the exposure is above the maximum, the hardening lines that
save the most, those a service does not notice first (gate/behaviour.py marks the others). Each
exposure line is kept only if re-scoring the unit with it (the engine, with the drop-in overlaid)
lowers the exposure. After writing, the unit is checked again from the files on disk and the before
and after are printed; `--diff` prints the drop-in as a diff and writes nothing.
"""

from __future__ import annotations

import difflib
import os
import re
import sys

from unitgate import escape
from unitgate.analysis import UnitAnalysis
from unitgate.findings import Finding, tenths
from unitgate.gate.behaviour import changes
from unitgate.gate.command import input_error
from unitgate.gate.exposure import unit_check_fix, unit_exposure
from unitgate.gate.units import evaluate_unit
from unitgate.gate.whatif import (
    dropin_path,
    dropin_text,
    read_existing,
    section_of,
    with_dropin,
)
from unitgate.model import UnitInputError
from unitgate.policy import PolicyError, UnitPolicy, canonical_check
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_WRITABLE = re.compile(r"^[A-Z][A-Za-z]*=\S")  # a plain `Key=value` line in the unit's own section
# quadlet-1 checks a [Container] line makes good on its own.
_CONTAINER_FIXES = {
    "NoNewPrivileges": "NoNewPrivileges=true",
    "ReadOnly": "ReadOnly=true",
    "EnvironmentHost": "EnvironmentHost=false",
}


@dataclass(frozen=True)
class Line:
    text: str  # `Key=value`
    why: str  # "required by the policy", "lowers exposure by 0.2"

    @property
    def comment(self) -> str:
        what = changes(self.text)
        return f"# {self.why}" + (f"; changes behaviour: {what}" if what else "")


@dataclass(frozen=True)
class Plan:
    analysis: UnitAnalysis
    path: str  # the drop-in
    section: str
    lines: tuple[Line, ...]
    unfixable: tuple[Finding, ...]  # findings no drop-in line resolves
    before: int | None
    after: int | None  # predicted; None: not predicted (quadlets are re-scored once written)
    maximum: int | None
    policy: str

    def text(self, existing: str) -> str:
        header = (
            f"# Written by `unitgate fix` so that {self.analysis.unit} meets its policy ({self.policy}).\n"
            '# Review before committing: lines marked "changes behaviour" restrict what the service may\n'
            "# do (network, user, address families, system calls, writable paths...); test it with them.\n"
        )
        body = "".join(f"{line.comment}\n{line.text}\n" for line in self.lines)
        if existing.strip():
            return existing.rstrip("\n") + f"\n\n# Added by `unitgate fix`.\n[{self.section}]\n{body}"
        return f"{header}[{self.section}]\n{body}"


def plan_unit(analysis: UnitAnalysis, policy: UnitPolicy, findings: Sequence[Finding], name: str) -> Plan:
    """The drop-in that makes one unit meet its policy (as far as lines in a drop-in can)."""
    where = dropin_path(analysis, name) or f"{analysis.path}.d/{name}"
    section = section_of(analysis)
    container = section == "Container"
    required: list[Line] = []
    unfixable: list[Finding] = []
    for f in findings:
        if f.rule == "UG201" or not f.effective_level.blocks:
            continue
        if not f.fix or not _WRITABLE.match(f.fix):
            unfixable.append(f)
        elif all(line.text != f.fix for line in required):
            required.append(
                Line(
                    f.fix,
                    "required by the policy"
                    if f.rule != "UG103"
                    else f"the policy forbids the {f.directive}= in effect",
                )
            )
    maximum = policy.container.max_exposure if container else policy.max_exposure
    if container:
        return Plan(
            analysis,
            where,
            section,
            tuple(required) + _container_lines(analysis, policy, required),
            tuple(unfixable),
            analysis.exposure,
            None,
            maximum,
            policy.description,
        )
    existing = read_existing(where)
    lines = list(required)

    def rescore(candidate: list[Line]) -> UnitAnalysis | None:
        return with_dropin(analysis, dropin_text(section, [x.text for x in candidate], existing), name)

    before = unit_exposure(analysis, policy)
    after_unit = rescore(lines) if lines else analysis
    after = None if after_unit is None else unit_exposure(after_unit, policy)
    if after_unit is not None and after is not None and maximum is not None and after > maximum:
        lines, after = _lower(analysis, policy, lines, after, maximum, rescore)
    return Plan(
        analysis, where, section, tuple(lines), tuple(unfixable), before, after, maximum, policy.description
    )


def _lower(
    analysis: UnitAnalysis,
    policy: UnitPolicy,
    lines: list[Line],
    current: int,
    maximum: int,
    rescore: Callable[[list[Line]], UnitAnalysis | None],
) -> tuple[list[Line], int]:
    """Add exposure lines, those the service does not notice first, biggest first, each kept only
    if the re-scored unit is lower with it, until the unit is at or below its maximum."""
    excluded = policy.exclude_checks
    candidates = sorted(
        (c for c in analysis.checks if c.badness and canonical_check(c.json_field) not in excluded),
        key=lambda c: (changes(unit_check_fix(c)) is not None, -((c.badness or 0) * c.weight) // c.range),
    )
    for check in candidates:
        if current <= maximum:
            break
        text = unit_check_fix(check)
        if not _WRITABLE.match(text) or "/" in text.partition("=")[0] or any(x.text == text for x in lines):
            continue
        trial = [*lines, Line(text, "")]
        scored = rescore(trial)
        value = None if scored is None else unit_exposure(scored, policy)
        if value is not None and value < current:
            lines = [*lines, Line(text, f"lowers exposure by {tenths(current - value)}")]
            current = value
    return lines, current


def _container_lines(
    analysis: UnitAnalysis, policy: UnitPolicy, required: Sequence[Line]
) -> tuple[Line, ...]:
    maximum = policy.container.max_exposure
    if maximum is None or analysis.exposure is None or analysis.exposure <= maximum:
        return ()
    keys = {line.text.partition("=")[0] for line in required}
    out = []
    for check in analysis.checks:
        text = _CONTAINER_FIXES.get(check.json_field)
        if check.badness and text and text.partition("=")[0] not in keys:
            out.append(Line(text, "lowers exposure"))
    return tuple(out)


def _diff(path: str, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def _decided_later(finding: Finding, name: str) -> str:
    """A hint when the line that decides a value is in a drop-in applied after ours."""
    path = finding.location.path
    if os.path.basename(os.path.dirname(path)).endswith(".d") and os.path.basename(path) > name:
        return f" (decided by a drop-in applied after {name}: edit that line, or pick a later --name)"
    return ""


def _score_text(value: int | None) -> str:
    return tenths(value) if value is not None else "?"


def run(ns: argparse.Namespace) -> int:
    """The `unitgate fix` subcommand."""
    from unitgate.gate.run import check

    name: str = ns.name
    if "/" in name or not name.endswith(".conf") or name.startswith("."):
        print(f"unitgate: error: --name must be a file name ending in .conf, not {name!r}", file=sys.stderr)
        return EXIT_ERROR
    try:
        result = check(ns.paths, policy_file=ns.policy, grouped=False)
    except (PolicyError, UnitInputError) as exc:
        return input_error(exc)
    if result.errors:  # a missing path or a broken policy: nothing half-done
        for error in result.errors:
            print(f"unitgate: {escape.text(error)}", file=sys.stderr)
        return EXIT_ERROR
    out: list[str] = []
    failing = False
    written: list[str] = []
    done: set[str] = set()
    for analysis, policy in result.checked:
        if analysis.unit in done:
            continue  # a unit gated on several scoring models: one drop-in, for all their findings
        done.add(analysis.unit)
        findings = [f for f in result.findings if f.unit == analysis.unit and f.effective_level.blocks]
        if not findings:
            out.append(f"{analysis.unit}: meets its policy, nothing to write")
            continue
        plan = plan_unit(analysis, policy, findings, name)
        if not plan.lines:
            failing = True
            out.append(f"{analysis.unit}: no drop-in line can fix this; change the unit as the findings say:")
            out += [f"  {f.location.path}:{f.line}:1: {f.rule} {f.message}" for f in findings]
            continue
        existing = read_existing(plan.path)
        text = plan.text(existing)
        after_findings: list[Finding] | None = None
        if ns.diff:
            out.append(_diff(plan.path, existing, text).rstrip("\n"))
            predicted = with_dropin(analysis, text, name) if plan.section != "Container" else None
            if predicted is not None:
                after_findings = [f for f in evaluate_unit(predicted, policy) if f.effective_level.blocks]
            after = plan.after
        else:
            os.makedirs(os.path.dirname(plan.path) or ".", exist_ok=True)
            with open(plan.path, "w", encoding="utf-8") as handle:
                handle.write(text)
            written.append(plan.path)
            again = check([analysis.path], policy_file=ns.policy, grouped=False)
            after_findings = [
                f for f in again.findings if f.unit == analysis.unit and f.effective_level.blocks
            ]
            after = next((u.exposure for u in again.info.units if u.unit == analysis.unit), None)
        verb = "would write" if ns.diff else "wrote"
        left = "?" if after_findings is None else str(len(after_findings))
        change = f"exposure {_score_text(plan.before)} -> {_score_text(after)}"
        out.append(
            f"{analysis.unit}: {verb} {plan.path} ({_lines(len(plan.lines))}): {change} "
            f"(maximum {_score_text(plan.maximum)}), findings {len(findings)} -> {left}"
        )
        for line in plan.lines:
            what = changes(line.text)
            out.append(f"  + {line.text}" + (f"   [changes behaviour: {what}]" if what else ""))
        if after_findings is None or after_findings:
            failing = True
        for f in after_findings or []:
            later = _decided_later(f, name)
            out.append(f"  still failing: {f.location.path}:{f.line}:1: {f.rule} {f.message}{later}")
        for f in plan.unfixable:
            if after_findings is None:
                out.append(f"  not fixed by a drop-in: {f.location.path}:{f.line}:1: {f.rule} {f.message}")
        if after_findings is None:
            out.append("  (a container is re-scored once the drop-in is written: run without --diff)")
    if written:
        out.append("Review the drop-ins and test the services before committing them.")
    # Paths, unit names and messages come from the repository: every printed line through escape.py.
    sys.stdout.write("\n".join(escape.plain_line(line) for item in out for line in item.split("\n")) + "\n")
    return EXIT_FINDINGS if failing else EXIT_OK
