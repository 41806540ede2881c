# ruff: noqa: E501  (expected output lines are compared whole)
"""`unitgate check` on podman quadlet `.container` files: the policy's `[container]` table."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, Run, write_tree

from unitgate import gate
from unitgate.policy import PolicyError, load_file

POLICY = """\
policy-version = 1

[container]
max-exposure = 2.0

[container.require]
NoNewPrivileges = true
ReadOnly = true
DropCapability = "all"

[container.forbid]
Network = "host"
PodmanArgs = "--privileged"
AddCapability = ["SYS_ADMIN", "ALL"]
"""

HARDENED = """\
[Container]
Image=quay.io/example/app:1.0
User=1000
UserNS=auto
DropCapability=all
NoNewPrivileges=true
ReadOnly=true
"""


def lines(run: Run) -> list[str]:
    return [line for line in run.out.splitlines()[:-1] if line]


def tree(repo: Path, files: dict[str, str], policy: str = POLICY) -> Path:
    return write_tree(repo, {".unitgate.toml": policy, **files})


def test_hardened_container_passes(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(repo, {"app.container": HARDENED})
    run = run_cli("check", "app.container", cwd=repo)
    assert (run.code, run.out) == (
        0,
        "All checks passed: 1 unit from 1 file; policy: .unitgate.toml; containers read as podman 5.4.\n",
    )


def test_quadlet_booleans_any_case(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(repo, {"app.container": HARDENED.replace("ReadOnly=true", "ReadOnly=YES").replace("=true", "=On")})
    assert run_cli("check", "app.container", cwd=repo).code == 0
    tree(repo, {"app.container": HARDENED.replace("ReadOnly=true", "ReadOnly=y")})
    assert lines(run_cli("check", "app.container", cwd=repo)) == [
        "app.container:7:1: UG102 app.container: ReadOnly=false is not accepted by the policy: write ReadOnly=true"
    ]


@pytest.mark.parametrize("spelling", ["--privileged", "--privileged=true", "--rm --privileged"])
def test_privileged_blocked_at_its_line(repo: Path, run_cli: Callable[..., Run], spelling: str) -> None:
    tree(repo, {"app.container": HARDENED + f"PodmanArgs={spelling}\n"})
    run = run_cli("check", "app.container", cwd=repo)
    assert run.code == 1
    flag = "--privileged" if spelling != "--privileged=true" else "--privileged=true"
    assert lines(run)[0].startswith(
        "app.container:1:1: UG201 app.container: container exposure 4.4 is above the maximum 2.0: remove --privileged (-0.8)"
    )
    assert lines(run)[1:] == [
        "app.container:8:1: UG102 app.container: PodmanArgs= sets --privileged, which gives the container every capability, but the policy requires DropCapability=all: remove --privileged",
        f"app.container:8:1: UG103 app.container: PodmanArgs= passes {flag} to podman, which the policy forbids"
        + ("" if flag == "--privileged" else " (PodmanArgs=--privileged)")
        + ": remove it from PodmanArgs=",
        "app.container:8:1: UG103 app.container: PodmanArgs= sets --privileged, which gives the container every capability; the policy forbids AddCapability=ALL: remove --privileged",
    ]


def test_privileged_false_is_not_privileged(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(repo, {"app.container": HARDENED + "PodmanArgs=--privileged --privileged=false\n"})
    assert run_cli("check", "app.container", cwd=repo).code == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Network=host",
            "app.container:8:1: UG103 app.container: Network=host is forbidden by the policy: change or remove this line",
        ),
        (
            "PodmanArgs=--net=host",
            "app.container:8:1: UG103 app.container: PodmanArgs= sets --network=host, which the policy forbids (Network=host): remove it from PodmanArgs=",
        ),
    ],
    ids=["key", "podmanargs"],
)
def test_network_host_blocked(repo: Path, run_cli: Callable[..., Run], line: str, expected: str) -> None:
    tree(repo, {"app.container": HARDENED + line + "\n"})
    assert lines(run_cli("check", "app.container", cwd=repo)) == [expected]


def test_dropin_readding_a_capability_is_reported_at_the_dropin_line(
    repo: Path, run_cli: Callable[..., Run]
) -> None:
    tree(
        repo,
        {
            "app.container": HARDENED,
            "app.container.d/50-caps.conf": "[Container]\n# needs raw sockets\nAddCapability=CAP_NET_ADMIN\n",
        },
    )
    expected = [
        "app.container.d/50-caps.conf:3:1: UG102 app.container: AddCapability=CAP_NET_ADMIN gives the container CAP_NET_ADMIN, but the policy requires DropCapability=all: remove NET_ADMIN from AddCapability="
    ]
    for changed in ("app.container.d/50-caps.conf", "app.container"):
        run = run_cli("check", changed, cwd=repo)
        assert (run.code, lines(run)) == (1, expected)


def test_a_type_wide_dropin_is_checked_over_every_container(repo: Path, run_cli: Callable[..., Run]) -> None:
    """`container.d/` applies to every container; a change there used to be read as a systemd drop-in
    for a unit named "container" (not in the repository: a note, and the gate passed)."""
    tree(
        repo,
        {
            "app.container": HARDENED,
            "db.container": HARDENED,
            "container.d/50-caps.conf": "[Container]\nAddCapability=CAP_NET_ADMIN\n",
        },
    )
    run = run_cli("check", "container.d/50-caps.conf", cwd=repo)
    assert run.code == 1
    assert [line.split(": ", 2)[:2] for line in lines(run)] == [
        ["container.d/50-caps.conf:2:1", "UG102 app.container"],
        ["container.d/50-caps.conf:2:1", "UG102 db.container"],
    ]


def test_forbidden_capability_at_the_adding_line(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = 'policy-version = 1\n[container.forbid]\nAddCapability = ["SYS_ADMIN", "CHOWN"]\n'
    tree(
        repo,
        {"app.container": HARDENED.replace("DropCapability=all\n", "") + "AddCapability=sys_admin\n"},
        policy,
    )
    assert lines(run_cli("check", "app.container", cwd=repo)) == [
        "app.container:7:1: UG103 app.container: AddCapability=sys_admin gives the container CAP_SYS_ADMIN; the policy forbids AddCapability=SYS_ADMIN: remove SYS_ADMIN from AddCapability=",
    ]
    tree(repo, {"app.container": HARDENED.replace("DropCapability=all\n", "")}, policy)
    assert lines(run_cli("check", "app.container", cwd=repo)) == [
        "app.container:1:1: UG103 app.container: the container keeps CAP_CHOWN from podman's default capabilities, which the policy forbids: write DropCapability=CHOWN (or DropCapability=all) in [Container]",
    ]


def test_missing_required_key_points_at_container_header(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = "# web app\n\n" + HARDENED.replace("ReadOnly=true\n", "")
    tree(
        repo, {"app.container": unit, "app.container.d/10-env.conf": "# env\n[Container]\nEnvironment=A=1\n"}
    )
    message = "UG101 app.container: ReadOnly= is not set, and the policy requires it: write ReadOnly=true in [Container]"
    assert lines(run_cli("check", "app.container", cwd=repo)) == [f"app.container:3:1: {message}"]
    # A changed drop-in: its own [Container] header, where the line can go.
    assert lines(run_cli("check", "app.container.d/10-env.conf", cwd=repo)) == [
        f"app.container.d/10-env.conf:2:1: {message}"
    ]


def test_podmanargs_overriding_a_required_key(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(
        repo,
        {
            "app.container": HARDENED,
            "app.container.d/90-rw.conf": "[Container]\nPodmanArgs=--read-only=false\n",
        },
    )
    assert lines(run_cli("check", "app.container", cwd=repo)) == [
        "app.container.d/90-rw.conf:2:1: UG102 app.container: PodmanArgs= sets --read-only=false, so ReadOnly= is in effect false (podman uses the last flag, and PodmanArgs= comes last), overriding ReadOnly=true at app.container:7, which the policy does not accept: remove --read-only=false from PodmanArgs="
    ]


def test_dropin_weakening_a_key_says_what_it_overrides(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(
        repo, {"app.container": HARDENED, "app.container.d/90-nnp.conf": "[Container]\nNoNewPrivileges=no\n"}
    )
    assert lines(run_cli("check", "app.container.d/90-nnp.conf", cwd=repo)) == [
        "app.container.d/90-nnp.conf:2:1: UG102 app.container: NoNewPrivileges=false is not accepted by the policy, overriding NoNewPrivileges=true at app.container:6: write NoNewPrivileges=true"
    ]


def test_service_user_is_reported(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(repo, {"app.container": HARDENED + "\n[Service]\nRestart=always\nGroup=app\n"})
    run = run_cli("check", "app.container", cwd=repo)
    assert run.code == 1
    assert lines(run) == [
        "app.container:11:1: UG306 app.container: quadlet does not support the key Group= in [Service] (podman ≥5.6 warns 'use at your own risk'); it changes the podman process, not the container. Use User=/Group= in [Container]"
    ]
    assert (
        run.out.splitlines()[-1]
        == "Found 1 warning in 1 unit from 1 file; policy: .unitgate.toml; containers read as podman 5.4."
    )


def test_exposure_above_maximum(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = "policy-version = 1\n[container]\nmax-exposure = 1.0\n"
    tree(
        repo,
        {"img.container": "[Unit]\nDescription=x\n\n[Container]\nImage=quay.io/example/app:1.0\n"},
        policy,
    )
    assert lines(run_cli("check", "img.container", cwd=repo)) == [
        "img.container:4:1: UG201 img.container: container exposure 3.5 is above the maximum 1.0: UserNS=auto (-1.4), User=<non-root uid> (-0.7), NoNewPrivileges=true (-0.5) would bring it to 1.0"
    ]


def test_exposure_of_a_container_that_is_host_root(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = "policy-version = 1\n[container]\nmax-exposure = 5.0\n"
    tree(
        repo,
        {"s.container": "[Container]\nImage=quay.io/a/b:1\nVolume=/run/podman/podman.sock:/sock\n"},
        policy,
    )
    assert lines(run_cli("check", "s.container", cwd=repo)) == [
        "s.container:1:1: UG201 s.container: container exposure 10.0 is above the maximum 5.0: the container is root on the host (container runtime socket /run/podman/podman.sock mounted into a rootful container at s.container:3), which voids every other check; remove that first"
    ]


def test_rootless_setting_rescores(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = "[Container]\nImage=quay.io/example/app:1.0\nUser=1000\nNoNewPrivileges=true\nReadOnly=true\nDropCapability=all\n"
    policy = "policy-version = 1\n[container]\nmax-exposure = 1.0\n"
    tree(repo, {"app.container": unit}, policy)
    rootful = gate.check([str(repo / "app.container")])
    assert [u.exposure for u in rootful.info.units] == [14]
    tree(repo, {"app.container": unit}, policy + "rootless = true\n")
    rootless = gate.check([str(repo / "app.container")])
    assert [u.exposure for u in rootless.info.units] == [5]
    assert [(f.rule, f.message) for f in rootless.findings] == [
        (
            "UG904",
            "app.container: read as a rootless quadlet of podman 5.4.2: the policy sets "
            "[container] rootless = true",
        )
    ]


def test_no_container_rules_is_a_note(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(
        repo,
        {
            "app.container": "[Container]\nImage=quay.io/example/app:1.0\n",
            ".unitgate.toml": 'policy-version = 1\nextends = "baseline@1"\n',
        },
    )
    run = run_cli("check", "app.container", cwd=repo)
    assert (run.code, lines(run)) == (
        0,
        [
            "app.container:1:1: UG902 app.container: the policy (.unitgate.toml (extends baseline@1)) has no [container] rules, so only quadlet load errors and warnings were checked; add a [container] table to check more"
        ],
    )


def test_quadlet_refusal_and_warning(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(
        repo,
        {
            "bad.container": "[Container]\nImage=quay.io/a/b:1\nBogus=1\n",
            "short.container": HARDENED.replace("quay.io/example/app:1.0", "app"),
        },
    )
    assert lines(run_cli("check", "bad.container", "short.container", cwd=repo)) == [
        "bad.container:3:1: UG301 quadlet refuses the file: converting \"bad.container\": unsupported key 'Bogus' in group 'Container' in bad.container",
        'short.container:2:1: UG307 quadlet would warn: short.container specifies the image "app" which not a fully qualified image name. This is not ideal for performance and security reasons. See the podman-pull manpage discussion of short-name-aliases.conf for details.',
    ]


def test_override_container_and_ignore(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = (
        POLICY.replace("[container]\n", '[container]\nignore = ["Service.Group"]\n')
        + '[[override]]\nunits = ["tools.container"]\nreason = "toolbox"\n[override.container.forbid]\nNetwork = "none"\n'
    )
    tools = HARDENED + "Network=host\n\n[Service]\nGroup=x\n"
    tree(repo, {"tools.container": tools, "app.container": tools}, policy)
    run = run_cli("check", "tools.container", "app.container", cwd=repo)
    assert lines(run) == [
        "app.container:8:1: UG103 app.container: Network=host is forbidden by the policy: change or remove this line"
    ]


def test_suppression_with_bare_key_in_a_quadlet(repo: Path, run_cli: Callable[..., Run]) -> None:
    unit = (
        HARDENED
        + '# unitgate: disable=Network reason="monitoring agent, needs the host network"\nNetwork=host\n'
    )
    tree(repo, {"app.container": unit})
    run = run_cli("check", "app.container", cwd=repo)
    assert (run.code, run.out) == (
        0,
        "All checks passed: 1 unit from 1 file, 1 suppressed; policy: .unitgate.toml; containers read as podman 5.4.\n",
    )


def test_github_annotation_for_a_container_finding(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(
        repo,
        {"app.container": HARDENED, "app.container.d/50-caps.conf": "[Container]\nAddCapability=NET_ADMIN\n"},
    )
    run = run_cli("check", "--format", "github", "app.container.d/50-caps.conf", cwd=repo)
    assert run.out.splitlines()[0] == (
        "::error file=app.container.d/50-caps.conf,line=2,title=UG102 required-directive-value::"
        "app.container: AddCapability=NET_ADMIN gives the container CAP_NET_ADMIN, but the policy requires "
        "DropCapability=all: remove NET_ADMIN from AddCapability="
    )


def test_json_and_sarif_for_containers(repo: Path, run_cli: Callable[..., Run]) -> None:
    tree(
        repo,
        {
            "app.container": HARDENED + "Network=host\n\n[Service]\nUser=app\n",
            "app.container.d/50-caps.conf": "[Container]\nAddCapability=NET_ADMIN\n",
        },
    )
    doc = json.loads(run_cli("check", "--format", "json", "app.container", cwd=repo).out)
    assert doc["units"] == [
        {
            "unit": "app.container",
            "path": "app.container",
            "state": "loaded",
            "exposure": 0.9,
            "max_exposure": 2.0,
            "policy": ".unitgate.toml",
            "model": "quadlet-1",
            "podman": "5.4",
            "mode": "rootful (not in a quadlet search directory and no rootless pattern matches it: the stricter reading)",
        }
    ]
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["UG102"]["directive"] == "Container.DropCapability"
    assert by_rule["UG102"]["url"] == "https://docs.podman.io/en/v5.4.2/markdown/podman-systemd.unit.5.html"
    assert (by_rule["UG306"]["line"], by_rule["UG306"]["directive"]) == (11, "Service.User")

    sarif_doc = json.loads(run_cli("check", "--format", "sarif", "app.container", cwd=repo).out)
    schema = json.loads((ROOT / "fixtures" / "sarif-2.1.0.schema.json").read_bytes())
    assert sorted(jsonschema.Draft4Validator(schema).iter_errors(sarif_doc), key=str) == []
    rules = {r["id"]: r for r in sarif_doc["runs"][0]["tool"]["driver"]["rules"]}
    assert sorted(rules) == [
        "UG102/Container.DropCapability",
        "UG103/Container.Network",
        "UG306/Service.User",
    ]
    assert "podman-systemd.unit(5)" in rules["UG102/Container.DropCapability"]["help"]["text"]
    assert rules["UG102/Container.DropCapability"]["properties"]["tags"] == ["security", "podman"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[container.require]\nReadOnley = true\n",
            "p.toml: container.require.ReadOnley: 'ReadOnley' is not a [Container] key quadlet knows (did you mean 'ReadOnly'?)",
        ),
        (
            '[container.forbid]\nDropCapability = ["SYS_ADMIN"]\n',
            "p.toml: container.forbid.DropCapability: forbidding a dropped capability means nothing",
        ),
        (
            '[container.forbid]\nAddCapability = ["SYS_ADMN"]\n',
            "p.toml: container.forbid.AddCapability: unknown capability 'SYS_ADMN'",
        ),
        (
            '[container.require]\nReadOnly = "yes"\n',
            "p.toml: container.require.ReadOnly: ReadOnly is a boolean: write true or false",
        ),
        (
            '[container.forbid]\nPodmanArgs = "privileged"\n',
            "p.toml: container.forbid.PodmanArgs: 'privileged' is not a podman flag",
        ),
        (
            "[container]\nReadOnly = true\n",
            "p.toml: container: unknown key 'ReadOnly': [Container] keys go in [container.require] or [container.forbid]",
        ),
        (
            "[container.require]\nReadOnly = true\nmax-exposure = 2.0\n",
            "p.toml: container.require: 'max-exposure' is not a [Container] key name (ReadOnly, DropCapability, ...) (a key after a [table] header belongs to that table: move max-exposure under [container], above [container.require]/[container.forbid])",
        ),
        (
            '[container]\nscoring = "quadlet-9"\n',
            "p.toml: container.scoring: 'quadlet-9' is not one of ['quadlet-1', 'quadlet-2']",
        ),
        (
            "[container]\nmax-exposure = 1.25\n",
            "p.toml: container.max-exposure: 1.25 has more than one decimal",
        ),
    ],
    ids=[
        "unknown key",
        "forbid drop",
        "capability",
        "boolean",
        "flag",
        "key in [container]",
        "table trap",
        "scoring",
        "decimals",
    ],
)
def test_container_policy_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "p.toml").write_text("policy-version = 1\n" + text, encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_file(tmp_path / "p.toml", display="p.toml")
    assert str(error.value).startswith(message)


def test_container_rules_merge_over_extends_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'policy-version = 1\nextends = "strict@1"\n[container]\nmax-exposure = 2.0\nignore = ["ReadOnly", "UG306"]\n'
        "[container.require]\nReadOnly = true\n"
        '[[override]]\nunits = ["db.container"]\nreason = "legacy"\n[override.container]\nmax-exposure = 6.0\nrootless = true\n',
        encoding="utf-8",
    )
    loaded = load_file(path)
    db = loaded.for_unit("db.container").container
    assert (db.max_exposure, db.rootless, dict(db.require)) == (60, True, {"ReadOnly": True})
    assert loaded.for_unit("web.container").container.max_exposure == 20
    unit = loaded.for_unit("web.container")
    assert unit.ignores("UG101", "Container.ReadOnly", container=True)
    assert unit.ignores("UG306", "Service.User", container=True)
    assert not unit.ignores("UG306", "Service.User")  # [container] ignore is for containers only
    assert load_file(path).for_unit("x.service").require  # strict@1's [require] still there
