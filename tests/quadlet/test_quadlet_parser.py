"""Quadlet's parser and lookups, and a differential run against the quadlet binary when present."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from unitgate.model import Location
from unitgate.quadlet.dropins import dropin_dir_names
from unitgate.quadlet.engine import inspect_container
from unitgate.quadlet.parser import (
    EXEC_FLAGS,
    STRV_FLAGS,
    QuadletParseError,
    SplitError,
    lookup,
    lookup_all,
    lookup_all_key_val,
    lookup_all_strv,
    lookup_boolean,
    parse_text,
    split_words,
)


def test_continuation_joins_without_space_and_skips_comments() -> None:
    u = parse_text("[Container]\nExec=a\\\n# c\n\n   b \\ \nc\n", "f.container")
    (a,) = u.lines("Container")
    # `   b \\ ` is trimmed to `b \\`: the space before the backslash stays, leading ones go
    assert a.value == "ab c" and a.location == Location("f.container", 2)


def test_open_continuation_at_eof_is_dropped() -> None:
    u = parse_text("[Container]\nImage=x\nExec=true \\\n\n# tail\n", "f")
    assert [a.key for a in u.lines("Container")] == ["Image"]


@pytest.mark.parametrize(
    ("text", "line", "msg"),
    [
        ("Image=x\n[Container]\n", 1, "key file does not start with a group"),
        ("[Container]\nfoo\n", 2, "which is not a key-value pair"),
        ("[Container]\n[A]]\n", 2, "which is not a key-value pair"),
        ("[Container]\n[]\n", 2, "invalid group name"),
        ("[Container]\n=x\n", 2, "which is not a key-value pair"),
    ],
)
def test_rejected_lines(text: str, line: int, msg: str) -> None:
    with pytest.raises(QuadletParseError) as e:
        parse_text(text, "f")
    assert e.value.line == line and msg in e.value.message


def test_semicolon_is_a_comment_and_groups_merge() -> None:
    u = parse_text("[Container]\n; x\nImage=a\n[Service]\nRestart=always\n[Container]\nUser=1\n", "f")
    assert [a.key for a in u.lines("Container")] == ["Image", "User"]
    assert u.headers[("f", "Container")] == 1


def test_lookup_trims_all_quotes_and_booleans_are_lenient() -> None:
    u = parse_text('[Container]\nImage="a"b""  \nReadOnly=y\nNoNewPrivileges=ON\n', "f")
    got = lookup(u, "Container", "Image")
    assert got is not None and got.value == 'a"b'  # 5.4.2: strings.Trim, not one matched pair
    assert lookup_boolean(u, "Container", "ReadOnly") is not None
    assert lookup_boolean(u, "Container", "ReadOnly")[0] is False  # type: ignore[index]
    assert lookup_boolean(u, "Container", "NoNewPrivileges")[0] is True  # type: ignore[index]


def test_lists_reset_on_empty_and_split() -> None:
    u = parse_text("[Container]\nAddCapability=A B\nAddCapability=\nAddCapability=C 'D E'\n", "f")
    assert [a.value for a in lookup_all(u, "Container", "AddCapability")] == ["C 'D E'"]
    words = lookup_all_strv(u, "Container", "AddCapability")
    assert [w.value for w in words] == ["C", "D E"] and words[0].location == Location("f", 4)


def test_keyval_later_wins() -> None:
    u = parse_text('[Container]\nEnvironment=A=1 "B=2 3"\nEnvironment=A=4 C\n', "f")
    assert {k: v.value for k, v in lookup_all_key_val(u, "Container", "Environment").items()} == {
        "A": "4",
        "B": "2 3",
    }


def test_exec_split_unescapes_and_stops_at_empty_word() -> None:
    assert split_words(r'a "b c" \x41\t \110i', EXEC_FLAGS) == ["a", "b c", "A\t", "Hi"]
    assert split_words('a "" b', EXEC_FLAGS) == ["a"]
    assert split_words(r"a\b c", STRV_FLAGS) == ["a\\b", "c"]
    with pytest.raises(SplitError):  # LookupAllStrv then drops the whole value
        split_words("a 'c", STRV_FLAGS)


def test_dropin_directory_order() -> None:
    assert dropin_dir_names("foo-bar@inst.container") == (
        "foo-bar@inst.container.d",
        "foo-bar@.container.d",
        "foo-@.container.d",
        "foo-.container.d",
        "container.d",
    )
    assert dropin_dir_names("a-b-c.container") == (
        "a-b-c.container.d",
        "a-b-.container.d",
        "a-.container.d",
        "container.d",
    )


# -- differential against the binary (skipped without it) ------------------------------------

SNIPPETS = {
    "cont-space": "[Container]\nImage=r.io/a:1\nPodmanArgs=--cap-add \\  \n  sys_admin\n",
    "cont-last-line": "[Container]\nImage=r.io/a:1\nExec=true \\",
    "double-backslash": "[Container]\nImage=r.io/a:1\nExec=a\\\\\nb\n",
    "quotes-trim": '[Container]\nImage=""r.io/a:1"\nUser="0\n',
    "bad-escape": "[Container]\nImage=r.io/a:1\nPodmanArgs=--x \\q --y\nPodmanArgs=--z\n",
    "strv-escape": '[Container]\nImage=r.io/a:1\nAddCapability=a\\ b "c d"\nSysctl=\'net.x=1\n',
    "crlf": "[Container]\r\nImage=r.io/a:1\r\nUser=1\r\n",
    "tab-group": "[Container]\t \nImage=r.io/a:1\n",
    "inner-space-key": "[Container]\nImage=r.io/a:1\n[X]\nSome Key = v\n",
    "empty-image": "[Container]\nImage=r.io/a:1\nImage=\n",
    "rootfs-both": "[Container]\nImage=r.io/a:1\nRootfs=/srv/root\n",
    "notify-healthy": "[Container]\nImage=r.io/a:1\nNotify=healthy\n[Service]\nType=oneshot\n",
    "remap": "[Container]\nImage=r.io/a:1\nRemapUsers=auto\nRemapUid=0:1000:10\nRemapUidSize=0x10\n",
    "mount-bad": '[Container]\nImage=r.io/a:1\nMount=type=bind,src=/a,dst="/b\n',
    "quadlet-group": "[Container]\nImage=r.io/a:1\n[Quadlet]\nDefaultDependencies=no\nOther=1\n",
    "expose": "[Container]\nImage=r.io/a:1\nExposeHostPort=abc\n",
    "volatile": "[Container]\nImage=r.io/a:1\nVolatileTmp=true\nReadOnly=false\nUser=1\nGroup=2\n",
}


@pytest.mark.skipif(not os.environ.get("UNITGATE_QUADLET"), reason="UNITGATE_QUADLET not set")
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_differential_against_binary(name: str, tmp_path: Path) -> None:
    f = tmp_path / f"{name}.container"
    f.write_bytes(SNIPPETS[name].encode())
    env = {"PATH": os.environ.get("PATH", ""), "QUADLET_UNIT_DIRS": str(tmp_path)}
    r = subprocess.run(
        [os.environ["UNITGATE_QUADLET"], "-dryrun"], env=env, capture_output=True, text=True, check=False
    )
    m = re.search(r"^ExecStart=(.*)$", r.stdout, re.M)
    ins = inspect_container(str(f))
    conv = ins.conversion
    ours_ok = conv is not None and conv.error is None and ins.analysis.state.value == "loaded"
    assert ours_ok == (m is not None), (r.stderr, [str(d) for d in ins.analysis.diagnostics])
    if m is not None and conv is not None:
        assert Counter(split_words(m.group(1), EXEC_FLAGS)) == Counter(a.text for a in conv.argv)
    else:
        reason = r.stderr.strip().splitlines()[-1].split(": ", 1)[-1]
        assert any(reason.split(": ")[-1] in d.message for d in ins.analysis.diagnostics), reason
