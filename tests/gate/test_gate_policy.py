# ruff: noqa: E501  (expected messages are compared whole)
"""Policy files: built-ins, the schema, discovery, extends/overrides, and the validation cache."""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import write_tree

from unitgate import policy, policy_check
from unitgate.policy import PolicyError, load_builtin, load_file
from unitgate.policy_find import Finder
from unitgate.security.checks import CHECKS

# A released built-in never changes: a change is a new file (strict@2). Add a line here for a new one;
# never edit an existing line.
FROZEN = {
    "baseline@1": "86d60b395134bf967f410b469187445fed1f4e43e134370f6e49b2640cf2e382",
    "strict@1": "2f53309ce7b65eb225008cb5e9132e935cb916f5899c4e5648c81a92332d61be",
    "baseline@2": "5f593ae6c9e51bd8d098bb5eefc8aeb33d6097dafe1fc2f4d2610ec08d19f855",
    "strict@2": "129a4a185a28ad07abc6d1c2879ccbc4b98a8e60b49d74b649f816be4d1330e0",
}


def schema() -> dict[str, object]:
    text = (
        resources.files("unitgate.policies.schema").joinpath(policy.SCHEMA_FILE).read_text(encoding="utf-8")
    )
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("name", policy.builtin_names())
def test_builtin_is_valid_and_frozen(name: str) -> None:
    raw = resources.files("unitgate.policies").joinpath(f"{name}.toml").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == FROZEN[name], (
        f"{name} is released: add {name.split('@')[0]}@N+1"
    )
    data = policy.tomllib.loads(raw.decode())
    jsonschema.Draft202012Validator(schema()).validate(data)
    loaded = load_builtin(name)
    assert loaded.max_exposure is not None


def test_builtins_shipped() -> None:
    assert set(policy.builtin_names()) == set(FROZEN)


def test_schema_check_ids_match_the_scoring_table() -> None:
    enum = set(schema()["$defs"]["checks"]["items"]["enum"])  # type: ignore[index]
    fields = {c.json_field for c in CHECKS}
    assert enum == fields | set(policy.CHECK_ALIASES)


def test_builtin_strict_on_a_fully_hardened_unit(tmp_path: Path) -> None:
    from unitgate import gate

    unit = """\
[Service]
ExecStart=/usr/bin/app
User=app
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
"""
    write_tree(tmp_path, {"app.service": unit, "strict.toml": 'policy-version = 1\nextends = "strict@1"\n'})
    result = gate.check([str(tmp_path / "app.service")], policy_file=str(tmp_path / "strict.toml"))
    assert result.findings == ()
    assert [u.exposure for u in result.info.units] == [37]


