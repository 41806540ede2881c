"""The parsed-policy cache (policy_cache.py) only saves work: it never changes what a policy means."""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unitgate import policy_cache
from unitgate.policy import PolicyError, load_file

POLICY = 'policy-version = 1\nextends = "baseline@1"\nmax-exposure = 7.5\n'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "work" / ".git").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("UNITGATE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "policy-data"


def _no_parsers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("tomllib", "tomli", "jsonschema"):
        monkeypatch.setitem(sys.modules, name, None)


def _entry(cache: Path) -> Path:
    (entry,) = [p for p in cache.iterdir() if p.name.startswith("policy-")]
    return entry


def test_a_warm_load_needs_neither_toml_nor_jsonschema(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path("p.toml")
    path.write_text(POLICY)
    cold = load_file(path)
    _no_parsers(monkeypatch)
    warm = load_file(path)
    assert warm == cold and warm.max_exposure == 75
    path.write_text(POLICY + "\n")  # one byte more: parsed again
    with pytest.raises(ImportError):
        load_file(path)


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_an_entry_others_can_write_is_ignored(
    cache: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    path = Path("p.toml")
    path.write_text(POLICY)
    load_file(path)
    os.chmod(_entry(cache), mode)
    _no_parsers(monkeypatch)
    with pytest.raises(ImportError):
        load_file(path)  # not trusted: parsed again (here: the parser is "missing")


def test_a_symlinked_entry_is_ignored(cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = Path("p.toml")
    path.write_text(POLICY)
    load_file(path)
    entry = _entry(cache)
    moved = tmp_path / "elsewhere.json"
    entry.rename(moved)
    entry.symlink_to(moved)
    _no_parsers(monkeypatch)
    with pytest.raises(ImportError):
        load_file(path)


def _loaded_then_rewritten(cache: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Path:
    """p.toml loaded once (its entry written), then the entry replaced by `change(entry)`."""
    path = Path("p.toml")
    path.write_text(POLICY)
    load_file(path)
    entry = _entry(cache)
    entry.write_bytes(marshal.dumps(change(marshal.loads(entry.read_bytes()))))
    return path


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e.update(data={"policy-version": 1, "max-exposure": 1.0}) or e,  # other bytes' data...
        lambda e: e.update(stamp="another unitgate") or e,
        lambda e: e.update(kind="pyproject") or e,
        lambda e: e.update(bytes=e["bytes"] + b" ") or e,
    ],
)
def test_an_entry_for_other_bytes_or_version_is_not_used(cache: Path, edit: object) -> None:
    path = _loaded_then_rewritten(cache, edit)  # type: ignore[arg-type]
    changed = marshal.loads(_entry(cache).read_bytes())
    got = load_file(path)
    if (
        changed["bytes"] == POLICY.encode()
        and changed["stamp"] == policy_cache._stamp()
        and changed["kind"] == "policy"
    ):
        # Same bytes, same unitgate: an entry this user wrote is this user's business, and it can still
        # only hold data that passes the structure and semantic checks.
        assert got.max_exposure in (75, 10)
    else:
        assert got.max_exposure == 75


def test_a_corrupt_entry_is_ignored(cache: Path) -> None:
    path = Path("p.toml")
    path.write_text(POLICY)
    load_file(path)
    _entry(cache).write_bytes(b"\x00{not json")
    assert load_file(path).max_exposure == 75


@pytest.mark.parametrize(
    "data",
    [
        compile("raise SystemExit(7)", "x", "exec"),  # marshal can hold code: never run, never accepted
        {"policy-version": 1, "max-exposure": b"1"},
        {"policy-version": 1, "max-exposure": (1,)},
        {1: "not a key"},
        ["not", "a", "table"],
    ],
)
def test_an_entry_of_anything_but_plain_data_is_ignored(cache: Path, data: object) -> None:
    path = _loaded_then_rewritten(cache, lambda entry: {**entry, "data": data})
    assert load_file(path).max_exposure == 75


def test_an_entry_cannot_make_a_bad_policy_load(cache: Path) -> None:
    bad = {"policy-version": 1, "max-exposure": "lots", "extends": "../../etc/passwd"}
    path = _loaded_then_rewritten(cache, lambda entry: {**entry, "data": bad})
    with pytest.raises(PolicyError):
        load_file(path)  # the structure is checked on every load, cached or not


def test_no_cache_when_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNITGATE_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    Path("p.toml").write_text(POLICY)
    load_file(Path("p.toml"))
    assert not list(tmp_path.rglob("policy-data"))
