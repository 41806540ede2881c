"""Hostile policies are policy errors (exit 2, "policy error", the key named), never an internal error,
a hang or gigabytes of memory; `extends` never leaves the built-ins; the validation cache can only skip
work and never lives inside the repository."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import pytest
from gate_cli import UNIT, unitgate, write

from unitgate import policy, policy_check, policy_find
from unitgate.policy_terms import PolicyError


def _repo(tmp_path: Path, policy_text: str, name: str = ".unitgate.toml") -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {name: policy_text, "a.service": UNIT})
    return root


HOSTILE = {
    "nan": ("policy-version = 1\nmax-exposure = nan\n", "max-exposure"),
    "inf": ("policy-version = 1\nmax-exposure = inf\n", "max-exposure"),
    "datetime in require": (
        "policy-version = 1\n[require]\nNoNewPrivileges = 1979-05-27T07:32:00Z\n",
        "require.NoNewPrivileges",
    ),
    "date in override": (
        'policy-version = 1\n[[override]]\nunits = ["a.service"]\nreason = 1979-05-27\n',
        "override[0].reason",
    ),
    "5000-digit integer": ("policy-version = 1\nmax-exposure = 1" + "0" * 5000 + "\n", ""),
    "4000-digit integer": ("policy-version = 1\nmax-exposure = 1" + "0" * 4000 + "\n", "max-exposure"),
    "huge version": ("policy-version = 99999999999999999999\n", "policy-version"),
    "deep arrays": ("policy-version = 1\nignore = " + "[" * 3000 + "]" * 3000 + "\n", ""),
    "nested arrays": ("policy-version = 1\nignore = " + "[" * 30 + "]" * 30 + "\n", "ignore"),
    "deep inline tables": ("policy-version = 1\nrequire = " + "{a=" * 2000 + "1" + "}" * 2000 + "\n", ""),
    "table for a value": ('policy-version = 1\n[require.NoNewPrivileges]\nx = "y"\n', "require"),
    "string exposure": ('policy-version = 1\nmax-exposure = "high"\n', "max-exposure"),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_values_are_policy_errors(tmp_path: Path, case: str) -> None:
    text, key = HOSTILE[case]
    run = unitgate(["check", "a.service"], _repo(tmp_path, text), timeout=20)
    assert run.code == 2, run.text
    assert run.err.startswith("unitgate: policy error: .unitgate.toml: "), run.err
    assert key in run.err
    assert len(run.err) < 3000


def _limit_memory() -> None:
    limit = 512 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS")
@pytest.mark.parametrize(
    "text",
    [
        "policy-version = 1\n" + "a" + ".a" * 20000 + " = 1\n",  # 40 KB dotted key: 1.6 GB in tomllib
        "policy-version = 1\n[" + "a." * 20000 + "a]\nx = 1\n",
        'policy-version = 1\nignore = ["' + "x" * 200_000 + '"]\n',
        "policy-version = 1\n" + "# padding\n" * 40_000,  # 400 KB: over the size cap
    ],
    ids=["dotted key", "dotted table", "long string", "too large"],
)
def test_expensive_policies_are_refused_cheaply(tmp_path: Path, text: str) -> None:
    import subprocess

    root = _repo(tmp_path, text)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "unitgate", "check", "a.service"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=_limit_memory,
        env={"PATH": "/usr/bin:/bin", "UNITGATE_CACHE_DIR": "", "NO_COLOR": "1"},
        check=False,
    )
    assert time.monotonic() - started < 10
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode in (1, 2), done.stderr
    if done.returncode == 2:
        assert done.stderr.startswith("unitgate: policy error: "), done.stderr


def test_pyproject_without_our_table_is_never_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pyproject.toml is parsed only when it has a [tool.unitgate] header: a costly or broken one
    without it is not ours, so the default policy applies and nothing is spent on it."""
    slow = "[tool.black]\n" + "a" + ".a" * 20000 + " = 1\n"
    root = _repo(tmp_path, slow, name="pyproject.toml")
    run = unitgate(["check", "a.service"], root, timeout=20)
    assert run.code == 1
    assert "policy: built-in default" in run.out
    parsed: list[str] = []
    real = policy._parse_toml
    monkeypatch.setattr(policy, "_parse_toml", lambda raw, shown: parsed.append(shown) or real(raw, shown))
    monkeypatch.chdir(root)
    assert policy_find.Finder().for_path("a.service").origin.startswith("built-in default")
    # Only the built-in default is parsed (or none: it may come from the parsed-policy cache).
    assert parsed in ([], ["built-in baseline@2"])


