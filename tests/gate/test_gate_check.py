# ruff: noqa: E501  (expected output lines are compared whole)
"""`unitgate check` end to end on small repositories: the findings a user sees, where they point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, write_tree

from unitgate import gate
from unitgate.analysis import LoadState, UnitAnalysis
from unitgate.model import Diagnostic, Location, Severity

POLICY = """\
policy-version = 1
max-exposure = 9.9

[require]
NoNewPrivileges = true
ProtectSystem = ["strict", "full"]
"""

HARDENED = """\
[Unit]
Description=hardened

[Service]
ExecStart=/usr/bin/app
NoNewPrivileges=yes
ProtectSystem=strict
"""


def lines(run: Run) -> list[str]:
    """The finding lines of text output (without the blank separators and the summary)."""
    return [line for line in run.out.splitlines()[:-1] if line]


def test_hardened_unit_passes(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": HARDENED})
    run = run_cli("check", "app.service", cwd=repo)
    assert (run.code, run.err) == (0, "")
    assert run.out == "All checks passed: 1 unit from 1 file; policy: .unitgate.toml.\n"


def test_missing_directive_points_at_service_header_of_unit(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": HARDENED.replace("NoNewPrivileges=yes\n", "")})
    run = run_cli("check", "app.service", cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        "app.service:4:1: UG101 app.service: NoNewPrivileges= is not set, and the policy requires it: "
        "write NoNewPrivileges=yes in [Service]"
    ]
    assert run.out.splitlines()[-1] == "Found 1 error in 1 unit from 1 file; policy: .unitgate.toml."


def test_missing_directive_points_at_changed_dropin(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": POLICY,
            "app.service": HARDENED.replace("NoNewPrivileges=yes\n", ""),
            "app.service.d/10-limits.conf": "# limits\n\n[Service]\nLimitNOFILE=1024\n",
            "app.service.d/20-unit.conf": "[Unit]\nDescription=x\n",
        },
    )
    run = run_cli("check", "app.service.d/10-limits.conf", cwd=repo)
    assert lines(run) == [
        "app.service.d/10-limits.conf:3:1: UG101 app.service: NoNewPrivileges= is not set, and the policy "
        "requires it: write NoNewPrivileges=yes in [Service]"
    ]
    # A drop-in without a [Service] header: line 1.
    run = run_cli("check", "app.service.d/20-unit.conf", cwd=repo)
    assert lines(run)[0].startswith("app.service.d/20-unit.conf:1:1: UG101 ")


def test_unit_and_dropin_given_in_any_order_point_at_the_unit(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    # A directory lists a prefix drop-in (`app-.service.d/`) before the units it reaches: `check DIR`
    # must say what `check` of the unit files says, whatever order the paths come in.
    write_tree(
        repo,
        {
            ".unitgate.toml": POLICY,
            "app-.service.d/10-limits.conf": "[Service]\nLimitNOFILE=1024\n",
            "app-web.service": HARDENED.replace("NoNewPrivileges=yes\n", ""),
        },
    )
    expected = [
        "app-web.service:4:1: UG101 app-web.service: NoNewPrivileges= is not set, and the policy "
        "requires it: write NoNewPrivileges=yes in [Service]"
    ]
    assert lines(run_cli("check", "app-.service.d/10-limits.conf", "app-web.service", cwd=repo)) == expected
    assert lines(run_cli("check", ".", cwd=repo)) == expected
    assert lines(run_cli("check", cwd=repo)) == expected


def test_dropin_weakening_base_points_at_dropin_line(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": POLICY,
            "app.service": HARDENED,
            "app.service.d/override.conf": "[Service]\nProtectSystem=no\n",
        },
    )
    run = run_cli("check", "app.service.d/override.conf", cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        "app.service.d/override.conf:2:1: UG102 app.service: ProtectSystem=no is not accepted by the policy, "
        "overriding ProtectSystem=strict at app.service:7: write ProtectSystem=strict (accepted: strict, full)"
    ]


def test_top_level_dropin_checks_every_unit_it_reaches(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": POLICY,
            "a.service": HARDENED,
            "b.service": HARDENED,
            "service.d/weak.conf": "[Service]\nNoNewPrivileges=off\n",
        },
    )
    run = run_cli("check", "service.d/weak.conf", cwd=repo)
    assert [line.split(" ", 3)[:3] for line in lines(run)] == [
        ["service.d/weak.conf:2:1:", "UG102", "a.service:"],
        ["service.d/weak.conf:2:1:", "UG102", "b.service:"],
    ]


def test_exposure_above_maximum(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = POLICY.replace("max-exposure = 9.9", "max-exposure = 8.5")
    write_tree(repo, {".unitgate.toml": policy, "app.service": HARDENED})
    run = run_cli("check", "app.service", cwd=repo)
    assert run.code == 1
    # Changes the service does not notice come first; the others are marked.
    assert lines(run) == [
        "app.service:4:1: UG201 app.service: exposure 9.2 is above the maximum 8.5: ProtectClock=yes (-0.2), "
        "ProtectKernelLogs=yes (-0.2), ProtectControlGroups=yes (-0.2), ProtectKernelModules=yes (-0.2) "
        "would bring it to 8.5"
    ]
    write_tree(repo, {".unitgate.toml": POLICY.replace("max-exposure = 9.9", "max-exposure = 7.0")})
    assert lines(run_cli("check", "app.service", cwd=repo)) == [
        "app.service:4:1: UG201 app.service: exposure 9.2 is above the maximum 7.0: start with "
        "ProtectClock=yes (-0.2), ProtectKernelLogs=yes (-0.2), ProtectControlGroups=yes (-0.2), "
        "ProtectKernelModules=yes (-0.2), PrivateMounts=yes (-0.2), bringing it to 8.3; 10 more changes are "
        "needed (`unitgate explain` lists every check)"
    ]


def test_unit_systemd_refuses_points_at_line(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": HARDENED + "User=00\n"})
    run = run_cli("check", "app.service", cwd=repo)
    assert run.code == 1
    assert len(lines(run)) == 1
    assert lines(run)[0].startswith("app.service:8:1: UG301 systemd would refuse this: User=00")


@pytest.mark.parametrize("content", ["", None], ids=["empty file", "symlink to /dev/null"])
def test_masked_unit_is_reported_not_scored(
    repo: Path, run_cli: Callable[..., Run], content: str | None
) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": content})
    run = run_cli("check", "app.service", cwd=repo)
    assert run.code == 0
    assert lines(run) == [
        "app.service:1:1: UG302 app.service is masked (empty file or symlink to /dev/null): not scored"
    ]
    assert (
        run.out.splitlines()[-1] == "All checks passed: 1 unit from 1 file (1 note); policy: .unitgate.toml."
    )


def test_dropin_without_base_unit_is_a_note(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "nginx.service.d/harden.conf": "[Service]\nPrivateTmp=yes\n"})
    run = run_cli("check", "nginx.service.d/harden.conf", cwd=repo)
    assert run.code == 0
    assert lines(run)[0].startswith("nginx.service.d/harden.conf:1:1: UG303 ")


def test_unsupported_file_is_a_finding_not_a_crash(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Until quadlet support lands, the engine says "not supported"; the gate turns that into UG901."""
    monkeypatch.chdir(repo)
    write_tree(repo, {"web.container": "[Container]\nImage=docker.io/library/nginx\n"})
    diagnostic = Diagnostic(
        Location("web.container"), "quadlet files are not supported yet", Severity.ERROR, gate.NOT_SUPPORTED
    )
    analysis = UnitAnalysis(
        "web.container", "web.container", None, (), LoadState.ERROR, diagnostics=(diagnostic,)
    )
    result = gate.check(["web.container"], analyze=lambda paths, **_: [analysis])
    assert result.exit_code == 1
    assert [(f.rule, str(f.location)) for f in result.findings] == [("UG901", "web.container")]
    assert result.findings[0].message == (
        "quadlet files are not supported yet: not checked by unitgate 0.1.0; "
        "exclude it from the hook until a release supports it"
    )


