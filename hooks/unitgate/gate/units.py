"""Unit rules: one systemd unit against its policy's `require`, `forbid` and `max-exposure`.

Every value compared comes from the engine's merged unit (gate/values.py), with the line that decided
it; policy values are read by the engine's own parsers. Directives the engine does not track (paths,
environment...) are compared as the merged lines in effect: a value matches when all its words are in
them.
"""

from __future__ import annotations

import os

from unitgate.analysis import CheckResult, UnitAnalysis
from unitgate.findings import Finding, tenths
from unitgate.gate import values
from unitgate.gate.behaviour import changes
from unitgate.gate.exposure import exposure_advice, saved, savings, unit_check_fix, unit_exposure
from unitgate.gate.load import NEWER_RELEASE
from unitgate.gate.values import Kind, Reading
from unitgate.gate.whatif import WHATIF_NAME, dropin_path, dropin_text, read_existing, with_dropin
from unitgate.model import Location
from unitgate.policy import CAPABILITY_DIRECTIVES, UnitPolicy, Value, display_directive
from unitgate.records import dataclass
from unitgate.security.settings import parse_boolean

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Context:
    """One unit being evaluated, and where its user-facing lines are."""

    analysis: UnitAnalysis
    policy: UnitPolicy

    @property
    def unit(self) -> str:
        return self.analysis.unit

    @property
    def changed_header(self) -> Location:
        """The [Service] header of the file the user changed; line 1 if it has none."""
        return _header(self.analysis, self.analysis.path)

    @property
    def unit_header(self) -> Location:
        """The unit's own [Service] header (the base unit file)."""
        return _header(self.analysis, self.analysis.fragment or self.analysis.path)


def _header(analysis: UnitAnalysis, path: str) -> Location:
    wanted = os.path.normpath(path)
    for (file, section), line in analysis.section_lines.items():
        if section == "Service" and os.path.normpath(file) == wanted:
            return Location(file, line)
    return Location(path, 1)


def evaluate_unit(analysis: UnitAnalysis, policy: UnitPolicy) -> list[Finding]:
    """The policy's findings for one loaded unit (load findings come from gate/load.py)."""
    ctx = Context(analysis, policy)
    findings: list[Finding] = []
    for key, value in policy.require.items():
        findings.extend(_require(ctx, key, value))
    for key, value in policy.forbid.items():
        findings.extend(_forbid(ctx, key, value))
    findings.extend(_exposure(ctx, findings))
    return findings


# --- spelling ----------------------------------------------------------------------------------------