def test_pyproject_with_our_table_is_used(tmp_path: Path) -> None:
    text = '[project]\nname = "x"\n\n[tool.unitgate]\npolicy-version = 1\nmax-exposure = 10\n'
    run = unitgate(["check", "a.service"], _repo(tmp_path, text, name="pyproject.toml"))
    assert "policy: pyproject.toml" in run.out


@pytest.mark.parametrize(
    "extends",
    ["../../../../tmp/evil@1", "/etc/evil@1", "baseline@1/../strict@1", "..@1", "strict@1.toml", "x\n@1"],
)
def test_extends_only_names_shipped_builtins_even_when_the_schema_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extends: str
) -> None:
    """A poisoned validation cache (simulated: the schema is skipped) cannot make `extends` load a
    file: the name is looked up among the built-ins this package ships, and nothing else is opened."""
    evil = tmp_path / "evil@1.toml"
    evil.write_text("policy-version = 1\nmax-exposure = 10\n")
    monkeypatch.setattr(policy, "validate_schema", lambda data, origin, prefix: None)
    data = {"policy-version": 1, "extends": extends}
    with pytest.raises(PolicyError) as caught:
        policy.from_data(data, ".unitgate.toml")
    assert caught.value.key == "extends"
    assert "unknown built-in policy" in caught.value.message or "must pin a version" in caught.value.message


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"policy-version": 1, "max-exposure": "high"}, "max-exposure"),
        ({"policy-version": 1, "max-exposure": 100}, "max-exposure"),
        ({"policy-version": 1, "require": {"NoNewPrivileges": {"a": 1}}}, "require"),
        ({"policy-version": 1, "override": [{"units": ["x"]}]}, "override[0]"),
        ({"policy-version": 1, "override": [{"units": "x", "reason": "r"}]}, "override[0].units"),
        ({"policy-version": 1, "container": {"rootless": "yes"}}, "container.rootless"),
        ({"policy-version": 1, "unknown": 1}, ""),
    ],
)
def test_structure_is_checked_even_when_the_schema_is_skipped(
    monkeypatch: pytest.MonkeyPatch, data: dict[str, object], key: str
) -> None:
    monkeypatch.setattr(policy, "validate_schema", lambda data, origin, prefix: None)
    with pytest.raises(PolicyError) as caught:
        policy.from_data(data, ".unitgate.toml")
    assert caught.value.key == key


def test_a_cache_inside_the_repository_is_not_used(tmp_path: Path) -> None:
    root = _repo(tmp_path, "policy-version = 1\nmax-exposure = 9.9\n")
    for env in ({"UNITGATE_CACHE_DIR": str(root / ".cache")}, {"XDG_CACHE_HOME": str(root / "cache")}):
        environ: dict[str, str | None] = {"UNITGATE_CACHE_DIR": env.get("UNITGATE_CACHE_DIR", "")}
        if "XDG_CACHE_HOME" in env:  # the default location, only when UNITGATE_CACHE_DIR is not set
            environ = {"XDG_CACHE_HOME": env["XDG_CACHE_HOME"], "UNITGATE_CACHE_DIR": None}
        run = unitgate(["check", "a.service"], root, env=environ)
        assert run.code == 0
    assert not (root / ".cache").exists() and not (root / "cache").exists()
    outside = tmp_path / "outside-cache"
    unitgate(["check", "a.service"], root, env={"UNITGATE_CACHE_DIR": str(outside)})
    assert list((outside / "policy-valid").iterdir())


def test_cache_marker_is_keyed_on_version_and_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNITGATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "work" / ".git").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    policy_check.validate_schema({"policy-version": 1}, "p", "")
    first = set((tmp_path / "cache" / "policy-valid").iterdir())
    monkeypatch.setattr(policy_check, "__version__", "999.0")
    policy_check.validate_schema({"policy-version": 1}, "p", "")
    assert len(set((tmp_path / "cache" / "policy-valid").iterdir()) - first) == 1


def test_a_policy_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    import os

    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {"a.service": UNIT})
    os.mkfifo(root / ".unitgate.toml")
    run = unitgate(["check", "a.service"], root, timeout=20)
    assert run.code == 2
    assert "a FIFO, not a regular file: not read" in run.err


def test_a_policy_symlinked_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.toml"
    secret.write_text('token = "UNITGATE-POLICY-CANARY-77"\npolicy-version = 1\n')
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {"a.service": UNIT})
    (root / ".unitgate.toml").symlink_to(secret)
    for fmt in ("text", "github", "json", "sarif"):
        run = unitgate(["check", "--format", fmt, "a.service"], root)
        assert run.code == 2
        assert "outside the repository" in run.err and "host-secret.toml" in run.err
        assert "UNITGATE-POLICY-CANARY-77" not in run.text
