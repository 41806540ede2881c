"""What the gate reports: the rule table, one Finding per problem, and what a run was about.

Every finding carries a stable rule id from `RULES`. Reporters only render findings; they never
decide anything. A rule's id never changes meaning: a retired rule keeps its row (`retired=True`).
"""

from __future__ import annotations

from unitgate.model import Location
from unitgate.records import Enum, dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Sequence


class Level(str, Enum):
    """How a finding affects the commit: errors and warnings block it, notes never do."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def blocks(self) -> bool:
        return self is not Level.NOTE


@dataclass(frozen=True)
class Rule:
    id: str  # "UG101": stable, used in suppressions, `ignore`, SARIF ruleId
    name: str  # "required-directive-missing": readable alias, shown in SARIF and docs
    level: Level
    summary: str  # one line, shown as the SARIF shortDescription and in docs
    help: str  # what to do about it, shown as SARIF help text
    man: str | None = None  # man page for rules not about one directive (UG201: systemd-analyze)


RULES: tuple[Rule, ...] = (
    Rule(
        "UG101",
        "required-directive-missing",
        Level.ERROR,
        "A directive the policy requires is not set in the unit or any of its drop-ins.",
        "Add the directive with an accepted value, in the unit or in a drop-in. The finding points at "
        "the [Service] header (for a podman quadlet, the [Container] header) of the file you changed, "
        "which is where the line can go.",
    ),
    Rule(
        "UG102",
        "required-directive-value",
        Level.ERROR,
        "A directive the policy requires is set, but its effective value is not one the policy accepts.",
        "Change the line that decides the effective value (often in a drop-in that overrides the base "
        "unit) to an accepted value. Values are compared by meaning: yes/true/on/1 are the same.",
    ),
    Rule(
        "UG103",
        "forbidden-value",
        Level.ERROR,
        "A directive's effective value (or systemd's default for it) is one the policy forbids.",
        "Change or remove the line that sets the forbidden value; when the value is systemd's default, "
        "set the directive explicitly.",
    ),
    Rule(
        "UG201",
        "exposure-above-maximum",
        Level.ERROR,
        "The unit's systemd-analyze exposure score is above the policy's max-exposure.",
        "Harden the unit until the score is at or below the maximum; the message lists the settings "
        "that save the most. `unitgate explain UNIT` prints every check. For a unit that cannot be "
        "hardened further, raise max-exposure for it in an [[override]] with a reason.",
        man="systemd-analyze",
    ),
    Rule(
        "UG301",
        "unit-load-error",
        Level.ERROR,
        "systemd would refuse to load the unit because of this line.",
        "Fix the line; systemd would not start the unit as written.",
        man="systemd.unit",
    ),
    Rule(
        "UG302",
        "unit-masked",
        Level.NOTE,
        "The unit is masked (an empty file or a symlink to /dev/null), so it is not scored.",
        "Nothing to do if masking is intended.",
        man="systemd.unit",
    ),
    Rule(
        "UG303",
        "base-unit-not-found",
        Level.NOTE,
        "A drop-in's base unit is not in the repository, so the merged unit cannot be checked.",
        "Add the base unit to the repository to have the drop-in checked merged over it.",
        man="systemd.unit",
    ),
    Rule(
        "UG304",
        "line-ignored-by-systemd",
        Level.WARNING,
        "systemd would ignore this line (unknown key, unparsable value, ...); the unit still loads.",
        "Fix the line, or remove it; a setting systemd ignores does not protect anything.",
        man="systemd.unit",
    ),
    Rule(
        "UG305",
        "file-shadowed",
        Level.WARNING,
        "The changed unit file is not the one systemd loads: another file of the same name comes first.",
        "Change the file systemd loads, or remove the one that shadows this file.",
        man="systemd.unit",
    ),
    Rule(
        "UG306",
        "quadlet-service-key",
        Level.WARNING,
        "A [Service] key in a podman quadlet that quadlet does not support (User=, Group=, DynamicUser=): "
        "it changes the podman process, not the container.",
        "Set the container's user with User=/Group= in [Container] (and UserNS= for a user namespace), "
        "and remove the key from [Service]. podman 5.6 and later warn about it; earlier versions pass it "
        "to systemd silently, which runs podman itself as that user.",
        man="podman-systemd.unit",
    ),
    Rule(
        "UG307",
        "quadlet-warning",
        Level.WARNING,
        "quadlet would warn about this line (for example a short image name); the unit is still generated.",
        "Fix the line as the message says.",
        man="podman-systemd.unit",
    ),
    Rule(
        "UG308",
        "file-not-read",
        Level.ERROR,
        "unitgate did not read this file (missing, unreadable, not a regular file, outside the "
        "repository, or not a unit file name); the units it belongs to were checked without it.",
        "Make the file a regular file inside the repository (a symlink may point to another file in "
        "the repository, or to /dev/null to mask), or remove it. systemd skips a drop-in it cannot read, "
        "so hardening in such a file does not protect anything.",
        man="systemd.unit",
    ),
    Rule(
        "UG309",
        "newer-than-release",
        Level.WARNING,
        "The line uses a value or directive that the systemd release of the scoring model does not know "
        "(a later release added it), so on hosts running that release the line does nothing: the "
        "protection it asks for is off.",
        "Use a value that release knows (PrivateTmp=yes instead of PrivateTmp=disconnected on 252), or, "
        "if no host runs that release, set the policy's scoring to the release your hosts run. The "
        "message names the release that added the value.",
        man="systemd.exec",
    ),
    Rule(
        "UG401",
        "suppression-without-reason",
        Level.ERROR,
        'A `# unitgate: disable=...` comment has no reason="...".',
        'Add reason="why this is acceptable" to the comment.',
    ),
    Rule(
        "UG402",
        "unused-suppression",
        Level.WARNING,
        "A suppression comment matches no finding.",
        "Remove the comment, or fix the rule id or directive name it names.",
    ),
    Rule(
        "UG403",
        "malformed-suppression",
        Level.ERROR,
        "A `# unitgate:` comment cannot be understood.",
        'Write `# unitgate: disable=RULE-OR-DIRECTIVE[,...] reason="..."` (next line) or '
        '`# unitgate: disable-file=... reason="..."` (whole file).',
    ),
    Rule(
        "UG901",
        "unsupported-file",
        Level.ERROR,
        "unitgate cannot check this kind of file yet.",
        "Exclude the file from the hook until support lands, e.g. `exclude: \\.container$` in "
        ".pre-commit-config.yaml.",
    ),
    Rule(
        "UG902",
        "no-container-policy",
        Level.NOTE,
        "The policy has no [container] rules, so a podman quadlet was only checked for load errors and "
        "quadlet warnings.",
        "Add a [container] table to the policy (max-exposure, [container.require], [container.forbid]) "
        "to hold containers to a standard.",
    ),
    Rule(
        "UG903",
        "too-many-findings",
        Level.WARNING,
        "A file has more findings than unitgate shows for one file; the rest are counted in this finding.",
        "Fix the findings shown and run again; a file with this many problems is usually not a unit file "
        "or is badly broken.",
    ),
    Rule(
        "UG904",
        "container-mode-declared",
        Level.NOTE,
        "The policy declared how a podman quadlet runs (rootless or rootful), so it was read that way "
        "rather than as its location implies.",
        "Nothing to do if the declaration is right: [container] rootless = true/false, or a list of "
        "path globs of rootless quadlets (relative to the policy file). The JSON output's `mode` says "
        "how every container was read, and why.",
        man="podman-systemd.unit",
    ),
)

RULE_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

MAN_BASE = "https://www.freedesktop.org/software/systemd/man/"
# podman-systemd.unit(5) for the podman release quadlet-1 reads; its headings have no stable anchors.
PODMAN_MAN = "https://docs.podman.io/en/v5.4.2/markdown/podman-systemd.unit.5.html"

# Directives documented outside systemd.exec(5); everything else in [Service] is in systemd.exec(5).
_RESOURCE_CONTROL = frozenset(
    [
        "Delegate",
        "DeviceAllow",
        "DevicePolicy",
        "IPAddressAllow",
        "IPAddressDeny",
        "IPIngressFilterPath",
        "IPEgressFilterPath",
        "RestrictNetworkInterfaces",
        "SocketBindAllow",
        "SocketBindDeny",
        "ManagedOOMSwap",
        "Slice",
    ]
)
_SERVICE = frozenset(
    [
        "Type",
        "ExitType",
        "RemainAfterExit",
        "GuessMainPID",
        "PIDFile",
        "BusName",
        "ExecStart",
        "ExecStartPre",
        "ExecStartPost",
        "ExecCondition",
        "ExecReload",
        "ExecStop",
        "ExecStopPost",
        "RestartSec",
        "TimeoutStartSec",
        "TimeoutStopSec",
        "TimeoutAbortSec",
        "TimeoutSec",
        "RuntimeMaxSec",
        "WatchdogSec",
        "Restart",
        "SuccessExitStatus",
        "NotifyAccess",
        "Sockets",
        "FileDescriptorStoreMax",
        "OOMPolicy",
    ]
)


def man_page(directive: str) -> str:
    """The man page documenting `directive` ("NoNewPrivileges" or "Unit.After")."""
    section, _, key = directive.rpartition(".")
    if section in ("Container", "Quadlet"):
        return "podman-systemd.unit"
    if section == "Unit" or section == "Install":
        return "systemd.unit"
    if key in _RESOURCE_CONTROL:
        return "systemd.resource-control"
    if key in _SERVICE:
        return "systemd.service"
    return "systemd.exec"


def man_url(directive: str) -> str:
    """freedesktop.org's page and anchor for a directive, as systemd-analyze's own links are built."""
    key = directive.rpartition(".")[2]
    page = man_page(directive)
    if page == "podman-systemd.unit":
        return PODMAN_MAN
    return f"{MAN_BASE}{page}.html#{key}="


def rule_url(rule: Rule) -> str | None:
    if rule.man == "podman-systemd.unit":
        return PODMAN_MAN
    return f"{MAN_BASE}{rule.man}.html" if rule.man else None


@dataclass(frozen=True)
class Finding:
    """One problem, at the line the user should change."""

    rule: str  # an id from RULES
    location: Location
    message: str  # says what to write
    unit: str | None = None  # the unit the finding is about, if any
    directive: str | None = None  # "NoNewPrivileges": for suppressions and man-page links
    level: Level | None = None  # None: the rule's level
    models: tuple[str, ...] = ()  # the scoring models the finding holds under ("systemd-257"); () for none
    fix: str | None = None  # the `Key=value` line that resolves it, in the unit's own section, if one does

    @property
    def effective_level(self) -> Level:
        return self.level or RULE_BY_ID[self.rule].level

    @property
    def line(self) -> int:
        """1-based line to show; findings about a whole file point at its first line."""
        return self.location.line or 1

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.location.path, self.line, self.rule, self.message)


@dataclass(frozen=True)
class UnitSummary:
    """One checked unit, for reporters that list units (json) and the text summary."""

    unit: str
    path: str  # the changed file that made the unit be checked
    state: str  # LoadState value
    exposure: int | None  # tenths, as scored under the policy (after exclude-checks)
    max_exposure: int | None  # tenths
    policy: str  # where the policy came from, e.g. ".unitgate.toml (extends strict@1)"
    model: str = "systemd-252"  # the exposure model: "systemd-252", or "quadlet-1" for a container
    podman: str | None = None  # a container: the podman release whose quadlet read it ("5.4")
    mode: str | None = None  # a container: how it was read and why ("rootless (it lives in ...)")


@dataclass(frozen=True)
class RunInfo:
    """What reporters need besides the findings."""

    version: str
    units: tuple[UnitSummary, ...] = ()
    files: tuple[str, ...] = ()  # the paths given
    color: bool = False  # text: ANSI colours (decided by the caller: TTY, NO_COLOR, FORCE_COLOR)
    suppressed: int = 0  # findings silenced by a suppression
    checked_files: int = 0  # distinct files read: the paths given and every file merged into a unit
    errors: int = 0  # things that could not be checked at all (told on stderr; exit 2)
    baselined: int = 0  # findings the baseline (.unitgate-baseline.json) records and that are still there
    baseline_note: str = ""  # what to tell the user about the baseline, if one was used


def blocking(findings: Sequence[Finding]) -> bool:
    return any(f.effective_level.blocks for f in findings)


def counts(findings: Sequence[Finding]) -> dict[Level, int]:
    result = dict.fromkeys(Level, 0)
    for finding in findings:
        result[finding.effective_level] += 1
    return result


def tenths(value: int | None) -> str:
    """96 -> "9.6"."""
    return "n/a" if value is None else f"{value // 10}.{value % 10}"
