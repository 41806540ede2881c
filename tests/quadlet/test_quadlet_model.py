"""The quadlet package's layering and the frozen `quadlet-1` weight table."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from unitgate.quadlet import score

PKG = Path(score.__file__).parent

# Lowest first: a module may import only modules before it (no import circles, one direction).
LAYERS = (
    "parser",
    "keys",
    "releases",
    "specifiers",
    "dropins",
    "cmdline",
    "generate",
    "posture",
    "score",
    "engine",
)

# sha256 of "json_field|NAME|weight|range" rows of quadlet-1, one per line. A changed weight is a new
# model version, never an edit of this one (a policy pinned to quadlet-1 keeps its verdicts).
QUADLET_1_TABLE_SHA256 = "6e25b646bbeb86bc177605de4ef94d600a15bb88a7c6d9b5fdcfdafa9d66cc45"


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("unitgate.quadlet"):
            out.add(node.module.removeprefix("unitgate.quadlet").lstrip("."))
        elif isinstance(node, ast.Import):
            out.update(
                a.name.removeprefix("unitgate.quadlet.")
                for a in node.names
                if a.name.startswith("unitgate.quadlet.")
            )
    return out


def test_modules_import_only_lower_layers() -> None:
    present = {p.stem for p in PKG.glob("*.py")} - {"__init__"}
    assert present <= set(LAYERS), present - set(LAYERS)
    for i, name in enumerate(LAYERS):
        path = PKG / f"{name}.py"
        if not path.exists():
            continue
        allowed = set(LAYERS[:i])
        assert _imports(path) <= allowed, (name, _imports(path) - allowed)


def table_sha256(checks: tuple[score.Check, ...]) -> str:
    rows = "\n".join(f"{c.json_field}|{c.name}|{c.weight}|{c.range}" for c in checks)
    return hashlib.sha256(rows.encode()).hexdigest()


def test_quadlet_1_weights_are_frozen() -> None:
    assert table_sha256(score.CHECKS) == QUADLET_1_TABLE_SHA256


def test_doubling_any_weight_is_caught() -> None:
    from dataclasses import replace

    for i, c in enumerate(score.CHECKS):
        doubled = (*score.CHECKS[:i], replace(c, weight=2 * c.weight), *score.CHECKS[i + 1 :])
        assert table_sha256(doubled) != QUADLET_1_TABLE_SHA256, c.json_field
