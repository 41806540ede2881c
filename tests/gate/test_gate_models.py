# ruff: noqa: E501  (expected output lines are compared whole)
"""Choosing the systemd scoring model in the policy and on the command line, gating on several
models at once, and values a release does not know yet (UG309, policy errors), as a user sees them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import Run, write_tree

UNIT = "etc/systemd/system/web.service"

# PrivateTmp=disconnected and ProtectControlGroups=strict exist since systemd 257.
NEWER = """\
[Service]
ExecStart=/usr/bin/web
NoNewPrivileges=yes
PrivateTmp=disconnected
ProtectControlGroups=strict
"""

REQUIRE = """\
[require]
PrivateTmp = true
ProtectControlGroups = true
"""


def policy(scoring: str = "") -> str:
    return f"policy-version = 1\n{scoring}\n{REQUIRE}"


def lines(run: Run) -> list[str]:
    return [line for line in run.out.splitlines()[:-1] if line]


def test_without_scoring_the_policy_keeps_systemd_252_and_newer_values_are_findings(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": policy(),
            "one.toml": "policy-version = 1\n[require]\nProtectControlGroups = true\n",
            UNIT: NEWER,
        },
    )
    run = run_cli("check", UNIT, cwd=repo)
    assert run.code == 1
    assert [line for line in lines(run) if " UG309 " in line] == [
        f"{UNIT}:4:1: UG309 web.service: PrivateTmp=disconnected: systemd 252 ignores this value (added in 257); the protection is off on this release",
        f"{UNIT}:5:1: UG309 web.service: ProtectControlGroups=strict: systemd 252 ignores this value (added in 257); the protection is off on this release",
    ]
    # and the protections the policy requires are off on 252: each says why
    assert f"{UNIT}:1:1: UG101 web.service: 2 directives the policy requires are not set" in run.out
    one = run_cli("check", "--policy", "one.toml", UNIT, cwd=repo)
    assert lines(one)[0] == (
        f"{UNIT}:1:1: UG101 web.service: ProtectControlGroups= is not in effect ({UNIT}:5: ProtectControlGroups=strict: systemd 252 ignores this value (added in 257)), and the policy requires it: write ProtectControlGroups=yes in [Service]"
    )
    assert sorted(line.split(" ")[1] for line in lines(run)) == ["UG101", "UG309", "UG309"]
    assert (
        run.out.splitlines()[-1] == "Found 1 error, 2 warnings in 1 unit from 1 file; policy: .unitgate.toml."
    )
    doc = json.loads(run_cli("check", "--format", "json", UNIT, cwd=repo).out)
    assert [u["model"] for u in doc["units"]] == ["systemd-252"]


def test_scoring_in_the_policy_and_on_the_command_line(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": policy('scoring = "systemd-257"'), UNIT: NEWER})
    run = run_cli("check", UNIT, cwd=repo)
    assert (run.code, run.out) == (
        0,
        "All checks passed: 1 unit from 1 file; policy: .unitgate.toml; units scored as systemd-257.\n",
    )
    # --scoring wins over the policy
    older = run_cli("check", "--scoring", "systemd-252", UNIT, cwd=repo)
    assert older.code == 1 and " UG309 " in older.out
    assert run_cli("check", "--scoring", "systemd-262", UNIT, cwd=repo).code == 0


def test_a_list_gates_each_unit_on_every_model(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": policy('scoring = ["systemd-257", "systemd-252"]'), UNIT: NEWER})
    run = run_cli("check", UNIT, cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        f"{UNIT}:1:1: UG101 web.service: 2 directives the policy requires are not set: write [Service] PrivateTmp=yes, ProtectControlGroups=yes in one drop-in, etc/systemd/system/web.service.d/50-unitgate.conf (`unitgate fix etc/systemd/system/web.service` writes it) [systemd-252]",
        f"{UNIT}:4:1: UG309 web.service: PrivateTmp=disconnected: systemd 252 ignores this value (added in 257); the protection is off on this release [systemd-252]",
        f"{UNIT}:5:1: UG309 web.service: ProtectControlGroups=strict: systemd 252 ignores this value (added in 257); the protection is off on this release [systemd-252]",
    ]
    assert run.out.splitlines()[-1] == (
        "Found 1 error, 2 warnings in 1 unit from 1 file; policy: .unitgate.toml; units scored as systemd-252, systemd-257."
    )
    doc = json.loads(run_cli("check", "--format", "json", UNIT, cwd=repo).out)
    assert [(u["unit"], u["model"]) for u in doc["units"]] == [
        ("web.service", "systemd-252"),
        ("web.service", "systemd-257"),
    ]
    assert doc["summary"]["units"] == 1
    assert {f["rule"]: f["models"] for f in doc["findings"]} == {
        "UG101": ["systemd-252"],
        "UG309": ["systemd-252"],
    }
    sarif = json.loads(run_cli("check", "--format", "sarif", UNIT, cwd=repo).out)
    assert {tuple(r["properties"]["models"]) for r in sarif["runs"][0]["results"]} == {("systemd-252",)}


def test_a_finding_on_every_listed_model_is_reported_once(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": 'policy-version = 1\nscoring = ["systemd-252", "systemd-257"]\n[require]\nProtectHome = "yes"\n',
            UNIT: NEWER,
        },
    )
    assert lines(run_cli("check", UNIT, cwd=repo)) == [
        f"{UNIT}:1:1: UG101 web.service: ProtectHome= is not set, and the policy requires it: write ProtectHome=yes in [Service] [systemd-252, systemd-257]",
        f"{UNIT}:4:1: UG309 web.service: PrivateTmp=disconnected: systemd 252 ignores this value (added in 257); the protection is off on this release [systemd-252]",
        f"{UNIT}:5:1: UG309 web.service: ProtectControlGroups=strict: systemd 252 ignores this value (added in 257); the protection is off on this release [systemd-252]",
    ]


def test_a_required_value_the_model_does_not_know_is_a_policy_error(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    text = 'policy-version = 1\n[require]\nPrivateTmp = "disconnected"\n'
    write_tree(repo, {".unitgate.toml": text, UNIT: NEWER})
    run = run_cli("check", UNIT, cwd=repo)
    assert (run.code, run.out, run.err) == (
        2,
        "",
        'unitgate: policy error: .unitgate.toml: require.PrivateTmp: PrivateTmp=disconnected only exists from systemd 257 on, but the policy scores with systemd-252: no unit could meet this requirement there; require what systemd-252 knows, or set scoring = "systemd-257"\n',
    )
    write_tree(repo, {".unitgate.toml": 'scoring = "systemd-257"\n' + text})
    assert run_cli("check", UNIT, cwd=repo).code == 0
    # a directive the model's release does not have at all
    write_tree(
        repo,
        {
            ".unitgate.toml": 'policy-version = 1\nscoring = ["systemd-252", "systemd-262"]\n[require]\nPrivatePIDs = true\n'
        },
    )
    assert run_cli("check", UNIT, cwd=repo).err == (
        'unitgate: policy error: .unitgate.toml: require.PrivatePIDs: PrivatePIDs= only exists from systemd 257 on, but the policy scores with systemd-252: no unit could meet this requirement there; require what systemd-252 knows, or set scoring = "systemd-257"\n'
    )


def test_explain_without_a_policy_keeps_systemd_252_and_says_so(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    write_tree(repo, {UNIT: NEWER})
    run = run_cli("explain", UNIT, cwd=repo)
    assert "  scoring model: systemd-252\n" in run.out
    assert "PrivateTmp=disconnected: systemd 252 ignores this value (added in 257)" in run.err
    assert (
        "  scoring model: systemd-257\n" in run_cli("explain", "--scoring", "systemd-257", UNIT, cwd=repo).out
    )


def test_schema_models_are_the_engines() -> None:
    from importlib import resources

    from unitgate.policy_terms import DEFAULT_SCORING, SYSTEMD_MODELS
    from unitgate.security.releases import DEFAULT_MODEL, MODELS

    schema = json.loads(
        resources.files("unitgate.policies.schema").joinpath("policy-v1.schema.json").read_bytes()
    )
    assert tuple(schema["$defs"]["systemd-model"]["enum"]) == SYSTEMD_MODELS == MODELS
    assert DEFAULT_SCORING == DEFAULT_MODEL


def test_containers_are_not_scored_per_systemd_model(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": 'policy-version = 1\nextends = "baseline@2"\nscoring = ["systemd-252", "systemd-257"]\n',
            "app.container": "[Container]\nImage=quay.io/example/app:1.0\nPodmanArgs=--privileged\n",
        },
    )
    run = run_cli("check", "--format", "json", "app.container", cwd=repo)
    doc = json.loads(run.out)
    assert [u["model"] for u in doc["units"]] == ["quadlet-1"]
    assert doc["findings"] and all(not f["message"].endswith("]") for f in doc["findings"])
    assert {tuple(f["models"]) for f in doc["findings"]} == {("quadlet-1",)}
