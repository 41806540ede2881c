"""`unitgate explain` as a user runs it: the JSON contract, exit codes, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unitgate.cli import main

MINIMAL = "[Service]\nExecStart=/bin/true\n"


def explain_json(capsys: pytest.CaptureFixture[str], *paths: Path | str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["explain", "--format", "json", *map(str, paths)])
    return code, json.loads(capsys.readouterr().out)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_minimal_service_matches_systemd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = write(tmp_path / "min.service", MINIMAL)
    code, [result] = explain_json(capsys, unit)
    assert code == 0
    assert (result["unit"], result["exposure"], result["rating"]) == ("min.service", 9.6, "UNSAFE")
    assert result["path"] == str(unit)
    assert len(result["checks"]) == 81
    row = next(c for c in result["checks"] if c["name"] == "PrivateNetwork=")
    assert row == {
        "name": "PrivateNetwork=",
        "json_field": "PrivateNetwork",
        "set": False,
        "description": "Service has access to the host's network",
        "weight": 2500,
        "range": 1,
        "badness": 1,
        "exposure": 0.5,
        "source": None,
        "directives": ["PrivateNetwork"],
    }


def test_source_points_at_the_dropin_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "etc/systemd/system"
    write(root / "web.service", MINIMAL + "PrivateTmp=yes\n")
    dropin = write(root / "web.service.d/override.conf", "[Service]\n\nPrivateTmp=no\n")
    _, [result] = explain_json(capsys, dropin)
    row = next(c for c in result["checks"] if c["name"] == "PrivateTmp=")
    assert row["badness"] == 1
    assert row["source"].endswith("web.service.d/override.conf:3")
    assert [Path(s).name for s in result["sources"]] == ["web.service", "override.conf"]


def test_template_is_analysed_as_instance_i(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = write(tmp_path / "getty@.service", MINIMAL + "User=%i\n")
    _, [result] = explain_json(capsys, unit)
    assert result["unit"] == "getty@i.service"
    user = next(c for c in result["checks"] if c["name"] == "User=/DynamicUser=")
    assert user["badness"] == 0  # "i" is a static non-root user


def test_many_paths_one_array(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = [write(tmp_path / f"u{i}.service", MINIMAL) for i in range(50)]
    code, results = explain_json(capsys, *units)
    assert code == 0
    assert [r["unit"] for r in results] == [f"u{i}.service" for i in range(50)]


@pytest.mark.parametrize(
    ("name", "content", "state", "needle"),
    [
        ("bin.service", b"\x7fELF\x02\x01\x01\x00\xff\xfe", "error", "not valid UTF-8"),
        ("utf.service", b"[Service]\nExecStart=/bin/true\nUser=\xc3\x28\n", "error", "not valid UTF-8"),
        ("user.service", b"[Service]\nExecStart=/bin/true\nUser=a:b\n", "bad-setting", "User=a:b"),
        ("noexec.service", b"[Service]\nUser=x\n", "bad-setting", "ExecStart"),
        ("masked.service", b"", "masked", "masked"),
        ("bad name.service", b"[Service]\n", "error", "not a valid unit file name"),
    ],
)
def test_bad_input_is_named_not_crashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, state: str, needle: str
) -> None:
    unit = write(tmp_path / name, content)
    code, [result] = explain_json(capsys, unit)
    assert result["state"] == state
    assert result["exposure"] is None
    assert any(needle in d["message"] for d in result["diagnostics"]), result["diagnostics"]
    assert all(d["file"] and d["line"] >= 0 for d in result["diagnostics"])
    assert code == (0 if state == "masked" else 1)


def test_missing_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, results = explain_json(capsys, tmp_path / "nope.service", tmp_path)
    assert code == 1
    assert [r["state"] for r in results] == ["not-found", "error"]


def test_dropin_without_base_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dropin = write(tmp_path / "ghost.service.d/x.conf", "[Service]\nPrivateTmp=yes\n")
    code, [result] = explain_json(capsys, dropin)
    assert (code, result["state"]) == (1, "not-found")
    assert "no unit in the repository" in result["diagnostics"][0]["message"]


def test_text_output_has_the_overall_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = write(tmp_path / "min.service", MINIMAL)
    assert main(["explain", str(unit)]) == 0
    out = capsys.readouterr().out
    assert "Overall exposure level for min.service: 9.6 UNSAFE" in out
    assert "PrivateNetwork=" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 2
    assert main(["frobnicate"]) == 2
    assert "unitgate: error:" in capsys.readouterr().err


def test_no_traceback_on_broken_pipe(tmp_path: Path) -> None:
    units = [str(write(tmp_path / f"u{i}.service", MINIMAL)) for i in range(30)]
    cmd = [sys.executable, "-m", "unitgate", "explain", *units]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # the reader goes away, as `| head -1` does
        err = proc.stderr.read().decode()
        proc.wait()
    assert "Traceback" not in err
    assert proc.returncode in (0, 1, -13)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_dev_null_symlink_masks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "etc/systemd/system"
    root.mkdir(parents=True)
    (root / "m.service").symlink_to("/dev/null")
    _, [result] = explain_json(capsys, root / "m.service")
    assert result["state"] == "masked"


def test_symlinks_checked_out_as_plain_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """git with core.symlinks=false (Windows) writes a symlink as a file holding its target."""
    root = tmp_path / "lib/systemd/system"
    write(root / "real.service", MINIMAL + "PrivateTmp=yes\n")
    write(root / "alias.service", "real.service")  # an alias, as git wrote it
    write(root / "alias.service.d/10-x.conf", "[Service]\nNoNewPrivileges=yes\n")
    write(root / "gone.service", "/dev/null")  # a mask, as git wrote it
    _, results = explain_json(capsys, root / "alias.service", root / "gone.service")
    assert [(r["unit"], r["state"]) for r in results] == [
        ("real.service", "loaded"),
        ("gone.service", "masked"),
    ]
    assert [Path(s).name for s in results[0]["sources"]] == ["real.service", "10-x.conf"]


def test_scoring_picks_the_release_and_says_which(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = write(tmp_path / "min.service", MINIMAL)
    scores = {}
    for model in ("systemd-252", "systemd-255", "systemd-257", "systemd-262"):
        code = main(["explain", "--format", "json", "--scoring", model, str(unit)])
        [result] = json.loads(capsys.readouterr().out)
        assert (code, result["model"]) == (0, model)
        scores[model] = result["exposure"]
    # 254 made PrivateMounts= a tristate whose unset value counts as private offline.
    assert scores == {"systemd-252": 9.6, "systemd-255": 9.4, "systemd-257": 9.4, "systemd-262": 9.4}
    main(["explain", str(unit)])
    assert "scoring model: systemd-252" in capsys.readouterr().out


def test_unknown_model_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = write(tmp_path / "min.service", MINIMAL)
    assert main(["explain", "--scoring", "systemd-999", str(unit)]) == 2
    assert "systemd-257" in capsys.readouterr().err  # the models there are


def test_value_of_a_later_release_is_a_lost_protection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = write(tmp_path / "t.service", MINIMAL + "PrivateTmp=disconnected\n")
    _, [old] = explain_json(capsys, unit)
    [diag] = old["diagnostics"]
    assert diag["code"] == "UG-VALUE-NEWER-RELEASE"
    assert diag["message"] == (
        "PrivateTmp=disconnected: systemd 252 ignores this value (added in 257); "
        "the protection is off on this release"
    )
    assert next(c for c in old["checks"] if c["name"] == "PrivateTmp=")["badness"] == 1
    main(["explain", "--format", "json", "--scoring", "systemd-257", str(unit)])
    [new] = json.loads(capsys.readouterr().out)
    assert new["diagnostics"] == []
    assert next(c for c in new["checks"] if c["name"] == "PrivateTmp=")["badness"] == 0


def test_templates_are_test_instance_since_257(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = write(tmp_path / "getty@.service", MINIMAL)
    main(["explain", "--format", "json", "--scoring", "systemd-257", str(unit)])
    [result] = json.loads(capsys.readouterr().out)
    assert result["unit"] == "getty@test_instance.service"
