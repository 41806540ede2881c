"""The GitHub kit: the job summary table, `--output`, `--exit-zero`, and the composite action."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, Run, write_tree

POLICY = (
    "policy-version = 1\nmax-exposure = 9.5\n"
    '[require]\nNoNewPrivileges = true\nProtectSystem = ["strict", "full"]\n'
)
BARE = "[Service]\nExecStart=/usr/bin/app\n"
GOOD = BARE + "NoNewPrivileges=yes\nProtectSystem=strict\n"


def test_step_summary_table(repo: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    summary = repo / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    write_tree(repo, {".unitgate.toml": POLICY, "a.service": BARE, "b.service": GOOD})
    run = run_cli("check", "a.service", "b.service", cwd=repo)
    assert run.code == 1
    assert run.out.startswith("::error file=a.service,line=1,title=UG101 required-directive-missing::")
    assert summary.read_text(encoding="utf-8") == (
        "earlier step\n"
        "## unitgate\n"
        "\n"
        "Found 2 errors in 2 units from 2 files; policy: .unitgate.toml.\n"
        "\n"
        "| unit | exposure | maximum | findings |\n"
        "|---|---:|---:|---:|\n"
        "| `a.service` | 9.6 | 9.5 | 2 |\n"
        "| `b.service` | 9.2 | 9.5 | 0 |\n"
        "\n"
    )


def test_step_summary_lists_what_did_not_fit(
    repo: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = repo / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    files = {f"u{n:02}.service": BARE for n in range(12)}
    write_tree(repo, {".unitgate.toml": POLICY.replace("9.5", "9.9"), **files})
    run = run_cli("check", "--format", "github", *sorted(files), cwd=repo)
    assert sum(line.startswith("::error file=") for line in run.out.splitlines()) == 9
    text = summary.read_text(encoding="utf-8")
    assert (
        "### Findings not shown as annotations\n\n- `u09.service:1` **UG101** u09.service: 2 directives"
        in text
    )
    assert text.count("\n- `u") == 3


def test_output_file_and_exit_zero(repo: Path, run_cli: Callable[..., Run]) -> None:
    write_tree(repo, {".unitgate.toml": POLICY, "a.service": BARE})
    run = run_cli(
        "check", "--format", "sarif", "--output", "unitgate.sarif", "--exit-zero", "a.service", cwd=repo
    )
    assert (run.code, run.out, run.err) == (0, "", "")
    doc = json.loads((repo / "unitgate.sarif").read_text(encoding="utf-8"))
    assert doc["runs"][0]["results"][0]["ruleId"] == "UG101"
    assert run_cli("check", "a.service", cwd=repo).code == 1
    # --exit-zero never hides an error that stopped the check.
    assert run_cli("check", "--exit-zero", "missing.service", cwd=repo).code == 2
    bad = run_cli("check", "--output", "no/such/dir/out.txt", "a.service", cwd=repo)
    assert bad.code == 2
    assert bad.err.startswith("unitgate: error: no/such/dir/out.txt: cannot write")


def _action_script() -> tuple[dict[str, Any], str]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("name") == "Check units")
    return action, step["run"]


def test_action_installs_this_checkout_and_runs_check() -> None:
    action, script = _action_script()
    assert action["runs"]["using"] == "composite"
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install unitgate")
    assert install["run"].endswith(
        'pip install --quiet --disable-pip-version-check "${{ github.action_path }}"'
    )
    assert set(action["inputs"]) == {"paths", "policy", "sarif", "python-version"}
    assert "unitgate check" in script


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash")
def test_action_script_checks_tracked_units_and_writes_sarif(repo: Path) -> None:
    """The action's shell step, run as the runner would (inputs as environment variables)."""
    _, script = _action_script()
    write_tree(
        repo, {".unitgate.toml": POLICY, "units/a.service": BARE, "units/b.service": GOOD, "x.txt": "x"}
    )
    shutil.rmtree(repo / ".git")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "INPUT_PATHS": "",
        "INPUT_POLICY": "",
        "INPUT_SARIF": "unitgate.sarif",
        "ACTION_REPOSITORY": "example/unitgate",
        "ACTION_REF": "v1",
        "GITHUB_ACTIONS": "true",
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith(
        "::error file=units/a.service,line=1,title=UG101 required-directive-missing::"
    )
    assert "Found 2 errors in 2 units" in done.stdout
    sarif = json.loads((repo / "unitgate.sarif").read_text(encoding="utf-8"))
    rule = sarif["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"] == "https://github.com/example/unitgate/blob/v1/docs/rules/UG101.md"

    env["INPUT_PATHS"] = "units/b.service"
    env["INPUT_SARIF"] = ""
    done = subprocess.run(["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("All checks passed: 1 unit")
