"""Output that cannot be used against its reader: no forged GitHub workflow command in any format or on
stderr, no raw control character in text, always-valid JSON and SARIF, bounded messages and output.

Each case builds a hostile repository in tmp_path and runs the CLI as a user (or CI) would."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from gate_cli import FORMATS, Run, forged_commands, unitgate, write

from unitgate import cli, escape

PAYLOAD_DIR = "p\n::add-mask::PATH1\n"
ESC_DIR = "e\x1b[31m\x07\x9b2J\u202e"
W_SERVICE = (
    "[Service]\nExecStart=/bin/true\n"
    "Environment=X=2\r::add-mask::VALUE1\x1b[2J\x07\n"
    "Foo\r::add-mask::JUNK=1\n"
    "ProtectSystem=no\r::warning::V2\n"
    "##[add-mask]LEGACY\n"
    "Environment=Y=\x1b]0;title\x07\u2028::set-output name=x::y\n"
)
QUADLET_DROPIN = (
    "[Container]\nEnvironment=A=1\r::add-mask::QVAL\nBogus\r::warning::Q=1\nnot a pair\r::add-mask::QLINE\n"
)
POLICY = (
    "policy-version = 1\nmax-exposure = 9.9\n"
    '[require]\nEnvironment = "X=1"\nProtectSystem = "strict"\n'
    "[container]\nmax-exposure = 1.0\n"
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("escaping") / "repo"
    (root / ".git").mkdir(parents=True)
    unit = "[Service]\nExecStart=/bin/true\n"
    write(
        root,
        {
            ".unitgate.toml": POLICY,
            f"{PAYLOAD_DIR}/x.service": unit,
            f"{ESC_DIR}/y.service": unit,
            "u/w.service": W_SERVICE,
            "q/web.container": "[Container]\nImage=docker.io/library/alpine:3\n",
            "q/web.container.d/10.conf": QUADLET_DROPIN,
            # Enough findings in one file to overflow GitHub's 10 annotations per kind.
            "many/m.service": "[Service]\nExecStart=/bin/true\n"
            + "".join(f"Bad{i}\r::add-mask::M{i}=1\n" for i in range(14)),
        },
    )
    return root


def _runs(root: Path) -> dict[str, Run]:
    runs = {f"check-{fmt}": unitgate(["check", "--format", fmt], root) for fmt in FORMATS}
    paths = ["u/w.service", f"{PAYLOAD_DIR}/x.service", f"{ESC_DIR}/y.service", "q/web.container"]
    for fmt in ("text", "json"):
        runs[f"explain-{fmt}"] = unitgate(["explain", "--format", fmt, *paths], root)
    return runs


@pytest.fixture(scope="module")
def runs(hostile: Path) -> dict[str, Run]:
    return _runs(hostile)


def test_the_payload_reached_the_output(runs: dict[str, Run]) -> None:
    """The hostile names and values are shown (escaped): the tests below test something."""
    text = runs["check-text"].out
    assert "p\\x0a::add-mask::PATH1\\x0a/x.service:1:1: UG101" in text
    assert "e\\x1b[31m\\x07\\x9b2J\\u202e/y.service" in text
    assert "QLINE" in text
    assert runs["check-text"].code == 1


@pytest.mark.parametrize(
    "name", ["check-text", "check-github", "check-json", "check-sarif", "explain-text", "explain-json"]
)
def test_no_forged_workflow_command(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    assert forged_commands(run.out) == []
    assert forged_commands(run.err) == []


def test_github_overflow_and_summary_lines_are_plain(runs: dict[str, Run]) -> None:
    out = runs["check-github"].out
    plain = [line for line in out.splitlines() if not line.startswith("::")]
    assert any("many/m.service" in line for line in plain)  # past the 10-annotation limit
    assert plain[-1].startswith("Found ")
    assert "\r" not in out


@pytest.mark.parametrize("name", ["check-text", "check-github", "explain-text"])
def test_no_raw_control_characters_in_text(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    for stream in (run.out, run.err):
        raw = {c for c in stream if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F}
        assert raw == set()
        assert "\u202e" not in stream and "\u2028" not in stream


@pytest.mark.parametrize("name", ["check-json", "check-sarif", "explain-json"])
def test_json_is_valid_and_keeps_the_values(runs: dict[str, Run], name: str) -> None:
    out = runs[name].out
    document = json.loads(out)
    assert document
    # Same values for a JSON reader, no raw escape character for a terminal.
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    if name == "check-json":
        paths = {f["path"] for f in document["findings"]}
        assert f"{ESC_DIR}/y.service" in paths


def test_paths_starting_with_colons_cannot_start_a_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {"::add-mask::X/a.service": "[Service]\nExecStart=/bin/true\n"})
    for fmt in FORMATS:
        run = unitgate(["check", "--format", fmt, "::add-mask::X/a.service"], root)
        assert forged_commands(run.out + "\n" + run.err) == [], fmt
    text = unitgate(["check", "::add-mask::X/a.service"], root).out
    assert text.startswith("./::add-mask::X/a.service:1:1: ")


def test_policy_strings_on_stderr_are_escaped(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(
        root,
        {
            ".unitgate.toml": 'policy-version = 1\nextends = "x\\n::add-mask::EXT\\r##[add-mask]L@1"\n',
            "a.service": "[Service]\nExecStart=/bin/true\n",
        },
    )
    for fmt in FORMATS:
        run = unitgate(["check", "--format", fmt, "a.service"], root)
        assert run.code == 2
        assert "policy error" in run.err
        assert forged_commands(run.err) == [] and forged_commands(run.out) == []
    key = tmp_path / "key"
    (key / ".git").mkdir(parents=True)
    write(
        key,
        {
            ".unitgate.toml": 'policy-version = 1\n[require]\n"A\\n::add-mask::KEY\\u001b[2J" = true\n',
            "a.service": "[Service]\nExecStart=/bin/true\n",
        },
    )
    run = unitgate(["check", "--format", "github", "a.service"], key)
    assert run.code == 2 and "policy error" in run.err
    assert forged_commands(run.err) == [] and "\x1b" not in run.err


def test_missing_path_on_stderr_is_escaped(tmp_path: Path) -> None:
    run = unitgate(["check", "--format", "github", "gone\n::add-mask::MISSING\n.service"], tmp_path)
    assert run.code == 2
    assert forged_commands(run.err) == []


def test_explain_json_is_closed_on_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Whatever goes wrong while units are analysed, stdout holds one valid JSON document (exit 2)."""
    from unitgate import explain

    write(tmp_path, {"a.service": "[Service]\nExecStart=/bin/true\n", "b.service": "[Service]\n"})
    calls = {"n": 0}
    real = explain._render_one

    def flaky(*args: object) -> tuple[str, bool, str]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(explain, "_render_one", flaky)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["explain", "--format", "json", "a.service", "b.service"])
    out = capsys.readouterr().out
    assert code == 2
    assert [u["unit"] for u in json.loads(out)] == ["a.service"]