# --- values compared by meaning ---------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["yes", "on", "1", "true", "TRUE", "t", "y"])
def test_boolean_spellings_are_accepted(repo: Path, run_cli: Callable[..., Run], spelling: str) -> None:
    unit = HARDENED.replace("NoNewPrivileges=yes", f"NoNewPrivileges={spelling}")
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": unit})
    assert run_cli("check", "app.service", cwd=repo).code == 0


def test_dynamic_user_implies_settings(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = "[Service]\nExecStart=/usr/bin/app\nDynamicUser=yes\n"
    write_tree(
        repo, {".unitgate.toml": POLICY.replace('["strict", "full"]', '"strict"'), "app.service": unit}
    )
    assert run_cli("check", "app.service", cwd=repo).code == 0


FORBID = """\
policy-version = 1
[forbid]
User = ["root"]
CapabilityBoundingSet = ["CAP_SYS_ADMIN", "CAP_SYS_MODULE"]
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("User=app\nCapabilityBoundingSet=~CAP_SYS_ADMIN CAP_SYS_MODULE\n", []),
        ("User=app\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", []),
        ("User=app\nCapabilityBoundingSet=~CAP_SYS_ADMIN\nProtectKernelModules=yes\n", []),
        (
            "User=0\nCapabilityBoundingSet=\n",
            [
                "app.service:3:1: UG103 app.service: User=0 is forbidden by the policy: set User= to an "
                "unprivileged user, or DynamicUser=yes"
            ],
        ),
        (
            "User=app\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE cap_sys_admin\n",
            [
                "app.service:4:1: UG103 app.service: CapabilityBoundingSet= includes CAP_SYS_ADMIN, which the "
                "policy forbids: write CapabilityBoundingSet=~CAP_SYS_ADMIN, or leave CAP_SYS_ADMIN out of the list"
            ],
        ),
        (
            "DynamicUser=yes\n",
            [
                "app.service:1:1: UG103 app.service: CapabilityBoundingSet= is not set, so the service keeps "
                "CAP_SYS_MODULE CAP_SYS_ADMIN, which the policy forbids: write CapabilityBoundingSet= listing "
                "only the capabilities the service needs (empty for none)"
            ],
        ),
    ],
    ids=["deny list", "allow list", "implied drop", "User=0 is root", "allow list with it", "unset"],
)
def test_forbidden_values(repo: Path, run_cli: Callable[..., Run], body: str, expected: list[str]) -> None:
    write_tree(repo, {".unitgate.toml": FORBID, "app.service": "[Service]\nExecStart=/usr/bin/app\n" + body})
    run = run_cli("check", "app.service", cwd=repo)
    assert lines(run) == expected
    assert run.code == (1 if expected else 0)


def test_unset_user_is_root(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo, {".unitgate.toml": FORBID, "app.service": "[Service]\nExecStart=/x\nCapabilityBoundingSet=\n"}
    )
    assert lines(run_cli("check", "app.service", cwd=repo)) == [
        "app.service:1:1: UG103 app.service: User= is not set, so systemd uses User=root, which the policy "
        "forbids: set User= to an unprivileged user, or DynamicUser=yes"
    ]


# --- policy features ---------------------------------------------------------------------------------


def test_override_raises_maximum_with_reason(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = POLICY.replace("max-exposure = 9.9", "max-exposure = 5.0") + (
        '\n[[override]]\nunits = ["sshd.service", "getty@*.service"]\nmax-exposure = 9.6\n'
        'reason = "sshd must run as root"\n'
    )
    write_tree(
        repo,
        {
            ".unitgate.toml": policy,
            "sshd.service": HARDENED,
            "getty@.service": HARDENED,
            "app.service": HARDENED,
        },
    )
    run = run_cli("check", "sshd.service", "getty@.service", "app.service", cwd=repo)
    assert [line.split(" ")[:2] for line in lines(run)] == [["app.service:4:1:", "UG201"]]


def test_ignore_rule_and_directive(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = "[Service]\nExecStart=/x\n"
    ignoring = POLICY.replace("[require]", 'ignore = ["NoNewPrivileges"]\n[require]')
    write_tree(repo, {".unitgate.toml": ignoring, "app.service": unit})
    run = run_cli("check", "app.service", cwd=repo)
    assert [line.split(" ")[1] for line in lines(run)] == ["UG101"]
    assert "ProtectSystem=" in run.out
    write_tree(repo, {".unitgate.toml": POLICY.replace("[require]", 'ignore = ["UG101"]\n[require]')})
    assert run_cli("check", "app.service", cwd=repo).code == 0


def test_exclude_checks_rescores(repo: Path, run_cli: Callable[..., Run]) -> None:
    excluded = '["PrivateNetwork", "UserOrDynamicUser", "RestrictAddressFamilies_AF_INET_INET6", "CapabilityBoundingSet_CAP_SYS_ADMIN"]'
    policy = f"policy-version = 1\nmax-exposure = 9.1\nexclude-checks = {excluded}\n"
    write_tree(repo, {".unitgate.toml": policy, "app.service": HARDENED})
    run = run_cli("check", "app.service", "--format", "json", cwd=repo)
    assert run.code == 0, run.out
    assert '"exposure": 9.1' in run.out  # 9.2 with them scored


# --- suppressions ------------------------------------------------------------------------------------


def test_suppression_with_reason_silences_finding(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = (
        "[Unit]\nDescription=x\n"
        '# unitgate: disable=NoNewPrivileges reason="runs sudo"\n'
        "[Service]\nExecStart=/x\nProtectSystem=full\n"
    )
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": unit})
    run = run_cli("check", "app.service", cwd=repo)
    assert (run.code, run.out) == (
        0,
        "All checks passed: 1 unit from 1 file, 1 suppressed; policy: .unitgate.toml.\n",
    )


def test_suppression_without_reason_is_a_finding(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = (
        "[Service]\nExecStart=/x\nProtectSystem=full\n# unitgate: disable=ProtectSystem\nProtectSystem=no\n"
    )
    write_tree(
        repo,
        {".unitgate.toml": POLICY.replace("[require]", 'ignore = ["UG101"]\n[require]'), "app.service": unit},
    )
    run = run_cli("check", "app.service", cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        "app.service:4:1: UG401 suppression of ProtectSystem has no reason: "
        'write # unitgate: disable=ProtectSystem reason="why this is acceptable"'
    ]


def test_file_wide_suppression_in_base_covers_dropin_finding(repo: Path, run_cli: Callable[..., Run]) -> None:
    base = '# unitgate: disable-file=UG102 reason="legacy"\n' + HARDENED
    files = {
        ".unitgate.toml": POLICY,
        "app.service": base,
        "app.service.d/o.conf": "[Service]\nProtectSystem=no\n",
    }
    write_tree(repo, files)
    assert run_cli("check", "app.service.d/o.conf", cwd=repo).code == 0


def test_unused_suppression(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = HARDENED + '# unitgate: disable=UG101 reason="x"\nPrivateTmp=yes\n'
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": unit})
    run = run_cli("check", "app.service", cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        "app.service:8:1: UG402 unused suppression: no UG101 finding on the next line; remove the comment"
    ]


# --- exit 2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("max-exposure = 5\n", ".unitgate.toml: policy-version is required (this unitgate reads 1)"),
        (
            "policy-version = 2\n",
            ".unitgate.toml: policy-version: unknown policy-version 2 (this unitgate reads "
            "version 1; upgrade unitgate)",
        ),
        (
            "policy-version = 1\nmax_exposure = 5\n",
            ".unitgate.toml: unknown key 'max_exposure' (did you mean 'max-exposure'?)",
        ),
        (
            "policy-version = 1\n[require]\nNoNewPrivileges = 1\n",
            ".unitgate.toml: require.NoNewPrivileges: 1 is "
            "not true/false, a string, or a non-empty list of distinct strings",
        ),
        (
            "policy-version = 1\n[[override]]\nunits = ['a.service']\n",
            ".unitgate.toml: override[0]: 'reason' is a required property",
        ),
        (
            "policy-version = 1\nmax-exposure = 11\n",
            ".unitgate.toml: max-exposure: 11 is greater than the maximum of 10",
        ),
        (
            "policy-version = 1\nextends = 'strict@9'\n",
            ".unitgate.toml: extends: unknown built-in policy "
            "'strict@9' (this unitgate ships: baseline@1, baseline@2, strict@1, strict@2)",
        ),
        ("policy-version = [\n", ".unitgate.toml: invalid TOML: Invalid value (at end of document)"),
    ],
    ids=[
        "no version",
        "unknown version",
        "typo",
        "bad value",
        "no reason",
        "range",
        "unknown builtin",
        "toml",
    ],
)
def test_policy_errors_exit_2(repo: Path, run_cli: Callable[..., Run], policy: str, message: str) -> None:
    write_tree(repo, {".unitgate.toml": policy, "app.service": HARDENED})
    run = run_cli("check", "app.service", cwd=repo)
    assert (run.code, run.out) == (2, "")
    assert run.err == f"unitgate: policy error: {message}\n"


def test_missing_paths_exit_2_bad_names_are_findings(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {"README.md": "x\n"})
    run = run_cli("check", "missing.service", cwd=repo)
    assert (run.code, run.out, run.err) == (2, "", "unitgate: error: missing.service: no such file\n")
    run = run_cli("check", "README.md", cwd=repo)
    assert run.code == 1
    assert run.out.startswith("README.md:1:1: UG308 README.md: 'README.md' is not a valid unit file name")


def test_policy_flag_and_pyproject(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            "pyproject.toml": "[project]\nname = 'x'\n[tool.unitgate]\npolicy-version = 1\nmax-exposure = 0.5\n",
            "units/app.service": HARDENED,
            "strict.toml": 'policy-version = 1\nextends = "strict@1"\n',
        },
    )
    run = run_cli("check", "units/app.service", cwd=repo)
    assert run.out.splitlines()[-1].endswith("policy: pyproject.toml.")
    run = run_cli("check", "--policy", "strict.toml", "units/app.service", cwd=repo)
    assert run.out.splitlines()[-1].endswith("policy: strict.toml (extends strict@1).")
    run = run_cli("check", "--policy", "nope.toml", "units/app.service", cwd=repo)
    assert run.code == 2
    assert (
        run.err == "unitgate: policy error: nope.toml: cannot read policy file: No such file or directory\n"
    )


def test_github_format_chosen_under_actions(
    repo: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "app.service": HARDENED.replace("NoNewPrivileges=yes\n", "")})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = run_cli("check", "app.service", cwd=repo)
    assert run.out.splitlines()[0] == (
        "::error file=app.service,line=4,title=UG101 required-directive-missing::app.service: NoNewPrivileges= "
        "is not set, and the policy requires it: write NoNewPrivileges=yes in [Service]"
    )


def test_exposure_advice_starts_after_the_other_findings(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = 'policy-version = 1\nmax-exposure = 8.0\n[require]\nNoNewPrivileges = true\nProtectSystem = "strict"\n'
    write_tree(repo, {".unitgate.toml": policy, "bare.service": "[Service]\nExecStart=/usr/bin/app\n"})
    assert lines(run_cli("check", "bare.service", cwd=repo)) == [
        "bare.service:1:1: UG101 bare.service: 2 directives the policy requires are not set: write [Service] "
        "NoNewPrivileges=yes, ProtectSystem=strict in one drop-in, bare.service.d/50-unitgate.conf "
        "(`unitgate fix bare.service` writes it)",
        "bare.service:1:1: UG201 bare.service: exposure 9.6 is above the maximum 8.0: fixing its other findings "
        "brings it to 9.2; then start with ProtectClock=yes (-0.2), ProtectKernelLogs=yes (-0.2), "
        "ProtectControlGroups=yes (-0.2), ProtectKernelModules=yes (-0.2), PrivateMounts=yes (-0.2), bringing "
        "it to 8.3; 2 more changes are needed (`unitgate explain` lists every check)",
    ]


def test_exposure_advice_marks_changes_in_behaviour(repo: Path, run_cli: Callable[..., Run]) -> None:
    quiet = (
        "ProtectClock ProtectKernelLogs ProtectControlGroups ProtectKernelModules ProtectKernelTunables "
        "PrivateMounts LockPersonality RestrictRealtime RestrictSUIDSGID NoNewPrivileges ProtectHostname RemoveIPC"
    )
    unit = "[Service]\nExecStart=/usr/bin/app\n" + "".join(f"{d}=yes\n" for d in quiet.split())
    unit += "ProtectProc=invisible\nProcSubset=pid\nUMask=0077\nNotifyAccess=main\nKeyringMode=private\n"
    write_tree(repo, {".unitgate.toml": "policy-version = 1\nmax-exposure = 6.0\n", "app.service": unit})
    assert lines(run_cli("check", "app.service", cwd=repo)) == [
        "app.service:1:1: UG201 app.service: exposure 7.4 is above the maximum 6.0: PrivateNetwork=yes (-0.4, "
        "changes behaviour: network), DynamicUser=yes (-0.4, changes behaviour: user), RestrictNamespaces=~user "
        "(-0.3, changes behaviour: namespaces), CapabilityBoundingSet=~CAP_SETUID CAP_SETGID CAP_SETPCAP (-0.3, "
        "changes behaviour: capabilities), RestrictAddressFamilies=~AF_INET AF_INET6 (-0.3, changes behaviour: "
        "address families) would bring it to 5.8"
    ]
