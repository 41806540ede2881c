"""The rule pages: what each rule checks, why, how to fix it, how to suppress it, an example.

One source: `unitgate rule UG201` prints `page("UG201")`, and `docs/rules/UG201.md` is the same text,
written by `python -m unitgate.ruledocs docs/rules` (the test suite fails when they differ). What a
rule checks and how to fix it come from the rule table (findings.py); this module adds the rest.
"""

from __future__ import annotations

import os
import sys

from unitgate.findings import RULE_BY_ID, RULES, Level, Rule
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

# Where the pages are published; the GitHub action points it at the action's own repository.
DOCS_URL_DEFAULT = "https://example.invalid/unitgate/blob/main/docs/rules/"


@dataclass(frozen=True)
class Doc:
    why: str
    example: str  # a unit (or comment) that triggers the rule, and what unitgate prints
    security_severity: float  # GitHub code scanning: 9+ critical, 7+ high, 4+ medium, else low
    behaviour_note: str = ""


_SUPPRESS_BY_LINE = (
    "On the line before the finding's line, write a comment with a reason:\n\n"
    '    # unitgate: disable={id} reason="why this is acceptable"\n\n'
    'or for the whole file `# unitgate: disable-file={id} reason="..."`. Policy-wide: '
    '`ignore = ["{id}"]` in `.unitgate.toml` (or in an `[[override]]` for some units, with a reason). '
    "In a repository adopting unitgate, `unitgate baseline` records today's findings instead."
)


def _example(unit_file: str, unit: str, output: str) -> str:
    """A file that triggers the rule and what `unitgate check` printed for it."""
    shown = f"```ini\n# {unit_file}\n{unit}```\n\n" if unit else ""
    return f"{shown}```text\n$ unitgate check {unit_file}\n{output}\n```"