def test_one_file_cannot_flood_the_output(tmp_path: Path) -> None:
    """20,000 junk lines in one unit: findings capped per file (the rest counted), output bounded."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    junk = "".join(f"Junk{i}=1\n" for i in range(20000))
    write(
        root,
        {
            "a.service": "[Service]\nExecStart=/bin/true\n" + junk,
            "b.service": "[Service]\nExecStart=/bin/true\n",
        },
    )
    sizes = {}
    for fmt in FORMATS:
        run = unitgate(["check", "--format", fmt, "a.service", "b.service"], root, timeout=120)
        assert run.code == 1
        sizes[fmt] = len(run.out)
        if fmt == "text":
            lines = [line for line in run.out.splitlines() if line.startswith("a.service:")]
            assert len(lines) == 100
            assert "UG903" in lines[-1] or any("UG903" in line for line in lines)
            assert any(" more findings in this file are not shown" in line for line in lines)
            assert "b.service:" in run.out  # the other file is still reported
    assert max(sizes.values()) < 400_000, sizes


def test_long_values_are_quoted_bounded() -> None:
    assert (
        escape.quote("a" * 10_000)
        == "a" * escape.VALUE_LIMIT + f"…[{10_000 - escape.VALUE_LIMIT} more characters]"
    )
    assert escape.text("a\x1bb\x07c\rd\ne\x7f\x85\u200f") == "a\\x1bb\\x07c\\x0dd\\x0ae\\x7f\\x85\\u200f"
    assert escape.text("x ##[add-mask]y") == "x ##\\x5badd-mask]y"
    assert escape.path(" ::stop-commands::t") == "./ ::stop-commands::t"
    assert json.loads(escape.json_text(json.dumps({"a": "##[x \u2028 \x85"}, ensure_ascii=False))) == {
        "a": "##[x \u2028 \x85"
    }


def test_stderr_of_an_internal_error_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    from unitgate.gate import command as gate_run

    def boom(ns: object) -> int:
        raise RuntimeError("bad\n::add-mask::INTERNAL")

    monkeypatch.setattr(gate_run, "run", boom)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    assert cli.main(["check", "x.service"]) == 2
    assert forged_commands(err.getvalue()) == []
    assert os.linesep not in err.getvalue().split("internal error", 1)[1].split("\nunitgate: please")[0]


def test_fix_output_cannot_forge_commands(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    path = f"{PAYLOAD_DIR}/x.service"
    write(root, {path: "[Service]\nExecStart=/bin/true\n"})
    run = unitgate(["fix", "--diff", path], root)
    assert "PATH1" in run.out  # the hostile path is shown, escaped
    assert forged_commands(run.out) == [] and forged_commands(run.err) == []


def test_printable_text_skips_no_escape() -> None:
    # escape.text and escape.json_text skip their patterns for str.isprintable() text: that is only
    # right while every character the patterns escape is unprintable.
    import re

    from unitgate import escape

    for pattern in (escape._UNSAFE, escape._JSON_UNSAFE):
        matched = [c for c in map(chr, range(0x110000)) if re.fullmatch(pattern, c)]
        assert matched and not [c for c in matched if c.isprintable()]
