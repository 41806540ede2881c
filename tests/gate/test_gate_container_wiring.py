# ruff: noqa: E501  (expected output lines are compared whole)
"""How a policy (or the command line) chooses the way containers are read and scored: the podman
release, rootless declarations, the container model, and the built-in default without a policy file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, write_tree

from unitgate.policy import PolicyError, load_file

PRIVILEGED_ROOT = """\
[Container]
Image=quay.io/example/tools:1.0
PodmanArgs=--privileged
Volume=/:/host
"""

HARDENED = """\
[Container]
Image=quay.io/example/app:1.0
User=1000
UserNS=keep-id
DropCapability=all
NoNewPrivileges=true
ReadOnly=true
"""

SYS_ADMIN = """\
[Container]
Image=quay.io/example/app:1.0
AddCapability=SYS_ADMIN
"""


def lines(run: Run) -> list[str]:
    return [line for line in run.out.splitlines()[:-1] if line]


def summary(run: Run) -> str:
    return run.out.splitlines()[-1]


# --- no policy file: the newest baseline gates containers ----------------------------------------------


def test_without_a_policy_a_privileged_container_with_the_host_root_fails(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    write_tree(repo, {"deploy/tools.container": PRIVILEGED_ROOT})
    run = run_cli("check", "deploy/tools.container", cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        "deploy/tools.container:1:1: UG201 tools.container: container exposure 10.0 is above the maximum 5.0: the container is root on the host (--privileged container whose root is the host's root at deploy/tools.container:3), which voids every other check; remove that first",
        "deploy/tools.container:3:1: UG103 tools.container: PodmanArgs= passes --privileged to podman, which the policy forbids: remove it from PodmanArgs=",
        "deploy/tools.container:3:1: UG103 tools.container: PodmanArgs= sets --privileged, which gives the container every capability; the policy forbids AddCapability=ALL: remove --privileged",
        "deploy/tools.container:4:1: UG103 tools.container: Volume=/:/host mounts /, which the policy forbids (Volume=/): remove this mount",
    ]
    assert summary(run) == (
        "Found 4 errors in 1 unit from 1 file; policy: built-in default (baseline@2); containers read as podman 5.4."
    )


def test_without_a_policy_a_hardened_rootless_container_passes(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    path = "home/alice/.config/containers/systemd/app.container"
    write_tree(repo, {path: HARDENED})
    run = run_cli("check", "--format", "json", path, cwd=repo)
    doc = json.loads(run.out)
    assert (run.code, doc["findings"]) == (0, [])
    assert doc["units"] == [
        {
            "unit": "app.container",
            "path": path,
            "state": "loaded",
            "exposure": 0.0,
            "max_exposure": 5.0,
            "policy": "built-in default (baseline@2)",
            "model": "quadlet-1",
            "podman": "5.4",
            "mode": "rootless (it lives in a user's quadlet directory)",
        }
    ]


# --- the podman release ----------------------------------------------------------------------------------

APPARMOR = HARDENED + "AppArmor=unconfined\n"


def test_podman_release_from_the_policy_and_the_command_line(repo: Path, run_cli: Callable[..., Run]) -> None:
    """AppArmor= is a 5.8 key: 5.4's quadlet refuses the file, 5.8's reads it (and scores the profile off)."""
    write_tree(repo, {"app.container": APPARMOR})
    default = run_cli("check", "app.container", cwd=repo)
    assert default.code == 1
    assert [line.split(" ")[1] for line in lines(default)] == ["UG301"]
    assert summary(default).endswith("containers read as podman 5.4.")

    newer = run_cli("check", "--podman", "5.8", "app.container", cwd=repo)
    assert (newer.code, lines(newer)) == (0, [])
    assert summary(newer) == (
        "All checks passed: 1 unit from 1 file; policy: built-in default (baseline@2); containers read as podman 5.8."
    )

    write_tree(
        repo, {".unitgate.toml": 'policy-version = 1\nextends = "baseline@2"\n[container]\npodman = "5.8"\n'}
    )
    assert run_cli("check", "app.container", cwd=repo).code == 0
    # the command line wins over the policy
    assert run_cli("check", "--podman", "5.4", "app.container", cwd=repo).code == 1


def test_an_unknown_podman_release_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('policy-version = 1\n[container]\npodman = "5.6"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_file(path, display="p.toml")
    assert str(error.value) == "p.toml: container.podman: '5.6' is not one of ['5.4', '5.8']"


def test_a_rootless_pattern_not_in_a_list_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('policy-version = 1\n[container]\nrootless = "home/**"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_file(path, display="p.toml")
    assert str(error.value) == (
        """p.toml: container.rootless: 'home/**' is not true/false or a list of path patterns (["home/*/quadlets/**"])"""
    )


# --- rootless declarations -------------------------------------------------------------------------------

ROOTLESS_POLICY = """\
policy-version = 1
extends = "baseline@2"

