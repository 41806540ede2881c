"""The hook's fast argument path gives exactly what argparse gives, and leaves everything else to it."""

from __future__ import annotations

import ast
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
    "collections",
    "dataclasses",
    "enum",
    "functools",
    "importlib.resources",
    "ipaddress",
    "jsonschema",
    "locale",
    "pathlib",
    "re",
    "string",
    "subprocess",
    "tomllib",
    "types",
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


def _hook_repo(repo: Path) -> list[str]:
    unit = repo / "etc" / "systemd" / "system" / "web.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/bin/web --port 8080\nPrivateTmp=yes\nTimeoutSec=5s\n")
    dropin = unit.parent / "web.service.d" / "1.conf"
    dropin.parent.mkdir()
    dropin.write_text("[Service]\nProtectSystem=strict\nEnvironment=A=1 B=2\nUMask=0077\n")
    (repo / ".unitgate.toml").write_text('policy-version = 1\nextends = "baseline@1"\n')
    return [str(p.relative_to(repo)) for p in (unit, dropin)]


def _warm_run_loads(repo: Path, cache: Path, argv: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """What of NOT_ON_THE_HOOK_PATH (less `allowed`) the second of two runs loads: the first fills the
    validation cache."""
    watched = tuple(m for m in NOT_ON_THE_HOOK_PATH if m not in allowed)
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"  # what the interpreter (and an editable install's finder) loads
        "from unitgate import cli\n"
        f"cli.main({argv!r})\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules and m not in before))\n"
    )
    env = {**os.environ, "UNITGATE_CACHE_DIR": str(cache)}
    env.pop("GITHUB_STEP_SUMMARY", None)
    runs = [
        subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=repo, env=env)
        for _ in "12"
    ]
    assert "tomllib" in runs[0].stdout  # the first run parsed the policy and filled the cache
    loaded: list[str] = ast.literal_eval(runs[1].stdout.strip().splitlines()[-1])
    return loaded


def test_warm_hook_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"  # the cache is never used inside the repository
    files = _hook_repo(repo)
    (repo / ".git").mkdir()
    assert _warm_run_loads(repo, tmp_path / "cache", ["check", *files]) == []


def test_warm_quadlet_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    container = repo / "etc" / "containers" / "systemd" / "app.container"
    container.parent.mkdir(parents=True)
    container.write_text(
        "[Container]\nImage=nginx\nPublishPort=127.0.0.1:8080:80\nReadOnly=true\nUser=1000\n"
    )
    (repo / ".unitgate.toml").write_text('policy-version = 1\nextends = "baseline@1"\n')
    (repo / ".git").mkdir()
    files = [str(container.relative_to(repo))]
    needed = ("unitgate.records_code_quadlet",)  # the quadlet engine's own value classes
    assert _warm_run_loads(repo, tmp_path / "cache", ["check", *files], needed) == []


def test_the_staged_hook_imports_only_what_it_needs(tmp_path: Path) -> None:
    # `check --staged` is what pre-commit runs: git starts once, through unitgate.spawn (no subprocess).
    if shutil.which("git") is None:
        pytest.skip("needs git")
    repo = tmp_path / "repo"
    files = _hook_repo(repo)
    me = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    for args in (["init", "-q"], ["add", ".unitgate.toml"], ["commit", "-qm", "policy"], ["add", *files]):
        subprocess.run(["git", *me, *args], cwd=repo, check=True, capture_output=True)
    needed = ("unitgate.gate.changes",)
    assert _warm_run_loads(repo, tmp_path / "cache", ["check", "--staged", *files], needed) == []


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
