"""Unit names and the drop-in directories searched for them (systemd's dropin.c order)."""

from __future__ import annotations

import pytest

from unitgate.parse import unitname


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("foo.service", "plain"),
        ("foo@.service", "template"),
        ("foo@bar.service", "instance"),
        ("foo@a@b.service", "instance"),
        ("@x.service", None),
        ("foo bar.service", None),
        ("x.conf", None),
        ("x.SERVICE", None),
        ("c" * 248 + ".service", None),
    ],
)
def test_kind(name: str, kind: str | None) -> None:
    assert unitname.kind(name) == kind


@pytest.mark.parametrize(
    ("name", "dirs"),
    [
        (
            "foo-bar@x.service",
            ("foo-bar@x.service", "foo-bar@.service", "foo-.service", "foo-@x.service", "foo-@.service"),
        ),
        ("foo-bar-baz.service", ("foo-bar-baz.service", "foo-bar-.service", "foo-.service")),
        ("a--b.service", ("a--b.service", "a--.service", "a-.service")),
        ("foo-.service", ("foo-.service",)),
        ("-foo.service", ("-foo.service",)),
    ],
)
def test_dropin_dir_order(name: str, dirs: tuple[str, ...]) -> None:
    assert unitname.dropin_dir_names(name) == dirs