[container]
max-exposure = 1.0
rootless = ["home/*/quadlets/**"]
"""

PLAIN = """\
[Container]
Image=quay.io/example/app:1.0
User=1000
DropCapability=all
NoNewPrivileges=true
ReadOnly=true
"""


def test_rootless_patterns_are_relative_to_the_policy_file(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": ROOTLESS_POLICY,
            "home/bob/quadlets/web/app.container": PLAIN,
            "srv/api.container": PLAIN,
        },
    )
    # run from a subdirectory: the pattern still starts at the policy's directory
    run = run_cli(
        "check",
        "--format",
        "json",
        "../home/bob/quadlets/web/app.container",
        "../srv/api.container",
        cwd=repo / "srv",
    )
    doc = json.loads(run.out)
    assert [(u["path"], u["exposure"], u["mode"]) for u in doc["units"]] == [
        (
            "../home/bob/quadlets/web/app.container",
            0.5,
            "rootless (the path matches the rootless pattern 'home/*/quadlets/**')",
        ),
        (
            "../srv/api.container",
            1.4,
            "rootful (not in a quadlet search directory and no rootless pattern matches it: the stricter reading)",
        ),
    ]
    assert [(f["rule"], f["path"], f["message"]) for f in doc["findings"]] == [
        (
            "UG904",
            "../home/bob/quadlets/web/app.container",
            "app.container: read as a rootless quadlet of podman 5.4.2: its path matches the policy's rootless pattern 'home/*/quadlets/**'",
        ),
        (
            "UG201",
            "../srv/api.container",
            "api.container: container exposure 1.4 is above the maximum 1.0: UserNS=auto (-1.4) would bring it to 0.0",
        ),
    ]
    # text output: the declaration is one note on the file it applied to, nothing for the others
    text = run_cli("check", "home/bob/quadlets/web/app.container", cwd=repo)
    assert (text.code, lines(text)) == (
        0,
        [
            "home/bob/quadlets/web/app.container:1:1: UG904 app.container: read as a rootless quadlet of podman 5.4.2: its path matches the policy's rootless pattern 'home/*/quadlets/**'"
        ],
    )


# --- the container model -------------------------------------------------------------------------------


def _model_policy(scoring: str, exclude: str = "") -> str:
    return f'policy-version = 1\n[container]\nmax-exposure = 5.0\nscoring = "{scoring}"\n{exclude}'


def test_quadlet_2_keeps_a_decisive_weakness_above_the_maximum(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    write_tree(repo, {".unitgate.toml": _model_policy("quadlet-1"), "app.container": SYS_ADMIN})
    assert run_cli("check", "app.container", cwd=repo).code == 0  # quadlet-1 averages it away: 4.1

    write_tree(repo, {".unitgate.toml": _model_policy("quadlet-2")})
    run = run_cli("check", "--format", "json", "app.container", cwd=repo)
    doc = json.loads(run.out)
    assert (run.code, doc["units"][0]["model"], doc["units"][0]["exposure"]) == (1, "quadlet-2", 8.5)
    assert [f["message"] for f in doc["findings"]] == [
        "app.container: container exposure 8.5 is above the maximum 5.0: a breakout path is open (container keeps CAP_SYS_ADMIN (container root is host root) at app.container:3), which keeps the quadlet-2 exposure at 8.5 or more whatever else is hardened; close that path first"
    ]


def test_exclude_checks_keep_the_quadlet_2_floor_unless_breakout_path_is_excluded(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    write_tree(
        repo,
        {
            ".unitgate.toml": _model_policy("quadlet-2", 'exclude-checks = ["DropCapability_SYS_ADMIN"]\n'),
            "app.container": SYS_ADMIN,
        },
    )
    kept = json.loads(run_cli("check", "--format", "json", "app.container", cwd=repo).out)
    assert kept["units"][0]["exposure"] == 8.5
    assert kept["findings"][0]["message"].startswith(
        "app.container: container exposure 8.5 (without DropCapability_SYS_ADMIN) is above the maximum 5.0: a breakout path is open"
    )

    write_tree(repo, {".unitgate.toml": _model_policy("quadlet-2", 'exclude-checks = ["BreakoutPath"]\n')})
    dropped = run_cli("check", "--format", "json", "app.container", cwd=repo)
    assert (dropped.code, json.loads(dropped.out)["units"][0]["exposure"]) == (0, 4.1)


# --- one place per concept: the schema's enums are the engine's names --------------------------------


def test_schema_container_enums_match_the_engine() -> None:
    from importlib import resources

    from unitgate.policy_terms import (
        CONTAINER_MODELS,
        DEFAULT_CONTAINER_SCORING,
        DEFAULT_PODMAN,
        PODMAN_RELEASES,
    )
    from unitgate.quadlet.releases import DEFAULT_RELEASE, RELEASES
    from unitgate.quadlet.score import CHECKS_2, MODEL, MODELS

    schema = json.loads(
        resources.files("unitgate.policies.schema").joinpath("policy-v1.schema.json").read_bytes()
    )
    container = schema["$defs"]["container"]["properties"]
    assert tuple(container["scoring"]["enum"]) == CONTAINER_MODELS == MODELS
    assert tuple(container["podman"]["enum"]) == PODMAN_RELEASES == tuple(RELEASES)
    assert (DEFAULT_CONTAINER_SCORING, DEFAULT_PODMAN) == (MODEL, DEFAULT_RELEASE)
    assert schema["$defs"]["container-checks"]["items"]["enum"] == [c.json_field for c in CHECKS_2]