DOCS: dict[str, Doc] = {
    "UG101": Doc(
        "A directive the repository's policy requires is a promise about every unit: without it the "
        "service keeps a privilege (writing /usr, loading kernel modules, gaining privileges through "
        "setuid binaries...) that the policy says no service here needs.",
        _example(
            "units/demo.service",
            "[Unit]\nDescription=demo\n\n[Service]\nExecStart=/usr/bin/demo\n",
            "units/demo.service:4:1: UG101 demo.service: 2 directives the policy requires are not set: write "
            "[Service] NoNewPrivileges=yes, ProtectSystem=strict in one drop-in, "
            "units/demo.service.d/50-unitgate.conf (`unitgate fix units/demo.service` writes it)",
        ),
        7.5,
    ),
    "UG102": Doc(
        "The directive is there but its effective value, after every drop-in is merged, is weaker than "
        "the policy allows; often a drop-in overrides a good value in the base unit.",
        _example(
            "units/web.service.d/override.conf",
            "# Local tweaks for the staging hosts.\n[Service]\nEnvironment=STAGE=staging\nProtectSystem=no\n",
            "units/web.service.d/override.conf:4:1: UG102 web.service: ProtectSystem=no is not accepted by "
            "the policy, overriding ProtectSystem=strict at units/web.service:9: write ProtectSystem=strict "
            "(accepted: strict, full)",
        ),
        7.5,
    ),
    "UG103": Doc(
        "The policy forbids a value (running as root, holding CAP_SYS_ADMIN, NotifyAccess=all...) "
        "because it gives the service a way out of its sandbox. systemd's default counts: an unset "
        "User= runs the service as root.",
        _example(
            "app.service",
            "[Service]\nExecStart=/usr/bin/app\nUser=root\n",
            "app.service:3:1: UG103 app.service: User=root is forbidden by the policy: set User= to an "
            "unprivileged user, or DynamicUser=yes",
        ),
        8.0,
    ),
    "UG201": Doc(
        "systemd-analyze security's exposure sums what the service could do if it were compromised; "
        "the policy's max-exposure is the most the repository accepts. The advice starts from the score "
        "the unit would have once its other findings are fixed, suggests the changes a service does "
        "not notice first, and marks those that can change what it may do.",
        _example(
            "units/cache.service",
            "",
            "units/cache.service:4:1: UG201 cache.service: exposure 7.9 is above the maximum 7.8: "
            "KeyringMode=private (-0.2) would bring it to 7.8",
        ),
        6.0,
        "Suggestions marked `changes behaviour` (network, user, address families, system calls, writable "
        "paths, devices, capabilities) restrict what the service may do: test the service with them.",
    ),
    "UG301": Doc(
        "systemd refuses to load a unit with this line (bad syntax, a value it cannot accept for a "
        "setting it must have): the service would not start at all after deployment.",
        _example(
            "bad.service",
            "[Service]\nExecStart=/usr/bin/app\nUser=00\n",
            "bad.service:3:1: UG301 systemd would refuse this: User=00: invalid user/group name or numeric "
            "ID; systemd refuses to load the unit",
        ),
        5.0,
    ),
    "UG302": Doc(
        "A masked unit (an empty file or a symlink to /dev/null) cannot be started, so there is "
        "nothing to score; the note says the unit was seen and skipped on purpose.",
        _example(
            "old.service",
            "",
            "old.service:1:1: UG302 old.service is masked (empty file or symlink to /dev/null): not scored",
        ),
        0.1,
    ),
    "UG303": Doc(
        "A drop-in alone says nothing about the unit it changes; without the base unit in the "
        "repository the merged unit cannot be scored.",
        _example(
            "nginx.service.d/override.conf",
            "[Service]\nNoNewPrivileges=yes\n",
            "nginx.service.d/override.conf:1:1: UG303 nginx.service is not in the repository, so this "
            "drop-in cannot be checked merged over it (no unit in the repository that this drop-in applies "
            "to ('nginx.service'))",
        ),
        0.1,
    ),
    "UG304": Doc(
        "systemd ignores lines it cannot use (a misspelt key, a value it cannot parse, a key in the "
        "wrong section) with only a log message: the protection the line was meant to add is silently "
        "missing.",
        _example(
            "typo.service",
            "[Service]\nExecStart=/usr/bin/app\nProtectSytem=strict\n",
            "typo.service:3:1: UG304 systemd would ignore this line: unknown key 'ProtectSytem' in section "
            "[Service], ignored (did you mean ProtectSystem=?)",
        ),
        5.0,
    ),
    "UG305": Doc(
        "Another file of the same unit name comes first in systemd's search path, so the file you "
        "changed is never loaded and your change has no effect.",
        _example(
            "r/usr/lib/systemd/system/app.service",
            "",
            "r/usr/lib/systemd/system/app.service:1:1: UG305 app.service: systemd loads "
            "r/etc/systemd/system/app.service instead of this file (it comes first in the search path)",
        ),
        3.0,
    ),
    "UG306": Doc(
        "In a quadlet, [Service] User=/Group=/DynamicUser= change the user podman itself runs as, not "
        "the container's user; the container may still run as root.",
        _example(
            "containers/tools.container",
            "",
            "containers/tools.container:10:1: UG306 tools.container: quadlet does not support the key User= "
            "in [Service] (podman ≥5.6 warns 'use at your own risk'); it changes the podman process, not the "
            "container. Use User=/Group= in [Container]",
        ),
        5.0,
    ),
    "UG307": Doc(
        "quadlet would warn while generating the service, for example about a short image name, which "
        "podman resolves through registries you may not control.",
        _example(
            "short.container",
            "[Container]\nImage=app\n",
            'short.container:2:1: UG307 quadlet would warn: short.container specifies the image "app" which '
            "not a fully qualified image name. This is not ideal for performance and security reasons. See "
            "the podman-pull manpage discussion of short-name-aliases.conf for details.",
        ),
        3.0,
    ),
    "UG308": Doc(
        "A file unitgate did not read is a file nobody checked: hardening in a dangling drop-in symlink "
        "never applies (systemd skips it; the finding is then a warning), and a symlink out of the "
        "repository would make the gate read the machine it runs on. The finding names the file (and a "
        "symlink's target), never its content; every other file is still checked.",
        _example(
            "web.service",
            "[Service]\nExecStart=/usr/bin/web\n",
            "web.service.d/10-hardening.conf:1:1: UG308 web.service: web.service.d/10-hardening.conf is a "
            "symlink to ../../shared/hardening.conf, outside the repository: not read",
        ),
        5.0,
    ),
    "UG309": Doc(
        "A unit is judged by the systemd release it will run on (the policy's scoring model). A value "
        "that release does not know is ignored there, with a warning in the journal nobody reads: the "
        "author asked for a protection the host does not give. A fleet that still runs the older "
        "release runs the service without it.",
        _example(
            "web.service",
            "[Service]\nExecStart=/usr/bin/web\nPrivateTmp=disconnected\n",
            "web.service:3:1: UG309 web.service: PrivateTmp=disconnected: systemd 252 ignores this value "
            "(added in 257); the protection is off on this release",
        ),
        5.0,
    ),
    "UG401": Doc(
        "A suppression hides a finding from every later reader; the reason is what tells them it was "
        "a decision and not an accident.",
        _example(
            "s.service",
            "# unitgate: disable=NoNewPrivileges\n[Service]\nExecStart=/usr/bin/app\n",
            "s.service:1:1: UG401 suppression of NoNewPrivileges has no reason: write # unitgate: "
            'disable=NoNewPrivileges reason="why this is acceptable"',
        ),
        3.0,
    ),
    "UG402": Doc(
        "A suppression that matches nothing is left over from a fixed finding or names the wrong rule; "
        "it would silently hide a future finding.",
        _example(
            "s.service",
            '# unitgate: disable=NoNewPrivileges reason="legacy"\n[Service]\nExecStart=/usr/bin/app\n',
            "s.service:1:1: UG402 unused suppression: no NoNewPrivileges finding on the next line; remove "
            "the comment",
        ),
        1.0,
    ),
    "UG403": Doc(
        "A `# unitgate:` comment that cannot be read suppresses nothing, which is rarely what its "
        "author meant.",
        _example(
            "m.service",
            "[Service]\nExecStart=/usr/bin/app\n# unitgate: disabel=UG101\nUser=app\n",
            "m.service:3:1: UG403 malformed unitgate comment: expected disable=... or disable-file=..., "
            "found 'disabel=UG101'; write # unitgate: disable=UG101,NoNewPrivileges reason=\"...\"",
        ),
        3.0,
    ),
    "UG901": Doc(
        "unitgate cannot check this kind of file, so it cannot vouch for it; the finding keeps the hook "
        "from passing it silently.",
        _example(
            "app.kube",
            "[Kube]\nYaml=app.yml\n",
            "app.kube:1:1: UG901 only .container quadlets are scored; this file counts as part of the "
            "containers using it: not checked by unitgate 0.1.0; exclude it from the hook until a release "
            "supports it",
        ),
        1.0,
    ),
    "UG902": Doc(
        "Without a [container] table, a quadlet is only checked for what would stop it loading; the "
        "note says so, so that nobody mistakes the pass for a review.",
        _example(
            "web.container",
            "",
            "web.container:1:1: UG902 web.container: the policy (.unitgate.toml (extends baseline@1)) has no "
            "[container] rules, so only quadlet load errors and warnings were checked; add a [container] "
            "table to check more",
        ),
        0.1,
    ),
    "UG903": Doc(
        "One file with thousands of findings (a file that is not a unit, or a generated one) must not "
        "flood the log, the SARIF upload or memory: unitgate shows the first 99 and counts the rest here, "
        "by rule, at the most severe level among them, so the exit code is the same.",
        _example(
            "junk.service",
            "[Service]\nExecStart=/usr/bin/junk\nJunk0=1\n# ... 150 unknown keys\n",
            "junk.service:102:1: UG903 51 more findings in this file are not shown (51 UG304); unitgate "
            "shows 99 per file",
        ),
        1.0,
    ),
    "UG904": Doc(
        "Whether a container is rootless changes its score (a rootless container's root is an "
        "unprivileged host user), and a repository layout rarely says it. When the policy's declaration, "
        "not the file's location, decided it, the note names the declaration, so a reader sees why the "
        "container scored as it did.",
        _example(
            "home/bob/quadlets/app.container",
            "",
            "home/bob/quadlets/app.container:1:1: UG904 app.container: read as a rootless quadlet of podman "
            "5.4.2: its path matches the policy's rootless pattern 'home/*/quadlets/**'",
        ),
        0.1,
    ),
}


