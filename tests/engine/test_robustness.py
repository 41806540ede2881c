"""No input crashes unitgate: random damage to units and drop-ins always yields a result."""

from __future__ import annotations

import random
from pathlib import Path

from unitgate.analysis import LoadState
from unitgate.engine import analyze_paths
from unitgate.explain import render_json, render_text
from unitgate.security.keys import KEYS

SAMPLE = (
    b"[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\nUser=nobody\nPrivateTmp=yes\n"
    b"SystemCallFilter=@system-service\nCapabilityBoundingSet=~CAP_SYS_ADMIN\nIPAddressDeny=any\n"
)
NOISE = [
    b"\0",
    b"\r",
    b"\n",
    b"\\",
    b"\\\n",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3(",
    b"[",
    b"]",
    b"=",
    b"~",
    b"%",
    b"%i",
    b'"',
    b"'",
    b" ",
    b"\t",
    b";",
    b"#",
    b"@",
    b":",
    b"-",
    b"\xe2\x82\xac",
]
SERVICE_KEYS = sorted(k.split(".", 1)[1] for k in KEYS if k.startswith("Service."))
UNIT_KEYS = sorted(k.split(".", 1)[1] for k in KEYS if k.startswith("Unit."))
VALUES = [
    "",
    "yes",
    "no",
    "~",
    "maybe",
    "0",
    "-1",
    "%z",
    "a:b",
    "/x",
    "rel",
    "@",
    "~@mount:EPERM",
    "AF_UNIX",
    "none",
    "cap_sys_admin",
    "0777",
    "x" * 300,
    "a b c",
    '"quoted',
    "\\x41",
]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        pos = rng.randint(0, len(out))
        if rng.random() < 0.5:
            out[pos:pos] = rng.choice(NOISE)
        else:
            line = f"{rng.choice(SERVICE_KEYS)}={rng.choice(VALUES)}\n".encode()
            out[pos:pos] = line
    return bytes(out)


def test_random_damage_never_crashes(tmp_path: Path) -> None:
    rng = random.Random(2520)
    for i in range(300):
        root = tmp_path / f"case{i}" / "etc/systemd/system"
        (root / "svc.service.d").mkdir(parents=True)
        unit = root / "svc.service"
        unit.write_bytes(_mutate(rng, SAMPLE))
        dropin = root / "svc.service.d" / "10-x.conf"
        dropin.write_bytes(_mutate(rng, b"[Service]\nNoNewPrivileges=yes\n"))
        for path in (unit, dropin):
            [result] = analyze_paths([str(path)])
            render_json([result])
            render_text([result])
            assert result.state in LoadState
            assert (result.exposure is None) == (result.state is not LoadState.LOADED)
            for d in result.diagnostics:
                assert d.location.path and d.location.line >= 0 and d.message


# Python refuses int() of a decimal string of more than 4,300 digits; systemd's parsers read such a
# number as out of range. Every directive, every shape a number takes in a value.
DIGITS = "1" * 5000
LONG_NUMBERS = [
    DIGITS,
    "+0" + DIGITS,
    "-" + DIGITS,
    "0x" + DIGITS,
    DIGITS + "%",
    "0." + DIGITS + "%",
    DIGITS + ":" + DIGITS,
    DIGITS + "K",
    "10.0.0.0/" + DIGITS,
    "::/" + DIGITS,
    "/dev/null " + DIGITS,
    "cap_" + DIGITS,
    "~" + DIGITS,
]


def test_numbers_of_any_length_never_crash(tmp_path: Path) -> None:
    for i, value in enumerate(LONG_NUMBERS):
        unit = tmp_path / f"case{i}" / "etc/systemd/system" / "svc.service"
        unit.parent.mkdir(parents=True)
        lines = [f"{key}={value}" for key in UNIT_KEYS] + ["[Service]", "ExecStart=/bin/true"]
        lines += [f"{key}={value}" for key in SERVICE_KEYS if key != "ExecStart"]
        unit.write_text("[Unit]\n" + "\n".join(lines) + "\n", encoding="utf-8")
        [result] = analyze_paths([str(unit)])
        render_json([result])
        assert result.state in LoadState


def test_quadlet_numbers_of_any_length_never_crash(tmp_path: Path) -> None:
    from unitgate.quadlet.keys import CONTAINER_KEYS

    for i, value in enumerate(LONG_NUMBERS):
        container = tmp_path / f"case{i}" / "app.container"
        container.parent.mkdir(parents=True)
        lines = [f"{key}={value}" for key in sorted(CONTAINER_KEYS) if key != "Image"]
        container.write_text("[Container]\nImage=nginx\n" + "\n".join(lines) + "\n", encoding="utf-8")
        for result in analyze_paths([str(container)]):
            render_json([result])
            assert result.state in LoadState