def test_extends_merges(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'policy-version = 1\nextends = "strict@1"\nmax-exposure = 6.0\nignore = ["UG304"]\n'
        '[require]\nProtectSystem = ["strict", "full"]\n'
        '[[override]]\nunits = ["db@*.service"]\nreason = "legacy"\nmax-exposure = 9.0\nexclude-checks = ["PrivateNetwork"]\n',
        encoding="utf-8",
    )
    loaded = load_file(path)
    assert loaded.extends == ("strict@1",)
    assert loaded.max_exposure == 60
    assert loaded.require["Service.ProtectSystem"] == ("strict", "full")
    assert loaded.require["Service.NoNewPrivileges"] is True
    assert loaded.forbid["Service.User"] == ("root",)
    db = loaded.for_unit("db@i.service")
    assert (db.max_exposure, db.reasons, db.exclude_checks) == (
        90,
        ("legacy",),
        frozenset({"PrivateNetwork"}),
    )
    assert loaded.for_unit("db.service").max_exposure == 60
    assert loaded.for_unit("db@.service").max_exposure == 90  # a template name matches its instances' glob


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'policy-version = 1\nextends = "strict"\n',
            "p.toml: extends: 'strict' must name a built-in policy pinned by version, e.g. strict@1",
        ),
        (
            "policy-version = 1\nmax-exposure = 5.05\n",
            "p.toml: max-exposure: 5.05 has more than one decimal; exposure is scored in steps of 0.1",
        ),
        ('policy-version = 1\nignore = ["UG999"]\n', "p.toml: ignore: unknown rule id 'UG999' (rule ids: "),
        (
            'policy-version = 1\n[forbid]\nCapabilityBoundingSet = ["CAP_SYS_ADMN"]\n',
            "p.toml: forbid.CapabilityBoundingSet: unknown capability 'CAP_SYS_ADMN'",
        ),
        (
            'policy-version = 1\n[require]\nNoNewPrivileges = true\nignore = ["UG101"]\n',
            "p.toml: require: 'ignore' is not a directive name (NoNewPrivileges, or Section.Key) (a key after a [table] header belongs to that table: move ignore above it)",
        ),
        (
            'policy-version = 1\n[[override]]\nunits = ["a.service"]\nreason = " "\n',
            "p.toml: override[0].reason: must not be empty",
        ),
        (
            'policy-version = 1\nscoring = "systemd-999"\n',
            "p.toml: scoring: 'systemd-999' is not one of ['systemd-252', 'systemd-255', 'systemd-257', 'systemd-262']",
        ),
        ('policy-version = "1"\n', "p.toml: policy-version: must be an integer, not '1'"),
    ],
    ids=[
        "unpinned",
        "decimals",
        "rule id",
        "capability",
        "toml table trap",
        "empty reason",
        "scoring",
        "version type",
    ],
)
def test_policy_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_file(tmp_path / "p.toml", display="p.toml")
    assert str(error.value).startswith(message)


def test_pyproject_errors_name_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.unitgate]\npolicy-version = 1\nmax-exposure = -1\n", encoding="utf-8"
    )
    with pytest.raises(
        PolicyError, match=r"^pyproject.toml: tool.unitgate.max-exposure: -1 is less than the minimum of 0$"
    ):
        load_file(tmp_path / "pyproject.toml", display="pyproject.toml")


def test_discovery(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".unitgate.toml": "policy-version = 1\nmax-exposure = 1.0\n",  # outside the repository: never used
            "repo/.git/HEAD": "",
            "repo/pyproject.toml": "[tool.unitgate]\npolicy-version = 1\nmax-exposure = 2.0\n",
            "repo/a/.unitgate.toml": "policy-version = 1\nmax-exposure = 3.0\n",
            "repo/a/b/pyproject.toml": "[project]\nname = 'no unitgate table here'\n",
            "repo/a/b/x.service": "",
            "repo/c/y.service": "",
            "other/z.service": "",
            "other/.git/HEAD": "",
        },
    )
    finder = Finder(cwd=tmp_path)
    assert finder.for_path(str(tmp_path / "repo/a/b/x.service")).max_exposure == 30
    assert finder.for_path(str(tmp_path / "repo/c/y.service")).origin == "repo/pyproject.toml"
    assert finder.for_path(str(tmp_path / "other/z.service")).origin == "built-in default (baseline@2)"


def test_validation_is_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("UNITGATE_CACHE_DIR", str(cache))
    (tmp_path / "p.toml").write_text('policy-version = 1\nextends = "baseline@1"\n', encoding="utf-8")
    load_file(tmp_path / "p.toml")
    assert len(list((cache / "policy-valid").iterdir())) == 1
    # Same content again: jsonschema is not needed (simulate its absence).
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    load_file(tmp_path / "p.toml")
    (tmp_path / "p.toml").write_text('policy-version = 1\nextends = "strict@1"\n', encoding="utf-8")
    with pytest.raises(ImportError):
        load_file(tmp_path / "p.toml")  # new content: validated (here: jsonschema "missing")


def test_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNITGATE_CACHE_DIR", "")
    (tmp_path / "p.toml").write_text("policy-version = 1\n", encoding="utf-8")
    load_file(tmp_path / "p.toml")
    assert policy_check.cache_dir() is None
