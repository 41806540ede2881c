"""Fixtures of the security suite (helpers live in sechelp.py: a conftest is no importable module)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sechelp import make_host, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def host(tmp_path: Path) -> Path:
    return make_host(tmp_path)
