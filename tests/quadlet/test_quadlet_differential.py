"""A few hundred random `.container` files with drop-ins per podman release, against that release's
quadlet binary (skipped when its path is not set). Thousands: `python tests/quadlet/differential.py`."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BINARY_ENV = {"5.4": "UNITGATE_QUADLET", "5.8": "UNITGATE_QUADLET_58"}


def _differential():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "ug_quadlet_differential", Path(__file__).with_name("differential.py")
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("podman", sorted(BINARY_ENV))
def test_random_containers_agree_with_the_binary(podman: str) -> None:
    binary = os.environ.get(BINARY_ENV[podman])
    if not binary:
        pytest.skip(f"{BINARY_ENV[podman]} (quadlet binary of podman {podman}) not set")
    res, problems = _differential().run(binary, podman, 200, seed=7)
    assert res.cases == 200 and res.accepted > 40, res  # the generator must produce accepted units
    assert res.accept_agree == res.cases, problems
    assert res.argv_agree == res.argv_compared, problems
