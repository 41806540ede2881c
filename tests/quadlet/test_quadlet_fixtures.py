"""unitgate against what quadlet 5.4.2 did with each fixture (fixtures/quadlet/expected.json,
recorded by tests/quadlet/record.py from the real generator), plus the scores a user sees."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from unitgate.analysis import LoadState
from unitgate.model import Location, Severity
from unitgate.quadlet import analyze_container, generated_service, inspect_container, quadlet_targets

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "fixtures" / "quadlet"
# What each release's quadlet binary did with each fixture (tests/quadlet/record.py wrote them).
RECORDED: dict[str, dict[str, dict[str, object]]] = {
    "5.4": json.loads((FIX / "expected.json").read_text()),
    "5.8": json.loads((FIX / "expected-5.8.json").read_text()),
}
EXPECTED = RECORDED["5.4"]
# The reference quadlet binary of each modelled release (get-quadlet.sh DIR trixie, or sid for 5.8).
BINARY_ENV = {"5.4": "UNITGATE_QUADLET", "5.8": "UNITGATE_QUADLET_58"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"ug_quadlet_{name}", Path(__file__).with_name(f"{name}.py")
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


def rel(s: str) -> str:
    return s.replace(str(FIX), "<FIXTURES>")


@pytest.mark.parametrize(("podman", "name"), [(r, n) for r in sorted(RECORDED) for n in sorted(RECORDED[r])])
def test_accepts_what_quadlet_accepts(podman: str, name: str) -> None:
    exp = RECORDED[podman][name]
    ins = inspect_container(str(FIX / name), podman=podman)
    a = ins.analysis
    assert (a.state is LoadState.LOADED) == exp["accepted"], [str(d) for d in a.diagnostics]
    ours = [rel(d.message) for d in a.diagnostics]
    for msg in exp["messages"]:  # type: ignore[attr-defined]
        assert any(msg.removeprefix("Warning: ") in m for m in ours), (msg, ours)
    if exp["accepted"]:
        assert ins.conversion is not None
        argv = [rel(x.text) for x in ins.conversion.argv]
        assert Counter(argv) == Counter(exp["exec_start"])  # type: ignore[arg-type]
        svc = generated_service(str(FIX / name), podman=podman)
        for key, values in exp["service"].items():  # type: ignore[attr-defined]
            assert [x.value for x in svc if x.section == "Service" and x.key == key] == values


def test_rootless_hardened_scores_low() -> None:
    a = analyze_container(str(FIX / "rootless/home/alice/.config/containers/systemd/apps/hardened.container"))
    assert a.model == "quadlet-1"
    assert a.exposure is not None and a.exposure <= 15, a.exposure_text
    assert a.rating in ("PERFECT", "SAFE", "OK")
    assert inspect_container(
        str(FIX / "rootless/home/alice/.config/containers/systemd/apps/hardened.container")
    ).layout.rootless


@pytest.mark.parametrize("name", ["sibling/privileged.container", "sibling/hostnet-root.container"])
def test_root_on_the_host_scores_near_ten(name: str) -> None:
    a = analyze_container(str(FIX / name))
    assert a.exposure is not None and a.exposure >= 95, a.exposure_text
    assert a.rating == "DANGEROUS"
    vol = next(c for c in a.checks if c.json_field == "Volume")
    assert vol.source == Location(str(FIX / name), 4 if "privileged" in name else 5)


def test_defaults_sit_between() -> None:
    a = analyze_container(str(FIX / "sibling/defaults.container"))
    assert a.exposure is not None and 20 <= a.exposure <= 60
    nnp = next(c for c in a.checks if c.json_field == "NoNewPrivileges")
    assert nnp.badness == 1 and nnp.source is None and nnp.directives == ("NoNewPrivileges",)


def test_dropin_that_readds_a_capability_is_reported_at_its_line() -> None:
    unit = FIX / "tree/etc/containers/systemd/app.container"
    a = analyze_container(str(unit))
    row = next(c for c in a.checks if c.json_field == "DropCapability_NET_ADMIN")
    assert row.badness == 1
    assert row.source == Location(str(FIX / "tree/etc/containers/systemd/app.container.d/50-caps.conf"), 3)
    # quadlet 5.4.2: the higher-priority directory wins a same-named drop-in (etc over usr/share)
    assert str(FIX / "tree/usr/share/containers/systemd/app.container.d/50-caps.conf") not in a.sources
    assert a.settings["Container.AddCapability"].location == row.source


def test_targets_of_dropins() -> None:
    tree = FIX / "tree"
    common = tree / "etc/containers/systemd/container.d/10-common.conf"
    assert quadlet_targets(str(common)) == [
        str(tree / "etc/containers/systemd/app.container"),
        str(tree / "usr/share/containers/systemd/web-front.container"),
    ]
    assert quadlet_targets(str(tree / "usr/share/containers/systemd/web-.container.d/20-port.conf")) == [
        str(tree / "usr/share/containers/systemd/web-front.container")
    ]
    assert quadlet_targets(str(tree / "usr/share/containers/systemd/app.container.d/50-caps.conf")) == []
    assert quadlet_targets(str(FIX / "sibling/tmpl@.container.d/10-debug.conf")) == [
        str(FIX / "sibling/tmpl@.container")
    ]


def test_service_user_keys_are_findings() -> None:
    p = str(FIX / "sibling/service-keys.container")
    a = analyze_container(p)
    assert a.state is LoadState.LOADED
    warn = [d for d in a.diagnostics if d.code == "UGQ010"]
    assert [d.location for d in warn] == [Location(p, 5), Location(p, 6)]
    assert all(d.severity is Severity.WARNING and "[Service]" in d.message for d in warn)


def test_podmanargs_override_keys_last_flag_wins() -> None:
    p = str(FIX / "sibling/podmanargs-override.container")
    ins = inspect_container(p)
    pos = ins.posture
    assert pos is not None
    assert pos.read_only.value is False and pos.read_only.location == Location(p, 5)
    assert pos.user.value == "0" and pos.network_mode.value == "host" and pos.pid.value == "host"
    assert pos.label_disabled.value and pos.userns.value == "host"
    assert ins.analysis.exposure == 100  # docker.sock in a rootful container: rule 0


def test_parse_error_names_the_line() -> None:
    p = str(FIX / "broken/no-equals/no-equals.container")
    a = analyze_container(p)
    assert a.state is LoadState.ERROR
    (d,) = a.diagnostics
    assert d.location == Location(p, 3) and d.severity is Severity.ERROR


def test_one_broken_file_discards_its_directory() -> None:
    a = analyze_container(str(FIX / "broken/with-good/good.container"))
    assert a.state is LoadState.ERROR
    assert any(d.code == "UGQ006" and "bad.container" in d.message for d in a.diagnostics)


def test_generated_service_marks_what_quadlet_adds() -> None:
    p = str(FIX / "sibling/service-keys.container")
    svc = generated_service(p)
    by_key = {(a.section, a.key): a for a in svc}
    assert by_key[("Service", "Delegate")].value == "yes"
    assert by_key[("Service", "Delegate")].location == Location(p, 0)
    assert by_key[("Service", "NotifyAccess")].value == "all"
    assert by_key[("Service", "Restart")].location == Location(p, 7)
    assert by_key[("Service", "ExecStart")].value.startswith("/usr/bin/podman run ")


def test_policy_can_override_rootless() -> None:
    p = str(FIX / "sibling/defaults.container")
    rootful = analyze_container(p)
    rootless = analyze_container(p, rootless=True)
    assert rootful.exposure is not None and rootless.exposure is not None
    assert rootless.exposure < rootful.exposure


@pytest.mark.parametrize("podman", sorted(RECORDED))
def test_expected_json_is_what_the_binary_says_now(podman: str) -> None:
    binary = os.environ.get(BINARY_ENV[podman])
    if not binary:
        pytest.skip(f"{BINARY_ENV[podman]} not set")
    record = _load("record")
    assert record.record(binary, podman) == RECORDED[podman]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("UNITGATE_PODMAN_SRC"), reason="UNITGATE_PODMAN_SRC not set")
@pytest.mark.parametrize("podman", sorted(BINARY_ENV))
def test_podman_suite_agrees(podman: str) -> None:
    """podman's own quadlet cases at the release's tag: same accept/refuse, assertions and ExecStart as
    that release's binary (when its path is set)."""
    from unitgate.quadlet.releases import release

    suite = _load("podman_suite")
    tag = release(podman).tag
    e2e = suite.suite_dir(tag)
    if e2e is None:
        pytest.skip("podman sources not readable")
    results = suite.run_all(e2e, os.environ.get(BINARY_ENV[podman]) or None, podman)
    # zero cases means the sources were not read (wrong tag or path): that is a failure, not a pass
    assert results, f"no .container cases found under {e2e}"
    report = suite.summary(results, tag)
    assert all(r.accept_agrees for r in results), report
    assert all(ok is not False for r in results for _, ok in r.assertions), report
    assert all(ok for r in results for _, ok in r.posture), report
    assert all(r.argv_match is not False for r in results), report
