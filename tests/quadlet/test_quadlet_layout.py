"""Where a quadlet file's path puts its filesystem root: read with string methods (a hook run imports no
`re`), exactly as the expressions that say it, on every kind of path the markers can meet."""

from __future__ import annotations

import random
import re

from unitgate.quadlet.dropins import Layout, _all_digits, layout_of

MARKERS = (
    (r"^(?P<root>.*?)/run/user/(?P<uid>[0-9]+)/containers/systemd(/|$)", "runtime"),
    (r"^(?P<root>.*?)/etc/containers/systemd/users/(?P<uid>[0-9]+)(/|$)", "users-uid"),
    (r"^(?P<root>.*?)/etc/containers/systemd/users(/|$)", "users"),
    (r"^(?P<root>.*?)/(run|etc|usr/share)/containers/systemd(/|$)", "rootful"),
    (r"^(?P<home>.*?)/\.config/containers/systemd(/|$)", "config"),
)


def expected(ap: str) -> Layout:
    for source, kind in MARKERS:
        m = re.match(source, ap)
        if not m:
            continue
        if kind == "rootful":
            return Layout(m["root"] or "/", rootless=False)
        if kind == "config":
            home = m["home"]
            hm = re.match(r"^(?P<root>.*?)/(home/[^/]+|root)$", home)
            return Layout(hm["root"] or "/" if hm else None, rootless=True, home=home, sibling_dir=None)
        return Layout(m["root"] or "/", rootless=True, uid=m.groupdict().get("uid"))
    return Layout(None, rootless=False, sibling_dir=ap.rpartition("/")[0] or "/")


NAMES = ["run", "user", "1000", "0", "x1", "containers", "systemd", "etc", "users", "usr", "share"]
NAMES += [".config", "home", "root", "alice", "a\nb", "systemd\n", "", "٣"]
SEQUENCES = [
    "run/user/1000/containers/systemd",
    "etc/containers/systemd/users/1000",
    "etc/containers/systemd/users",
    "etc/containers/systemd",
    "usr/share/containers/systemd",
    "run/containers/systemd",
    "home/alice/.config/containers/systemd",
    "root/.config/containers/systemd",
]


def test_layout_is_what_the_expressions_say() -> None:
    rng = random.Random(7)
    for _ in range(60_000):
        parts: list[str] = []
        for _ in range(rng.randint(1, 4)):
            parts += rng.choice(SEQUENCES).split("/") if rng.random() < 0.4 else [rng.choice(NAMES)]
        ap = "/" + "/".join(parts) + rng.choice(["", "/", "/app.container", "\n", "/x\n"])
        got = layout_of(ap)
        want = expected(ap)
        if want.sibling_dir is not None:  # sibling mode: os.path.dirname, not part of the markers
            assert got.root is None and not got.rootless, repr(ap)
            continue
        assert got == want, repr(ap)


def test_uid_directories_are_ascii_digits() -> None:
    for name in ("", "0", "1000", "x", "1x", "٣", "10 "):
        assert _all_digits(name) == bool(re.fullmatch(r"[0-9]*", name)), name
