"""The differential generator itself: reproducible and varied (runs without systemd-analyze)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from .generator import generate


def test_same_seed_and_index_give_the_same_case() -> None:
    for i in range(50):
        a, b = generate(7, i), generate(7, i)
        assert (a.unit_file, a.files, a.links) == (b.unit_file, b.files, b.links)


def test_cases_cover_the_interesting_shapes(tmp_path: Path) -> None:
    seen: Counter[str] = Counter()
    for i in range(400):
        case = generate(3, i)
        assert case.unit_file in case.files
        blob = b"\n".join(case.files.values())
        seen[case.unit_name] += 1
        for label, needle in (
            ("continuation", b"\\\n"),
            ("crlf", b"\r\n"),
            ("reset", b"=\n"),
            ("tilde", b"=~"),
            ("type dropin", b"service.d/"),
        ):
            if needle in blob or needle in "\n".join(case.files).encode():
                seen[label] += 1
        if any("/foo-.service.d/" in p or "/foo-bar-.service.d/" in p for p in case.files):
            seen["prefix dropin"] += 1
        if case.links:
            seen["masked dropin"] += 1
        if case.note.startswith("refusal"):
            seen["refusal"] += 1
    for shape in ("foo.service", "foo-bar-baz.service", "foo@.service", "continuation", "crlf", "reset"):
        assert seen[shape] > 0, shape
    for shape in ("tilde", "type dropin", "prefix dropin", "masked dropin", "refusal"):
        assert seen[shape] > 0, shape
    assert seen["refusal"] < 40  # about 5%
    generate(3, 0).write(tmp_path)
    assert any(tmp_path.rglob("*.service"))


def test_merged_usr_layout_for_newer_releases(tmp_path: Path) -> None:
    """255+ read lib/ through usr/lib/: the harness lays cases out that way (lib/'s copy wins)."""
    from .harness import merge_usr

    (tmp_path / "lib/systemd/system").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/system").mkdir(parents=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    (tmp_path / "lib/systemd/system/a.service").write_text("lib")
    (tmp_path / "usr/lib/systemd/system/a.service").write_text("usr")
    (tmp_path / "etc/systemd/system/b.service").symlink_to("/lib/systemd/system/a.service")
    merge_usr(tmp_path)
    assert not (tmp_path / "lib").exists()
    assert (tmp_path / "usr/lib/systemd/system/a.service").read_text() == "lib"
    assert os.readlink(tmp_path / "etc/systemd/system/b.service") == "/usr/lib/systemd/system/a.service"
