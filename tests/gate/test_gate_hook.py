"""The pre-commit hook: its manifest, its `files` pattern, and a real `pre-commit try-repo` run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, write_tree

from unitgate.gate.changes import SELECTED, selected

MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def hook() -> dict[str, object]:
    yaml = pytest.importorskip("yaml")  # pre-commit depends on PyYAML
    (entry,) = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(entry, dict)
    return entry


def test_manifest() -> None:
    entry = hook()
    assert entry["id"] == "unitgate"
    assert entry["language"] == "python"
    assert entry["entry"] == 'python -I -c "from unitgate.__main__ import entry; entry()" check --staged'
    assert entry["require_serial"] is True
    assert entry["always_run"] is True
    assert entry["files"] == SELECTED  # the hook and `unitgate check DIR` pick the same files


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("web.service", True),
        ("etc/systemd/system/web.service", True),
        ("getty@.service", True),
        ("web.service.d/override.conf", True),
        ("etc/systemd/system/web-.service.d/10-harden.conf", True),
        ("units/getty@.service.d/x.conf", True),
        ("service.d/10-all.conf", True),
        ("etc/systemd/system/service.d/10-all.conf", True),
        ("web.container", True),
        ("web.container.d/10-x.conf", True),
        ("containers/container.d/10-x.conf", True),
        ("web.service.bak", False),
        ("web.service.d/README", False),
        ("ssh/sshd_config.d/10-x.conf", False),
        ("nginx/conf.d/site.conf", False),
        ("myservice.d/x.conf", False),
        ("web.socket", False),
    ],
)
def test_files_pattern(path: str, selected: bool) -> None:
    assert bool(re.search(str(hook()["files"]), path)) is selected


UNDER_HARDENED = "[Unit]\nDescription=demo\n\n[Service]\nExecStart=/usr/bin/demo\n"
HARDENED = UNDER_HARDENED + "NoNewPrivileges=yes\nProtectSystem=strict\n"
POLICY = (
    "policy-version = 1\nmax-exposure = 9.9\n"
    '[require]\nNoNewPrivileges = true\nProtectSystem = ["strict", "full"]\n'
)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.slow
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    if shutil.which("git") is None or not Path(pre_commit).exists():
        pytest.skip("needs git and pre-commit")
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    _git(work, "config", "user.email", "t@example.invalid")
    _git(work, "config", "user.name", "t")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "UNITGATE_CACHE_DIR": ""}
    env.pop("GITHUB_ACTIONS", None)

    def try_repo(*paths: str) -> subprocess.CompletedProcess[str]:
        _git(work, "add", "-A")
        return subprocess.run(
            [pre_commit, "try-repo", str(ROOT), "unitgate", "--color", "never", "--files", *paths],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    write_tree(work, {".unitgate.toml": POLICY, "units/demo.service": UNDER_HARDENED})
    blocked = try_repo("units/demo.service")
    if blocked.returncode != 1 and "Could not find a version" in blocked.stdout + blocked.stderr:
        pytest.skip("pre-commit could not install the hook's dependencies (no package index)")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "units/demo.service:4:1: UG101 demo.service: 2 directives the policy requires are not set: " in (
        blocked.stdout
    )
    assert "write [Service] NoNewPrivileges=yes, ProtectSystem=strict in one drop-in" in blocked.stdout

    write_tree(work, {"units/demo.service": HARDENED})
    passed = try_repo("units/demo.service")
    assert passed.returncode == 0, passed.stdout + passed.stderr

    write_tree(work, {"units/demo.service.d/override.conf": "[Service]\nProtectSystem=no\n"})
    weakened = try_repo("units/demo.service.d/override.conf")
    assert weakened.returncode == 1, weakened.stdout + weakened.stderr
    assert (
        "units/demo.service.d/override.conf:2:1: UG102 demo.service: ProtectSystem=no is not accepted by the "
        "policy, overriding ProtectSystem=strict at units/demo.service:7" in weakened.stdout
    )


@pytest.mark.slow
def test_readme_pre_commit_snippet_works_as_written(tmp_path: Path) -> None:
    """The README's .pre-commit-config.yaml, with its placeholders filled in: this checkout's URL and
    the commit SHA of its HEAD (what a user pins until there is a release tag)."""
    yaml = pytest.importorskip("yaml")
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    if shutil.which("git") is None or not Path(pre_commit).exists():
        pytest.skip("needs git and pre-commit")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\n", readme.index("**pre-commit.**")) + len("```yaml\n")
    config = yaml.safe_load(readme[start : readme.index("```", start)])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    config["repos"][0]["repo"] = str(ROOT)
    config["repos"][0]["rev"] = head.stdout.strip()
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    write_tree(work, {".pre-commit-config.yaml": yaml.safe_dump(config), ".unitgate.toml": POLICY})
    write_tree(work, {"units/demo.service": UNDER_HARDENED})
    _git(work, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "UNITGATE_CACHE_DIR": ""}
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(
        [pre_commit, "run", "--color", "never", "--files", "units/demo.service"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 1 and "Could not find a version" in done.stdout + done.stderr:
        pytest.skip("pre-commit could not install the hook's dependencies (no package index)")
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "units/demo.service:4:1: UG101 demo.service: 2 directives the policy requires are not set"
        in done.stdout
    )


def test_selected_reads_the_pattern_exactly() -> None:
    import itertools

    parts = ["", "a", "x.service", "service.d", "a.service.d", "a-.service.d", "container.d", "b.container.d"]
    names = ["x.service", "x.container", "x.conf", ".conf", "x.conf\n", "x.service\n", "x.timer", "conf"]
    names += ["a.service.d", "x.conf.bak", "x.service\n\n"]
    for depth in range(3):
        for dirs in itertools.product(parts, repeat=depth):
            for name in names:
                path = "/".join([*dirs, name])
                assert selected(path) == bool(re.search(SELECTED, path)), repr(path)


def test_the_hook_never_imports_from_the_repository(tmp_path: Path) -> None:
    """The entry starts `python -c` in the repository under check; with -I, a `unitgate` package planted
    there is not what runs (without -I it would be: the working directory heads sys.path)."""
    import shlex

    entry = hook()["entry"]
    assert isinstance(entry, str)
    argv = shlex.split(entry)
    assert argv[:2] == ["python", "-I"]
    launcher = [sys.executable, *argv[1:4]]  # python -I -c CODE, with this environment's interpreter
    write_tree(
        tmp_path, {"unitgate/__init__.py": "", "unitgate/__main__.py": "print('PLANTED')\nentry = print"}
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    ran = subprocess.run([*launcher, "--version"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "PLANTED" not in ran.stdout and ran.stdout.startswith("unitgate ")
    without = [a for a in launcher if a != "-I"]
    planted = subprocess.run([*without, "--version"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "PLANTED" in planted.stdout
