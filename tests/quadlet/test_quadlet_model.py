"""The quadlet package's layering and the frozen `quadlet-1` weight table."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from unitgate.quadlet import score

PKG = Path(score.__file__).parent

# Lowest first: a module may import only modules before it (no import circles, one direction).
LAYERS = (
    "words",
    "parser",
    "keys",
    "releases",
    "specifiers",
    "dropins",
    "cmdline",
    "gen_text",
    "gen_service",
    "gen_shared",
    "generate",
    "posture_types",
    "run_args",
    "posture",
    "score_rules",
    "score_table1",
    "score_table2",
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


# The reviewer's ranking (docs/quadlet.md, "Ranking"), worst first: (name, [Container] lines, quadlet-1
# exposure, quadlet-2 exposure). quadlet-1's column pins that model's results (byte-identical); the
# quadlet-2 column must be non-increasing down the list.
RANKING: tuple[tuple[str, str, int, int], ...] = (
    ("privileged", "PodmanArgs=--privileged", 100, 100),
    ("runtime socket", "Volume=/run/podman/podman.sock:/var/run/docker.sock", 100, 100),
    ("host / read-write", "Volume=/:/host", 100, 100),
    ("SYS_ADMIN + label=disable", "AddCapability=SYS_ADMIN\nSecurityLabelDisable=true", 44, 95),
    ("block device", "AddDevice=/dev/sda", 38, 95),
    ("--pid=host + / read-only", "PodmanArgs=--pid=host\nVolume=/:/host:ro", 47, 90),
    ("/var/run read-write", "Volume=/var/run:/host-run", 45, 90),
    ("SYS_ADMIN", "AddCapability=SYS_ADMIN", 41, 85),
    ("--pid=host", "PodmanArgs=--pid=host", 41, 80),
    ("Network=host as root", "Network=host", 41, 75),
    ("/etc read-only", "Volume=/etc:/host-etc:ro", 40, 55),
    ("seccomp off", "SeccompProfile=unconfined", 41, 55),
    ("user namespace + SYS_ADMIN", "UserNS=auto\nUser=1000\nAddCapability=SYS_ADMIN", 21, 40),
    (
        "user namespace + Network=host, hardened",
        "Network=host\nUserNS=auto\nUser=1000\nDropCapability=all\nNoNewPrivileges=true\nReadOnly=true",
        6,
        40,
    ),
    ("default rootful container", "", 35, 35),
    ("hardened", "UserNS=auto\nUser=1000\nDropCapability=all\nNoNewPrivileges=true\nReadOnly=true", 0, 0),
)


def _exposures(tmp_path: Path, lines: str) -> tuple[int, int]:
    from unitgate.quadlet import inspect_container

    p = tmp_path / "ranked.container"
    p.write_text(f"[Container]\nImage=quay.io/example/app:1\n{lines}\n")
    q1 = inspect_container(str(p)).analysis
    q2 = inspect_container(str(p), model="quadlet-2").analysis
    assert q1.model == "quadlet-1" and q2.model == "quadlet-2"
    assert q1.exposure is not None and q2.exposure is not None
    return q1.exposure, q2.exposure


def test_quadlet_2_ranks_as_a_reviewer_would(tmp_path: Path) -> None:
    got = [(name, *_exposures(tmp_path, lines)) for name, lines, _, _ in RANKING]
    assert [(n, q1, q2) for n, _, q1, q2 in RANKING] == got
    q2s = [q2 for _, _, q2 in got]
    assert q2s == sorted(q2s, reverse=True)
    default = {n: q2 for n, _, q2 in got}["default rootful container"]
    for decisive in ("SYS_ADMIN + label=disable", "--pid=host + / read-only", "Network=host as root"):
        assert {n: q2 for n, _, q2 in got}[decisive] >= default + 30, decisive


def test_quadlet_2_keeps_quadlet_1_rows_and_adds_the_breakout_row() -> None:
    assert score.CHECKS_2[:-1] == score.CHECKS
    assert score.CHECKS_2[-1].json_field == "BreakoutPath" and score.CHECKS_2[-1].weight == 0