def docs_url() -> str:
    url = os.environ.get("UNITGATE_DOCS_URL") or DOCS_URL_DEFAULT
    return url if url.endswith("/") else url + "/"


def page_url(rule_id: str) -> str:
    """The published page of a rule (helpUri in SARIF)."""
    return f"{docs_url()}{rule_id}.md"


def _suppress(rule: Rule) -> str:
    if rule.id == "UG903":
        return "It only counts other findings: fix or suppress those, and it goes away."
    if rule.id in ("UG401", "UG403"):
        return (
            "A suppression cannot excuse itself: fix the comment. Policy-wide, "
            f'`ignore = ["{rule.id}"]` turns the rule off.'
        )
    return _SUPPRESS_BY_LINE.format(id=rule.id)


def page(rule_id: str) -> str:
    """The rule's page, in Markdown (readable as plain text in a terminal)."""
    rule = RULE_BY_ID[rule_id]
    doc = DOCS[rule_id]
    blocks = "blocks the commit" if rule.level is not Level.NOTE else "never blocks the commit"
    parts = [
        f"# {rule.id} {rule.name}",
        f"Level: {rule.level.value} ({blocks}).",
        f"## What it checks\n\n{rule.summary}",
        f"## Why\n\n{doc.why}",
        f"## How to fix it\n\n{rule.help}" + (f"\n\n{doc.behaviour_note}" if doc.behaviour_note else ""),
        f"## How to suppress it\n\n{_suppress(rule)}",
        f"## Example\n\n{doc.example}",
    ]
    return "\n\n".join(parts) + "\n"