def _spell(value: Value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else value[0]


def _alternatives(value: Value) -> tuple[str, ...]:
    if isinstance(value, bool):
        return (_spell(value),)
    return (value,) if isinstance(value, str) else value


def _accepted_text(value: Value) -> str:
    if isinstance(value, tuple) and len(value) > 1:
        return f" (accepted: {', '.join(value)})"
    return ""


def _suggest(key: str, value: Value) -> str:
    name = display_directive(key)
    if value == "*":
        return f"{name}=<value>"
    if key in CAPABILITY_DIRECTIVES and not isinstance(value, bool):
        return f"{name}={' '.join(_alternatives(value))}"
    return f"{name}={_spell(value)}"


def _fix(key: str, value: Value) -> str | None:
    """The line a drop-in can carry to meet a requirement; None when the policy only says "set"."""
    return None if value == "*" else _suggest(key, value)


def _engine_text(reading: Reading) -> str:
    """The engine's value as a unit file would spell it."""
    value = reading.value
    if reading.kind is Kind.UMASK and isinstance(value, int):
        return f"{value:04o}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "root" if value is None and reading.kind is Kind.USER else str(value)


def _shown(ctx: Context, key: str, reading: Reading) -> str:
    """`Name=value` as the deciding line wrote it (or the engine's value, for a default or an
    implication), with what implied it."""
    raw = values.written_text(ctx.analysis, key, reading.location) if reading.implied_by is None else None
    text = raw if raw is not None else _engine_text(reading)
    implied = f" (implied by {reading.implied_by})" if reading.implied_by else ""
    return f"{display_directive(key)}={text}{implied}"


# --- comparing by meaning ----------------------------------------------------------------------------


def _scalar_matches(key: str, reading: Reading, alternative: str | bool, model: str) -> bool:
    """Whether a scalar directive's engine value is this policy alternative."""
    _, field = values.FIELDS[key.partition(".")[2]]
    if reading.kind is Kind.USER:
        # No User= (and no DynamicUser=): the service runs as root.
        actual = reading.value if isinstance(reading.value, str) else "root" if field == "user" else None
        return values.same_identity(str(alternative), actual)
    return values.policy_scalar(key, reading.kind, field, alternative, model) == reading.value


def _alternatives_of(value: Value) -> tuple[str | bool, ...]:
    return (value,) if isinstance(value, bool | str) else value


def _accepts(key: str, reading: Reading, value: Value, model: str) -> bool:
    if value == "*":
        return reading.location is not None
    if reading.kind in (Kind.FAMILIES, Kind.SYSCALLS):
        return not isinstance(value, bool) and any(
            values.meets(key, reading.kind, reading.value, alt, model) for alt in _alternatives(value)
        )
    return any(_scalar_matches(key, reading, alt, model) for alt in _alternatives_of(value))


def _require(ctx: Context, key: str, value: Value) -> list[Finding]:
    reading = values.read(ctx.analysis, key)
    if reading is None:
        return _require_lines(ctx, key, value)
    if reading.kind is Kind.CAPS:
        return _require_capabilities(ctx, key, value, reading)
    name = display_directive(key)
    accepted = _accepted_text(value)
    if reading.location is None:
        return [
            Finding(
                "UG101",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not {_unset_why(ctx.analysis, name)}, and the policy requires it: "
                f"write {_suggest(key, value)} in [Service]{accepted}",
                ctx.unit,
                name,
                fix=_fix(key, value),
            )
        ]
    if _accepts(key, reading, value, ctx.analysis.model):
        return []
    return [
        Finding(
            "UG102",
            reading.location,
            f"{ctx.unit}: {_shown(ctx, key, reading)} is not accepted by the policy"
            f"{_overrides(ctx, key, reading, value)}: write {_suggest(key, value)}{accepted}",
            ctx.unit,
            name,
            fix=_fix(key, value),
        )
    ]


def _unset_why(analysis: UnitAnalysis, name: str) -> str:
    """'set', or why a line that sets it has no effect on the scoring model's release (UG309)."""
    for d in analysis.diagnostics:
        if d.code in NEWER_RELEASE and d.message.startswith(f"{name}="):
            return f"in effect ({d.location}: {d.message.split(';')[0]})"
    return "set"


def _overrides(ctx: Context, key: str, reading: Reading, value: Value) -> str:
    """', overriding X=good from base.service:7' when a drop-in weakened an accepted earlier line."""
    setting = ctx.analysis.settings.get(key)
    if not setting or reading.implied_by or reading.location is None:
        return ""
    for earlier in reversed(setting.assignments[:-1]):
        if earlier.location.path == reading.location.path:
            continue
        probed = values.probe(key, earlier.value, ctx.analysis.model)
        if probed is None:
            continue
        alone = values.read_merged(probed, key)
        if _accepts(key, alone, value, ctx.analysis.model):
            return f", overriding {display_directive(key)}={earlier.value} at {earlier.location}"
    return ""


def _require_capabilities(ctx: Context, key: str, value: Value, reading: Reading) -> list[Finding]:
    name = display_directive(key)
    allowed = values.policy_caps(" ".join(_alternatives(value)).split()) if not isinstance(value, bool) else 0
    assert isinstance(reading.value, int)
    extra = reading.value & ~allowed
    if not extra:
        return []
    allowed_text = " ".join(values.cap_names(allowed)) or "(empty)"
    if not reading.written and key == "Service.CapabilityBoundingSet":
        return [
            Finding(
                "UG101",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, so the service keeps every capability; the policy allows "
                f"only {allowed_text}: write {_suggest(key, value)} in [Service]",
                ctx.unit,
                name,
                fix=_fix(key, value),
            )
        ]
    return [
        Finding(
            "UG102",
            reading.location or ctx.changed_header,
            f"{ctx.unit}: {name}= includes {' '.join(values.cap_names(extra))}, but the policy allows only "
            f"{allowed_text}: write {_suggest(key, value)}",
            ctx.unit,
            name,
            fix=_fix(key, value),
        )
    ]


def _forbid(ctx: Context, key: str, value: Value) -> list[Finding]:
    reading = values.read(ctx.analysis, key)
    if reading is None:
        return _forbid_lines(ctx, key, value)
    if reading.kind is Kind.CAPS:
        return _forbid_capabilities(ctx, key, value, reading)
    if reading.kind in (Kind.FAMILIES, Kind.SYSCALLS):
        return _forbid_set(ctx, key, value, reading)
    if key != "Service.User" and reading.kind is Kind.USER and reading.value is None:
        return []  # no Group=: the user's own group
    if not any(_scalar_matches(key, reading, alt, ctx.analysis.model) for alt in _alternatives_of(value)):
        return []
    name = display_directive(key)
    user_fix = "set User= to an unprivileged user, or DynamicUser=yes"
    flip = f"{name}={'no' if value else 'yes'}" if isinstance(value, bool) else None
    if reading.location is None:
        fix = user_fix if key == "Service.User" else f"set {name}= explicitly to another value"
        line = "DynamicUser=yes" if key == "Service.User" else flip
        return [
            Finding(
                "UG103",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, so systemd uses {_shown(ctx, key, reading)}, which the "
                f"policy forbids: {fix}",
                ctx.unit,
                name,
                fix=line,
            )
        ]
    if key == "Service.User":
        fix = user_fix
    elif flip is not None:
        fix = f"write {flip}"
    else:
        fix = "change or remove this line"
    return [
        Finding(
            "UG103",
            reading.location,
            f"{ctx.unit}: {_shown(ctx, key, reading)} is forbidden by the policy: {fix}",
            ctx.unit,
            name,
            fix=None if key == "Service.User" else flip,
        )
    ]


def _forbid_set(ctx: Context, key: str, value: Value, reading: Reading) -> list[Finding]:
    """A forbidden family or system call (group) fires when the unit allows any of it."""
    if isinstance(value, bool):
        return []
    hits = list(
        dict.fromkeys(
            word
            for alt in _alternatives(value)
            for word in values.allowed_words(key, reading.kind, reading.value, alt, ctx.analysis.model)
        )
    )
    if not hits:
        return []
    name, words = display_directive(key), " ".join(hits)
    where = reading.location or ctx.changed_header
    state = "is not set, so the service may use" if reading.location is None else "allows"
    return [
        Finding(
            "UG103",
            where,
            f"{ctx.unit}: {name}= {state} {words}, which the policy forbids: write {name}=~{words}",
            ctx.unit,
            name,
            fix=f"{name}=~{words}",
        )
    ]


def _forbid_capabilities(ctx: Context, key: str, value: Value, reading: Reading) -> list[Finding]:
    name = display_directive(key)
    forbidden = (
        values.policy_caps(" ".join(_alternatives(value)).split()) if not isinstance(value, bool) else 0
    )
    assert isinstance(reading.value, int)
    present = reading.value & forbidden
    if not present:
        return []
    names = " ".join(values.cap_names(present))
    if not reading.written:
        return [
            Finding(
                "UG103",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, so the service keeps {names}, which the policy forbids: "
                f"write {name}= listing only the capabilities the service needs (empty for none)",
                ctx.unit,
                name,
                fix=f"{name}=~{names}" if key == "Service.CapabilityBoundingSet" else None,
            )
        ]
    if key == "Service.AmbientCapabilities":
        fix = f"remove {names} from {name}="
    else:
        fix = f"write {name}=~{names}, or leave {names} out of the list"
    return [
        Finding(
            "UG103",
            reading.location or ctx.changed_header,
            f"{ctx.unit}: {name}= includes {names}, which the policy forbids: {fix}",
            ctx.unit,
            name,
        )
    ]


# --- directives the engine does not track: the merged lines in effect -------------------------------


def _line_matches(text: str, alternative: str) -> bool:
    ours, theirs = parse_boolean(text.strip()), parse_boolean(alternative.strip())
    if ours is not None and theirs is not None:
        return ours is theirs
    return set(alternative.split()) <= set(text.split())


def _lines_accept(text: str, value: Value) -> bool:
    if value == "*":
        return bool(text.strip())
    return any(_line_matches(text, alt) for alt in _alternatives(value))


def _require_lines(ctx: Context, key: str, value: Value) -> list[Finding]:
    name, accepted = display_directive(key), _accepted_text(value)
    setting = ctx.analysis.settings.get(key)
    if setting is None:
        return [
            Finding(
                "UG101",
                ctx.changed_header,
                f"{ctx.unit}: {name}= is not set, and the policy requires it: "
                f"write {_suggest(key, value)} in [Service]{accepted}",
                ctx.unit,
                name,
                fix=_fix(key, value),
            )
        ]
    text = " ".join(a.value for a in setting.assignments)
    if _lines_accept(text, value):
        return []
    return [
        Finding(
            "UG102",
            setting.location or ctx.changed_header,
            f"{ctx.unit}: {name}={setting.value} is not accepted by the policy: "
            f"write {_suggest(key, value)}{accepted}",
            ctx.unit,
            name,
            fix=_fix(key, value),
        )
    ]


def _forbid_lines(ctx: Context, key: str, value: Value) -> list[Finding]:
    setting = ctx.analysis.settings.get(key)
    if setting is None or setting.location is None:
        return []
    if not _lines_accept(" ".join(a.value for a in setting.assignments), value):
        return []
    name = display_directive(key)
    fix = (
        f"write {name}={'no' if value else 'yes'}"
        if isinstance(value, bool)
        else "change or remove this line"
    )
    return [
        Finding(
            "UG103",
            setting.location,
            f"{ctx.unit}: {name}={setting.value} is forbidden by the policy: {fix}",
            ctx.unit,
            name,
        )
    ]


# --- exposure ----------------------------------------------------------------------------------------


def _exposure(ctx: Context, others: list[Finding]) -> list[Finding]:
    """UG201, with advice that starts where fixing the unit's other findings leaves it: only what is
    still needed after that, preferring changes the service does not notice, marking the others."""
    maximum = ctx.policy.max_exposure
    exposure = unit_exposure(ctx.analysis, ctx.policy)
    if maximum is None or exposure is None or exposure <= maximum:
        return []
    excluded = ctx.policy.exclude_checks
    without = f" (without {', '.join(sorted(excluded))})" if excluded else ""
    head = f"{ctx.unit}: exposure {tenths(exposure)}{without} is above the maximum {tenths(maximum)}: "
    start, prefix = ctx.analysis, ""
    lines = list(dict.fromkeys(f.fix for f in others if f.fix))
    if lines:
        after = _after_fixes(ctx, lines)
        after_exposure = None if after is None else unit_exposure(after, ctx.policy)
        if after is not None and after_exposure is not None:
            fixes = "fixing its other findings" if len(others) > 1 else "fixing its other finding"
            if after_exposure <= maximum:
                return [_exposure_finding(ctx, f"{head}{fixes} brings it to {tenths(after_exposure)}")]
            start, prefix = after, f"{fixes} brings it to {tenths(after_exposure)}; then "
    checks = start.checks
    written = {a.location: a.key for s in start.settings.values() for a in s.assignments}
    steps = savings(
        checks,
        excluded,
        maximum,
        lambda c: c.source is not None and written.get(c.source, "") in c.directives,
        lambda c: changes(unit_check_fix(c)) is not None,
    )
    advice = exposure_advice(steps, lambda c: _advice_item(c, checks, excluded))
    return [_exposure_finding(ctx, f"{head}{prefix}{advice}")]


def _advice_item(check: CheckResult, checks: Sequence[CheckResult], excluded: frozenset[str]) -> str:
    line = unit_check_fix(check)
    what = changes(line)
    note = f", changes behaviour: {what}" if what else ""
    return f"{line} ({saved(check, checks, excluded)}{note})"


def _after_fixes(ctx: Context, lines: list[str]) -> UnitAnalysis | None:
    where = dropin_path(ctx.analysis)
    if where is None:
        return None
    # Named to come after every drop-in, as if each finding were fixed where it points.
    text = dropin_text("Service", lines, read_existing(where))
    return with_dropin(ctx.analysis, text, WHATIF_NAME)


def _exposure_finding(ctx: Context, message: str) -> Finding:
    return Finding("UG201", ctx.unit_header, message, ctx.unit)
