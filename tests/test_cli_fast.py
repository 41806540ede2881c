"""The hook's fast argument path gives exactly what argparse gives, and leaves everything else to it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from unitgate import cli

TAKEN = [
    ["check"],
    ["check", "a.service"],
    ["check", "a.service", "b.service.d/x.conf"],
    ["check", "--format", "json", "a.service"],
    ["check", "--format=sarif", "--policy", "p.toml", "a", "b"],
    ["check", "--policy=p.toml", "a"],
    ["check", "--policy=", "a"],
    ["check", "a", "b", "--format", "github"],
    ["check", "--format", "json", "--format", "text", "a"],
    ["check", ""],
    ["check", "--exit-zero", "--baseline", "b.json", "--output=o.txt", "a"],
    ["check", "a", "--update-baseline"],
    ["check", "--scoring", "systemd-257", "--podman=5.8", "--staged", "a"],
]
LEFT_TO_ARGPARSE = [
    [],
    ["explain", "a.service"],
    ["check", "--help"],
    ["check", "-h"],
    ["check", "--form", "json", "a"],  # an abbreviation
    ["check", "--format", "xml", "a"],
    ["check", "--format=", "a"],
    ["check", "--format"],
    ["check", "--policy", "--format", "a"],
    ["check", "--", "-a.service"],
    ["check", "-", "a"],
    ["check", "a", "--format", "json", "b"],
    ["check", "--unknown", "a"],
    ["--version"],
    ["check", "--exit-zero=1", "a"],
    ["check", "--scoring", "systemd-999", "a"],
    ["check", "--staged", "--diff-base", "main"],
]


@pytest.mark.parametrize("argv", TAKEN, ids=" ".join)
def test_fast_path_matches_argparse(argv: list[str]) -> None:
    fast = cli.fast_check_args(argv)
    assert fast is not None
    assert vars(fast) == vars(cli.build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", LEFT_TO_ARGPARSE, ids=" ".join)
def test_everything_else_goes_to_argparse(argv: list[str]) -> None:
    assert cli.fast_check_args(argv) is None


def test_check_defaults_are_argparses() -> None:
    # A new `check` option must be added to CHECK_DEFAULTS too, or the fast path would omit it.
    ns = cli.build_parser().parse_args(["check"])
    assert vars(ns) == {**cli.CHECK_DEFAULTS, "paths": []}


def test_hook_path_does_not_import_argparse(tmp_path: Path) -> None:
    unit = tmp_path / "a.service"
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    code = (
        "import sys\n"
        "from unitgate import cli\n"
        f"cli.main(['check', {str(unit)!r}])\n"
        "print(sorted(m for m in ('argparse', 'locale', 'dataclasses') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# What a warm one-file hook run must not load: each is milliseconds of a run that is mostly start-up.
NOT_ON_THE_HOOK_PATH = (
    "argparse",
    "dataclasses",
    "importlib.resources",
    "ipaddress",
    "jsonschema",
    "locale",
    "pathlib",
    "string",
    "subprocess",
    "tomllib",
    "typing",
    "zlib",
    "json",
    "fnmatch",
    "unitgate.security.keys_models",
    "unitgate.security.syscall_models",
    "unitgate.gate.changes",
    "unitgate.report.summary",
    "unitgate.gate.baseline",
    "unitgate.records_code_quadlet",
)


def test_warm_hook_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    repo, cache = tmp_path / "repo", tmp_path / "cache"  # the cache is never used inside the repository
    unit = repo / "etc" / "systemd" / "system" / "web.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/bin/web\nPrivateTmp=yes\n")
    dropin = unit.parent / "web.service.d" / "1.conf"
    dropin.parent.mkdir()
    dropin.write_text("[Service]\nProtectSystem=strict\n")
    (repo / ".unitgate.toml").write_text('policy-version = 1\nextends = "baseline@1"\n')
    (repo / ".git").mkdir()
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"  # what the interpreter (and an editable install's finder) loads
        "from unitgate import cli\n"
        "cli.main(['check', 'etc/systemd/system/web.service', 'etc/systemd/system/web.service.d/1.conf'])\n"
        f"print(sorted(m for m in {NOT_ON_THE_HOOK_PATH!r} if m in sys.modules and m not in before))\n"
    )
    env = {**os.environ, "UNITGATE_CACHE_DIR": str(cache)}
    env.pop("GITHUB_STEP_SUMMARY", None)
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, env=env)
        for _ in "12"
    ]
    assert "tomllib" in runs[0].stdout  # the first run parsed the policy and filled the cache
    assert runs[1].stdout.strip().splitlines()[-1] == "[]", runs[1].stdout + runs[1].stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["check", "explain"])
def test_unwritable_output_is_an_error_not_a_traceback(tmp_path: Path, command: str) -> None:
    unit = tmp_path / "a.service"
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    env = {**os.environ, "UNITGATE_CACHE_DIR": ""}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "unitgate", command, str(unit)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    assert done.returncode == 2
    assert "No space left on device" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_closed_stdout_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    unit = tmp_path / "a.service"
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    done = subprocess.run(
        [sys.executable, "-m", "unitgate", "check", str(unit)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "UNITGATE_CACHE_DIR": ""},
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "unitgate: error: cannot write the report: standard output is closed"


def test_the_staged_hook_starts_git_without_subprocess(tmp_path: Path) -> None:
    # `check --staged` is what pre-commit runs: git starts once, through unitgate.spawn.
    if shutil.which("git") is None:
        pytest.skip("needs git")
    unit = tmp_path / "web.service"
    unit.write_text("[Service]\nExecStart=/usr/bin/web\n")
    me = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    for args in (["init", "-q"], ["add", "web.service"]):
        subprocess.run(["git", *me, *args], cwd=tmp_path, check=True, capture_output=True)
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from unitgate import cli\n"
        "code = cli.main(['check', '--staged'])\n"
        "print(code, 'subprocess' in sys.modules and 'subprocess' not in before)\n"
    )
    env = {**os.environ, "UNITGATE_CACHE_DIR": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.stdout.strip().splitlines()[-1] == "1 False", out.stdout + out.stderr
