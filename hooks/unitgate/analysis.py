"""What the engine hands to reporters and the gate: one result per analysed unit."""

from __future__ import annotations

from unitgate.memo import cached_property
from unitgate.model import Assignment, Diagnostic, Location
from unitgate.records import Enum, NamedTuple, dataclass, field

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:  # the engine's types; analysis stays importable without the engine
    from collections.abc import Mapping, Sequence

    from unitgate.security.info import SecurityInfo
    from unitgate.security.settings import UnitState


class LoadState(str, Enum):
    """systemd's load states, as far as an offline check can tell them apart."""

    LOADED = "loaded"
    MASKED = "masked"  # empty file or symlink to /dev/null: not scored
    NOT_FOUND = "not-found"  # e.g. a drop-in whose base unit is not in the repository
    ERROR = "error"  # syntax systemd refuses (bad header, invalid UTF-8, line too long)
    BAD_SETTING = "bad-setting"  # a setting systemd refuses (User=00, no ExecStart=...)
    SKIPPED = "skipped"  # nothing to score in this file by itself (e.g. a quadlet .volume)


class CheckResult(NamedTuple):
    """One row of systemd-analyze's table, plus the line that decided it.

    A NamedTuple rather than a frozen dataclass: a run creates 81 per unit, and tuples are built
    several times faster, which matters for thousands of units.
    """

    name: str  # systemd-analyze's NAME column, e.g. "CapabilityBoundingSet=~CAP_SYS_ADMIN"
    json_field: str  # systemd's policy key, stable id
    weight: int
    range: int
    badness: int | None  # None: not applicable
    exposure: int | None  # tenths; None when badness is 0 or n/a (systemd prints nothing)
    description: str | None
    directives: tuple[str, ...]  # directives a user edits to change this row, e.g. ("PrivateTmp",)
    source: Location | None = None  # the line whose setting decided the row; None: default

    @property
    def set(self) -> bool | None:
        """systemd-analyze's ✓ (True) / ✗ (False) / n/a (None)."""
        if self.badness is None:
            return None
        return self.badness == 0


class Merged(NamedTuple):
    """The engine's merged unit: what its parsers made of every line (`state`, with `origins`), and
    what systemd-analyze reads after load-time implications (`info`). The gate compares policy
    values against these, never against raw lines. Read-only once the unit is loaded."""

    state: UnitState
    info: SecurityInfo


@dataclass(frozen=True)
class Setting:
    """The effective value of one directive after the base unit and every drop-in are merged."""

    section: str
    key: str
    assignments: tuple[Assignment, ...]  # the lines still in effect (after the last reset), in order

    @property
    def location(self) -> Location | None:
        """The line that decided the effective value: the last one in effect."""
        return self.assignments[-1].location if self.assignments else None

    @property
    def value(self) -> str | None:
        """The last raw value in effect (for replace-style directives)."""
        return self.assignments[-1].value if self.assignments else None


@dataclass(frozen=True)
class UnitAnalysis:
    """Everything unitgate knows about one unit."""

    unit: str  # the name analysed; templates are analysed as instance "i": foo@i.service
    path: str  # the path the user gave
    fragment: str | None  # the base unit file that was loaded
    sources: tuple[str, ...]  # files merged, in the order they were applied
    state: LoadState
    exposure: int | None = None  # tenths (96 = 9.6); None when not loaded
    rating: str | None = None
    checks: Sequence[CheckResult] = ()  # in systemd-analyze's printed order
    assignments: tuple[Assignment, ...] = ()  # every line applied, in merge order
    section_lines: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (file, section) -> line
    diagnostics: tuple[Diagnostic, ...] = ()
    model: str = "systemd-252"  # the scoring model that produced exposure and checks
    wrapper: UnitAnalysis | None = None  # quadlets: the generated service, scored by systemd's model
    merged: Merged | None = field(default=None, compare=False, repr=False)  # None: not loaded

    @cached_property
    def settings(self) -> Mapping[str, Setting]:
        """Per directive ("Service.NoNewPrivileges"), the assignments still in effect after merging:
        an empty assignment resets what came before it (for the directives where systemd resets)."""
        grouped: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            key = f"{a.section}.{a.key}"
            if a.value == "":
                grouped[key] = [a]
            else:
                grouped.setdefault(key, []).append(a)
        return {
            k: Setting(v[0].section, v[0].key, tuple(x for x in v if x.value != "" or len(v) == 1))
            for k, v in grouped.items()
        }

    @property
    def exposure_text(self) -> str | None:
        return None if self.exposure is None else f"{self.exposure // 10}.{self.exposure % 10}"
