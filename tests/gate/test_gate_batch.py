"""A streaming `check` (forked workers, analyses not kept) reports exactly what a kept, in-process
run reports: the same findings in the same order, the same summary lines."""

from __future__ import annotations

from pathlib import Path

from unitgate.gate.run import check

HARDENING = (
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectSystem=strict",
    "User=app",
    "PrivateNetwork=yes",
)
POLICY = 'policy-version = 1\nextends = "baseline@1"\nmax-exposure = 8.0\n'


def _repo(root: Path, count: int) -> list[str]:
    units = root / "etc" / "systemd" / "system"
    (units / "service.d").mkdir(parents=True)
    (units / "service.d" / "10-all.conf").write_text("[Service]\nLimitNOFILE=1024\n")
    paths = []
    for i in range(count):
        lines = ["[Service]", f"ExecStart=/usr/bin/app{i}"]
        lines += [h for j, h in enumerate(HARDENING) if (i >> j) & 1]
        if i % 7 == 0:
            lines.insert(0, "# unitgate: disable-next-line=UG101 reason='tested'")
        if i % 11 == 0:
            lines.append("# unitgate: disable=UG999")  # broken: reported
        name = f"grp{i % 3}-svc{i:04d}{'@' if i % 13 == 5 else ''}.service"
        (units / name).write_text("\n".join(lines) + "\n")
        paths.append(str(units / name))
        if i % 10 == 3:
            (units / f"{name}.d").mkdir()
            (units / f"{name}.d" / "50-x.conf").write_text("[Service]\nProtectHome=yes\n")
            paths.append(str(units / f"{name}.d" / "50-x.conf"))
    paths.append(str(units / "service.d" / "10-all.conf"))
    (root / ".unitgate.toml").write_text(POLICY)
    return paths


def test_streaming_equals_kept(tmp_path: Path) -> None:
    paths = _repo(tmp_path, 260)  # above parallel.MIN_ITEMS: workers on a multi-core machine
    streamed = check(paths, keep=False)
    kept = check(paths, keep=True)
    assert streamed.findings == kept.findings
    assert streamed.info == kept.info
    assert streamed.suppressed == kept.suppressed
    assert streamed.errors == kept.errors
    assert streamed.checked == () and len(kept.checked) == len(kept.info.units)
    assert len(streamed.findings) > 100


def test_streaming_reports_a_broken_policy_as_kept_does(tmp_path: Path) -> None:
    paths = _repo(tmp_path / "a", 250)
    broken = tmp_path / "b" / "x.service"
    broken.parent.mkdir()
    broken.write_text("[Service]\nExecStart=/bin/true\n")
    (tmp_path / "b" / ".unitgate.toml").write_text("policy-version = 99\n")
    streamed = check([*paths[:100], str(broken), *paths[100:]], keep=False)
    kept = check([*paths[:100], str(broken), *paths[100:]], keep=True)
    assert streamed.errors == kept.errors and len(streamed.errors) == 1
    assert streamed.findings == kept.findings
    assert streamed.info == kept.info


def test_streaming_applies_a_shared_dropins_suppressions_as_kept_does(tmp_path: Path) -> None:
    # The shared drop-in is read where each unit is judged (in every worker); its file-wide
    # suppression must still hold for every unit, and its broken comment be reported once.
    paths = _repo(tmp_path, 240)
    shared = tmp_path / "etc" / "systemd" / "system" / "service.d" / "10-all.conf"
    shared.write_text(
        "# unitgate: disable-file=ProtectHome reason='shared'\n"
        "# unitgate: disable=UG998\n"
        "[Service]\nLimitNOFILE=1024\n"
    )
    streamed = check(paths, keep=False)
    kept = check(paths, keep=True)
    assert streamed.findings == kept.findings
    assert streamed.info == kept.info
    assert streamed.suppressed == kept.suppressed
    assert sum(f.rule == "UG403" and f.location.path == str(shared) for f in streamed.findings) == 1
    assert not any(f.directive == "ProtectHome" for f in streamed.findings)


def test_one_dropin_reaching_many_units_is_judged_in_workers_as_in_process(tmp_path: Path) -> None:
    # One path, hundreds of units: the plan is drawn lazily and the workers start on its first units.
    _repo(tmp_path, 230)
    shared = str(tmp_path / "etc" / "systemd" / "system" / "service.d" / "10-all.conf")
    streamed = check([shared], keep=False)
    kept = check([shared], keep=True)
    assert len(streamed.info.units) == 230
    assert streamed.findings == kept.findings
    assert streamed.info == kept.info