def index() -> str:
    rows = "".join(f"| [{r.id}]({r.id}.md) | {r.name} | {r.level.value} | {r.summary} |\n" for r in RULES)
    return (
        "# unitgate rules\n\n"
        "Generated from the rule table by `python -m unitgate.ruledocs docs/rules`; "
        "`unitgate rule ID` prints the same page.\n\n"
        f"| id | name | level | what it checks |\n|---|---|---|---|\n{rows}"
    )


def files() -> dict[str, str]:
    """docs/rules/: one page per rule, and an index."""
    return {"README.md": index(), **{f"{r.id}.md": page(r.id) for r in RULES}}


def find(name: str) -> Rule | None:
    """A rule by id (`UG201`, any case) or name (`exposure-above-maximum`)."""
    wanted = name.strip()
    return next((r for r in RULES if wanted.upper() == r.id or wanted.lower() == r.name), None)


def run(ns: argparse.Namespace) -> int:
    """`unitgate rule [ID]`: one rule's page, or the list of rules."""
    if ns.rule is None:
        width = max(len(r.name) for r in RULES)
        rows = [f"{r.id}  {r.name.ljust(width)}  {r.level.value.ljust(7)}  {r.summary}" for r in RULES]
        sys.stdout.write("\n".join(rows) + "\n\n`unitgate rule ID` prints a rule's page.\n")
        return 0
    rule = find(ns.rule)
    if rule is None:
        import difflib

        names = [r.id for r in RULES] + [r.name for r in RULES]
        close = difflib.get_close_matches(ns.rule, names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else " (`unitgate rule` lists them)"
        print(f"unitgate: error: unknown rule {ns.rule!r}{hint}", file=sys.stderr)
        return 2
    sys.stdout.write(page(rule.id))
    return 0


def main(argv: Sequence[str]) -> int:
    target = argv[0] if argv else "docs/rules"
    os.makedirs(target, exist_ok=True)
    for name, text in files().items():
        with open(os.path.join(target, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
