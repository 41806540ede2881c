"""The gate checks everything it is pointed at: same names in different roots are different units,
an odd file is a finding while the others are still checked, directories and the whole repository
in one process, lists, change sets (deleted drop-ins, policy changes) and repository-relative paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gate_cli import CONTAINER, HARDENING, POLICY, UNIT, git, git_repo, unitgate, write

ROOT = Path(__file__).resolve().parents[2]
HARDENED = UNIT + "NoNewPrivileges=yes\nProtectSystem=strict\n"


def _findings(run_out: str) -> list[tuple[str, str]]:
    return [(f["path"], f["rule"]) for f in json.loads(run_out)["findings"]]


def test_same_unit_name_in_different_roots_is_two_units(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    a = "hosts/a/etc/systemd/system/x.service"
    b = "hosts/b/etc/systemd/system/x.service"
    qa, qb = "hosts/a/etc/containers/systemd/web.container", "hosts/b/etc/containers/systemd/web.container"
    write(
        root,
        {
            ".unitgate.toml": POLICY + "[container]\nmax-exposure = 9.9\n",
            a: HARDENED,
            b: UNIT,  # under-hardened: must not hide behind the first x.service
            qa: CONTAINER,
            qb: CONTAINER + "PodmanArgs=--privileged\n",
        },
    )
    run = unitgate(["check", "--format", "json", a, b, qa, qb], root)
    assert run.code == 1
    document = json.loads(run.out)
    assert [u["path"] for u in document["units"]] == [a, b, qa, qb]
    assert (b, "UG101") in _findings(run.out)
    assert not any(path == a for path, _ in _findings(run.out))
    assert unitgate(["check", a, b, qa, qb], root).out.splitlines()[-1].startswith("Found ")
    assert "in 4 units from 4 files" in unitgate(["check", a, b, qa, qb], root).out


def test_an_odd_file_is_a_finding_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {".unitgate.toml": POLICY, "u/x.service": UNIT, "u/ok.service": HARDENED})
    (root / "u/x.service.d/d.conf").mkdir(parents=True)  # a directory: systemd skips it
    (root / "u/x.service.d/gone.conf").symlink_to("missing.conf")  # dangling
    write(root, {"u/x.service.d/50-harden.conf": HARDENING})
    run = unitgate(["check", "--format", "json", "u/x.service", "u/ok.service"], root)
    assert run.code == 1, run.err
    found = _findings(run.out)
    # The dangling symlink is a finding for that file; the directory named d.conf is skipped, as
    # systemd skips it. Neither stops the run.
    assert ("u/x.service.d/gone.conf", "UG308") in found
    # The hardening drop-in next to the odd entries still applies: no UG101 for x.service.
    assert not any(rule == "UG101" for _, rule in found)
    assert [u["unit"] for u in json.loads(run.out)["units"]] == ["x.service", "ok.service"]


def test_a_missing_path_is_exit_2_with_every_finding_printed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {".unitgate.toml": POLICY, "a.service": UNIT})
    run = unitgate(["check", "a.service", "nope.service"], root)
    assert run.code == 2
    assert "a.service:4:1: UG101" in run.out
    assert run.err == "unitgate: error: nope.service: no such file\n"


def _layout(root: Path) -> None:
    write(
        root,
        {
            ".unitgate.toml": POLICY + "[container]\nmax-exposure = 1.0\n",
            "etc/systemd/system/web.service": HARDENED,
            "etc/systemd/system/web.service.d/10-weak.conf": "[Service]\nProtectSystem=no\n",
            "etc/systemd/system/db.service": UNIT,
            "containers/app.container": CONTAINER,
            "docs/notes.txt": "x\n",
            "build/stale.service": UNIT,
        },
    )


def test_check_dir_and_bare_check_find_everything(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    _layout(root)
    whole = unitgate(["check", "--format", "json"], root)
    units = {u["unit"] for u in json.loads(whole.out)["units"]}
    assert units == {"web.service", "db.service", "app.container", "stale.service"}
    assert ("etc/systemd/system/web.service.d/10-weak.conf", "UG102") in _findings(whole.out)
    one = unitgate(["check", "--format", "json", "etc"], root)
    assert {u["unit"] for u in json.loads(one.out)["units"]} == {"web.service", "db.service"}


def test_bare_check_in_git_honours_gitignore_and_sees_staged_files(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    _layout(root)
    write(root, {".gitignore": "build/\n"})
    git(root, "add", ".unitgate.toml", "etc", ".gitignore")
    git(root, "commit", "-qm", "init")
    git(root, "add", "containers/app.container")  # staged, not committed
    run = unitgate(["check", "--format", "json"], root)
    units = {u["unit"] for u in json.loads(run.out)["units"]}
    assert units == {"web.service", "db.service", "app.container"}  # build/ is ignored
    text = unitgate(["check"], root).out
    assert "in 3 units from 4 files" in text


def test_files_from_a_file_and_stdin(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    _layout(root)
    (root / "list.txt").write_text("etc/systemd/system/db.service\ncontainers/app.container\n")
    run = unitgate(["check", "--format", "json", "--files-from", "list.txt"], root)
    assert {u["unit"] for u in json.loads(run.out)["units"]} == {"db.service", "app.container"}
    zero = b"etc/systemd/system/db.service\0etc/systemd/system/web.service\0"
    run = unitgate(["check", "--format", "json", "--files-from", "-"], root, stdin=zero)
    assert {u["unit"] for u in json.loads(run.out)["units"]} == {"db.service", "web.service"}


def test_diff_base_catches_a_deleted_dropin(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    write(
        root,
        {
            ".unitgate.toml": POLICY,
            "units/demo.service": UNIT,
            "units/demo.service.d/hardening.conf": HARDENING,
            "units/other.service": HARDENED,
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "hardened")
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "rm", "-q", "units/demo.service.d/hardening.conf")
    git(root, "commit", "-qm", "drop the hardening")
    run = unitgate(["check", "--format", "json", "--diff-base", base], root)
    assert run.code == 1
    assert {u["unit"] for u in json.loads(run.out)["units"]} == {"demo.service"}
    assert ("units/demo.service", "UG101") in _findings(run.out)
    clean = unitgate(["check", "--diff-base", "HEAD"], root)
    assert (clean.code, clean.err) == (0, "unitgate: no files to check\n")


def test_diff_base_sees_new_files_git_ignore_does_not_exclude(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    write(root, {".unitgate.toml": POLICY, "units/other.service": HARDENED, ".gitignore": "scratch/\n"})
    git(root, "add", "-A")
    git(root, "commit", "-qm", "hardened")
    write(root, {"units/new.service": UNIT, "scratch/old.service": UNIT})  # neither added to git
    run = unitgate(["check", "--format", "json", "--diff-base", "HEAD"], root)
    assert run.code == 1
    assert {u["path"] for u in json.loads(run.out)["units"]} == {"units/new.service"}


def test_staged_policy_change_rechecks_what_it_governs(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    write(
        root,
        {
            ".unitgate.toml": "policy-version = 1\nmax-exposure = 10\n",
            "units/a.service": UNIT,
            "sub/.unitgate.toml": "policy-version = 1\nmax-exposure = 10\n",
            "sub/b.service": UNIT,
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "loose")
    write(root, {".unitgate.toml": POLICY})  # tightened: a.service no longer passes
    git(root, "add", ".unitgate.toml")
    run = unitgate(["check", "--format", "json", "--staged"], root)
    assert run.code == 1
    # sub/ has a policy of its own, which did not change.
    assert {u["path"] for u in json.loads(run.out)["units"]} == {"units/a.service"}


def test_renamed_dropin_rechecks_the_unit_it_left(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    write(
        root,
        {
            ".unitgate.toml": POLICY,
            "u/a.service": UNIT,
            "u/a.service.d/h.conf": HARDENING,
            "u/b.service": UNIT,
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    (root / "u/b.service.d").mkdir()
    git(root, "mv", "u/a.service.d/h.conf", "u/b.service.d/h.conf")
    run = unitgate(["check", "--format", "json", "--staged"], root)
    assert {u["unit"] for u in json.loads(run.out)["units"]} == {"a.service", "b.service"}
    assert ("u/a.service", "UG101") in _findings(run.out)


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_paths_are_repository_relative_from_a_subdirectory(tmp_path: Path, fmt: str) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, {".unitgate.toml": POLICY, "deploy/units/a.service": UNIT})
    run = unitgate(["check", "--format", fmt, "units/a.service"], root / "deploy")
    assert run.code == 1
    if fmt == "github":
        assert run.out.startswith("::error file=deploy/units/a.service,line=4,")
    else:
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(run.out)["runs"][0]["results"]
        }
        assert uris == {"deploy/units/a.service"}
    text = unitgate(["check", "units/a.service"], root / "deploy")
    assert text.out.startswith("units/a.service:4:1:")  # text keeps the path as given


def _pre_commit() -> str:
    found = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    if shutil.which("git") is None or not Path(found).exists():
        pytest.skip("needs git and pre-commit")
    return found


@pytest.mark.slow
def test_pre_commit_blocks_a_deleted_dropin(tmp_path: Path) -> None:
    """`git rm foo.service.d/hardening.conf` used to commit cleanly (pre-commit passes no file)."""
    pre_commit = _pre_commit()
    work = git_repo(tmp_path / "work")
    write(
        work,
        {
            ".unitgate.toml": POLICY,
            "units/demo.service": UNIT,
            "units/demo.service.d/hardening.conf": HARDENING,
        },
    )
    git(work, "add", "-A")
    git(work, "commit", "-qm", "hardened")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "UNITGATE_CACHE_DIR": ""}
    env.pop("GITHUB_ACTIONS", None)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "try-repo", str(ROOT), "unitgate", "--color", "never"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    git(work, "rm", "-q", "units/demo.service.d/hardening.conf")
    blocked = try_repo()
    if blocked.returncode != 1 and "Could not find a version" in blocked.stdout + blocked.stderr:
        pytest.skip("pre-commit could not install the hook's dependencies (no package index)")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "units/demo.service:4:1: UG101 demo.service: 2 directives the policy requires are not set" in (
        blocked.stdout
    )
    git(work, "reset", "-q", "HEAD", "--", "units/demo.service.d/hardening.conf")
    git(work, "checkout", "--", "units/demo.service.d/hardening.conf")
    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_bare_check_from_a_subdirectory_checks_the_whole_repository(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    _layout(root)
    (root / "docs").mkdir(exist_ok=True)
    run = unitgate(["check", "--format", "json"], root / "docs")
    units = {u["unit"] for u in json.loads(run.out)["units"]}
    assert units == {"web.service", "db.service", "app.container", "stale.service"}


def test_explain_files_from_is_one_json_document(tmp_path: Path) -> None:
    names = [f"u{i}.service" for i in range(300)]
    write(tmp_path, dict.fromkeys(names, UNIT))
    listing = "\0".join(names).encode()
    run = unitgate(["explain", "--format", "json", "--files-from", "-"], tmp_path, stdin=listing)
    assert [u["unit"] for u in json.loads(run.out)] == names
