"""The container as it will run: specifiers expanded for its manager, the pod it joins, quadlet files in
subdirectories, the rootless declaration, and each release's drop-in precedence. Whether quadlet
accepts these fixtures and what it generates is pinned by the recorded binaries' output
(fixtures/quadlet/expected*.json, checked in test_quadlet_fixtures.py); here: what unitgate derives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unitgate.analysis import LoadState
from unitgate.model import Location, Severity
from unitgate.quadlet import inspect_container
from unitgate.quadlet.specifiers import SpecifierContext, expand

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "quadlet"
ALICE = FIX / "rootless/home/alice/.config/containers/systemd/apps"


def _recorded(podman: str, name: str) -> dict[str, object]:
    file = "expected.json" if podman == "5.4" else f"expected-{podman}.json"
    entry: dict[str, object] = json.loads((FIX / file).read_text())[name]
    return entry


@pytest.mark.parametrize(
    ("rootless", "text", "expanded"),
    [
        (False, "%t/podman/podman.sock", "/run/podman/podman.sock"),
        (False, "%E:/host-etc", "/etc:/host-etc"),
        (False, "%h/.ssh", "/root/.ssh"),
        (False, "%S/app %C %L %U %u", "/var/lib/app /var/cache /var/log 0 root"),
        (True, "%t/podman/podman.sock", "/run/user/1000/podman/podman.sock"),
        (
            True,
            "%E %h %S %C %L",
            "/home/al/.config /home/al /home/al/.local/state /home/al/.cache /home/al/.local/state/log",
        ),
        (True, "%N %n %p %i %%t %H", "web@1 web@1.service web 1 %t %H"),
    ],
)
def test_specifiers_expand_for_the_manager(rootless: bool, text: str, expanded: str) -> None:
    ctx = SpecifierContext.for_manager(rootless, "web@1", "/home/al", "1000")
    assert expand(text, ctx) == expanded


def test_runtime_socket_written_with_a_specifier_is_a_runtime_socket() -> None:
    p = FIX / "specifiers/sock.container"
    ins = inspect_container(str(p))
    assert ins.analysis.exposure == 100 and ins.score is not None and ins.score.host_equivalent is not None
    vol = next(c for c in ins.analysis.checks if c.json_field == "Volume")
    assert vol.badness == 10 and vol.source == Location(str(p), 3)
    assert "/run/podman/podman.sock" in vol.description


def test_config_directory_specifier_is_the_hosts_etc() -> None:
    ins = inspect_container(str(FIX / "specifiers/etc.container"))
    vol = next(c for c in ins.analysis.checks if c.json_field == "Volume")
    assert vol.badness == 4 and "/etc read-only" in vol.description


def test_rootless_home_and_runtime_dir() -> None:
    ins = inspect_container(str(ALICE / "homedata.container"))
    assert ins.posture is not None
    assert [m.host_path for m in ins.posture.mounts] == ["/home/alice", "/run/user/UID/podman/podman.sock"]


def test_pod_decides_network_and_user_namespace() -> None:
    p = FIX / "pods/hostnet.container"
    assert _recorded("5.4", "pods/hostnet.container")["accepted"] is True  # quadlet finds net/hostnet.pod
    ins = inspect_container(str(p))
    pos = ins.posture
    assert pos is not None and pos.pod.value == "hostnet.pod"
    pod_file = str(FIX / "pods/net/hostnet.pod")
    assert pos.network_mode.value == "host" and pos.network_mode.location == Location(pod_file, 2)
    assert [x.location for x in pos.ports] == [Location(pod_file, 3)]
    # the pod sets no UserNS=: its default (host, rootful) is the container's, decided at the Pod= line
    assert pos.host_root_mapped and pos.userns.location == Location(str(p), 5)
    net = next(c for c in ins.analysis.checks if c.json_field == "NetworkHost")
    assert net.badness == 1 and net.source == Location(pod_file, 2)
    (warn,) = [d for d in ins.analysis.diagnostics if d.code == "UGQ013"]
    assert warn.severity is Severity.WARNING and warn.location == Location(str(p), 4)


def test_network_file_in_a_subdirectory_is_found() -> None:
    assert _recorded("5.4", "pods/app.container")["accepted"] is True
    ins = inspect_container(str(FIX / "pods/app.container"))
    assert ins.analysis.state is LoadState.LOADED
    assert ins.posture is not None and ins.posture.network_mode.value == "systemd-app"


@pytest.mark.parametrize(
    ("podman", "network", "dropin"),
    [
        ("5.4", "host", "etc/containers/systemd/svc-.container.d/50-net.conf"),
        ("5.8", "none", "usr/share/containers/systemd/svc-web.container.d/50-net.conf"),
    ],
)
def test_dropin_precedence_per_release(podman: str, network: str, dropin: str) -> None:
    name = "order/etc/containers/systemd/svc-web.container"
    argv = _recorded(podman, name)["exec_start"]
    assert isinstance(argv, list) and argv[argv.index("--network") + 1] == network  # what the binary did
    ins = inspect_container(str(FIX / name), podman=podman)
    assert ins.posture is not None and ins.posture.network_mode.value == network
    assert ins.posture.network_mode.location == Location(str(FIX / "order" / dropin), 3)


def test_rootless_declared_by_pattern_and_reported() -> None:
    p = str(FIX / "sibling/defaults.container")
    base = str(FIX.parents[1])
    plain = inspect_container(p, base=base)
    declared = inspect_container(p, rootless_paths=["fixtures/quadlet/sibling/**"], base=base)
    assert plain.mode is not None and not plain.mode.rootless and "stricter" in plain.mode.reason
    assert declared.mode is not None and declared.mode.rootless
    assert "fixtures/quadlet/sibling/**" in declared.mode.reason
    assert declared.analysis.exposure is not None and plain.analysis.exposure is not None
    assert declared.analysis.exposure < plain.analysis.exposure
    note = next(d for d in declared.analysis.diagnostics if d.code == "UGQ012")
    assert note.severity is Severity.INFO and "rootless (the path matches" in note.message
    assert "5.4.2" in note.message
    # a directory pattern covers the files below it; the caller's explicit setting wins over patterns
    assert inspect_container(p, rootless_paths=["fixtures/quadlet"], base=base).posture.rootless.value  # type: ignore[union-attr]
    assert not inspect_container(p, rootless=False, rootless_paths=["**"], base=base).posture.rootless.value  # type: ignore[union-attr]
    assert inspect_container(str(ALICE / "hardened.container")).mode.reason.startswith("it lives in a user's")  # type: ignore[union-attr]


def test_explain_reads_the_release_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    from unitgate.cli import main

    unit = str(FIX / "order/etc/containers/systemd/svc-web.container")
    assert main(["explain", "--podman", "5.8", unit]) == 0
    out, err = capsys.readouterr()
    assert "usr/share/containers/systemd/svc-web.container.d/50-net.conf:3" in out
    assert "read as podman 5.8.6's quadlet, rootful (it lives in a system quadlet directory)" in err
    assert main(["explain", unit]) == 0
    out, err = capsys.readouterr()
    assert "etc/containers/systemd/svc-.container.d/50-net.conf:3" in out
    assert "podman 5.4.2's quadlet (the default" in err


def test_apparmor_key_is_58_only_and_scores_like_the_security_opt(tmp_path: Path) -> None:
    p = tmp_path / "aa.container"
    p.write_text("[Container]\nImage=quay.io/example/app:1\nAppArmor=unconfined\n")
    old = inspect_container(str(p))
    assert old.analysis.state is LoadState.ERROR
    assert any("unsupported key 'AppArmor'" in d.message for d in old.analysis.diagnostics)
    new = inspect_container(str(p), podman="5.8")
    assert new.analysis.state is LoadState.LOADED and new.conversion is not None
    assert [a.text for a in new.conversion.argv][-3:-1] == ["--security-opt", "apparmor=unconfined"]
    row = next(c for c in new.analysis.checks if c.json_field == "AppArmor")
    assert row.badness == 1 and row.source == Location(str(p), 3)


def test_unknown_release_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown podman release"):
        inspect_container(str(FIX / "sibling/defaults.container"), podman="6.0")


@pytest.mark.parametrize(("podman", "generated"), [("5.4", False), ("5.8", True)])
def test_pod_with_a_newer_key_is_not_generated_by_the_older_release(podman: str, generated: bool) -> None:
    p = FIX / "pods/named.container"
    assert _recorded(podman, "pods/named.container")["pod_generated"] is generated  # what the binary did
    ins = inspect_container(str(p), podman=podman)
    assert ins.analysis.state is LoadState.LOADED and ins.posture is not None
    warned = [d for d in ins.analysis.diagnostics if d.code == "UGQ014"]
    assert bool(warned) is not generated
    # the pod's Network=host applies only where the pod exists
    assert (ins.posture.network_mode.value == "host") is generated
