"""Checks on the generated systemd/libseccomp tables (security/syscalls.py, security/names.py).

The plain tests assert on the data only and need no systemd.  ``test_oracle_agrees`` feeds
units built from the same data to the real ``systemd-analyze security --offline=true`` and is
skipped where systemd-analyze is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from unitgate.security import names, syscalls
from unitgate.security.syscalls import GROUPS, KNOWN_NON_NATIVE, NATIVE

# The eleven groups systemd-analyze checks, in the order of the checks table (json field suffix).
CHECKED_GROUPS = {
    "@swap": "swap",
    "@obsolete": "obsolete",
    "@clock": "clock",
    "@cpu-emulation": "cpu_emulation",
    "@debug": "debug",
    "@mount": "mount",
    "@module": "module",
    "@raw-io": "raw_io",
    "@reboot": "reboot",
    "@privileged": "privileged",
    "@resources": "resources",
}


# ---------------------------------------------------------------------------------------------
# A minimal model of the SystemCallFilter= data path, enough for the checks below.


def members(group: str) -> Iterator[str]:
    """Plain names of GROUP, nested groups expanded in place, in table order."""
    for item in GROUPS[group]:
        if item.startswith("@"):
            yield from members(item)
        else:
            yield item


def stored(words: list[str]) -> set[str]:
    """Names the analyzer sees for a list of filter words: unresolvable names are dropped and
    stored numbers come back through libseccomp's number-to-name table."""
    out: set[str] = set()
    for word in words:
        for name in members(word) if word.startswith("@") else [word]:
            if name in NATIVE or name in KNOWN_NON_NATIVE:
                out.add(syscalls.CANONICAL.get(name, name))
    return out


def offender(group: str, seen: set[str], allow_list: bool) -> str | None:
    """First member of GROUP (depth-first) that makes the check bad, as systemd reports it."""
    for name in members(group):
        if name in NATIVE and (name in seen) == allow_list:
            return name
    return None


def native_members(group: str) -> list[str]:
    return list(dict.fromkeys(n for n in members(group) if n in NATIVE))


def ascii_fold(name: str) -> str | None:
    """gperf --ignore-case folding: ASCII letters only."""
    return name.upper() if name.isascii() else None


AF_FOLDED = {k.upper(): v for k, v in names.ADDRESS_FAMILIES.items()}
CAP_FOLDED = {k.upper(): v for k, v in names.CAPABILITIES.items()}


# ---------------------------------------------------------------------------------------------
# Data-only tests


def test_group_table_shape() -> None:
    assert len(GROUPS) == 29
    keys = list(GROUPS)
    assert keys[0] == "@default" and keys[-1] == "@known" and "@system-service" in GROUPS
    for group, items in GROUPS.items():
        assert items, group
        for item in items:
            assert not item.startswith("@") or item in GROUPS, (group, item)
    assert GROUPS["@known"][0] == "@obsolete"
    assert len(GROUPS["@known"]) == 1 + 514  # syscall-list.txt of 252.38
    assert GROUPS["@privileged"][:6] == ("@chown", "@clock", "@module", "@raw-io", "@reboot", "@swap")


def test_resolution_classes() -> None:
    assert not NATIVE & KNOWN_NON_NATIVE
    assert len(NATIVE) == 368 and len(KNOWN_NON_NATIVE) == 119
    # The analyzer's number -> name round trip is the identity for every native name.
    assert not set(syscalls.CANONICAL) & NATIVE
    assert all(v in KNOWN_NON_NATIVE for v in syscalls.CANONICAL.values())
    assert syscalls.CANONICAL == {"sys_debug_setcontext": "switch_endian"}
    # Names libseccomp 2.5.4 cannot resolve at all (ignored by systemd's parser).
    for name in ("riscv_hwprobe", "uretprobe"):
        assert name not in NATIVE and name not in KNOWN_NON_NATIVE
    for name in ("umount", "nice", "chown32"):
        assert name in KNOWN_NON_NATIVE


def test_reference_counts() -> None:
    reachable = {n for g in GROUPS if g != "@known" for n in members(g)}
    assert len({n for n in reachable if n not in NATIVE}) == 107
    everything = reachable | set(members("@known"))
    assert len(everything & NATIVE) == 367
    assert NATIVE - everything == {"cachestat"}


def test_first_offenders_of_mount_deny_list() -> None:
    seen = stored(["@mount"])
    got = {g: offender(g, seen, allow_list=False) for g in CHECKED_GROUPS}
    assert got == {
        "@swap": "swapoff",
        "@obsolete": "_sysctl",
        "@clock": "adjtimex",
        "@cpu-emulation": "modify_ldt",
        "@debug": "lookup_dcookie",
        "@mount": None,
        "@module": "delete_module",
        "@raw-io": "ioperm",
        "@reboot": "kexec_file_load",
        "@privileged": "chown",
        "@resources": "ioprio_set",
    }


def test_known_allow_list_allows_every_checked_group() -> None:
    seen = stored(["@default", "@known"])
    for group in CHECKED_GROUPS:
        assert offender(group, seen, allow_list=True) is not None, group


def test_system_service_allow_list() -> None:
    seen = stored(["@default", "@system-service"])
    got = {g: offender(g, seen, allow_list=True) for g in CHECKED_GROUPS}
    assert got.pop("@privileged") == "chown"
    assert got.pop("@resources") == "ioprio_set"
    assert set(got.values()) == {None}


@pytest.mark.parametrize("left_out", native_members("@privileged"))
def test_privileged_deny_list_minus_one(left_out: str) -> None:
    words = [n for n in native_members("@privileged") if n != left_out]
    assert offender("@privileged", stored(words), allow_list=False) == left_out
    assert offender("@privileged", stored([*words, left_out]), allow_list=False) is None


def test_address_families() -> None:
    assert ascii_fold("af_unix") in AF_FOLDED and AF_FOLDED["AF_UNIX"] == 1
    assert AF_FOLDED["AF_DECNET"] == 12  # spelt AF_DECnet in glibc
    assert names.ADDRESS_FAMILIES["AF_LOCAL"] == names.ADDRESS_FAMILIES["AF_FILE"] == 1
    assert names.ADDRESS_FAMILIES["AF_ROUTE"] == names.ADDRESS_FAMILIES["AF_NETLINK"] == 16
    assert (names.ADDRESS_FAMILIES["AF_INET"], names.ADDRESS_FAMILIES["AF_INET6"]) == (2, 10)
    assert names.ADDRESS_FAMILIES["AF_PACKET"] == 17
    assert "AF_UNSPEC" not in names.ADDRESS_FAMILIES and "AF_MAX" not in names.ADDRESS_FAMILIES
    assert ascii_fold("af_unıx") is None  # dotless i: str.upper() would turn it into AF_UNIX


def test_capabilities() -> None:
    assert names.CAPABILITIES["CAP_BPF"] == 39
    assert names.CAPABILITIES["CAP_CHECKPOINT_RESTORE"] == 40
    assert ascii_fold("cap_bpf") in CAP_FOLDED
    assert sorted(names.CAPABILITIES.values()) == list(range(41))
    assert names.CAP_NUMERIC_MAX == 63 and names.CAP_ALL == (1 << 64) - 1
    assert {v: k for k, v in names.CAPABILITIES.items()}[12] == "CAP_NET_ADMIN"


def test_arches_and_namespaces() -> None:
    assert {"native", "x86", "x86-64", "x32", "arm64", "riscv64", "s390x"} <= names.SECCOMP_ARCHES
    assert len(names.SECCOMP_ARCHES) == 20
    assert "bogus-arch" not in names.SECCOMP_ARCHES and "X86-64" not in names.SECCOMP_ARCHES
    assert list(names.NAMESPACES) == ["cgroup", "ipc", "net", "mnt", "pid", "user", "uts", "time"]
    all_but_time = 0
    for ns, flag in names.NAMESPACES.items():
        if ns != "time":
            all_but_time |= flag
    assert names.NAMESPACE_FLAGS_ALL == all_but_time == 0x7E020000
    assert names.NAMESPACES["time"] == 0x80


def test_errnos_booleans_enums() -> None:
    assert names.ERRNO_NAMES["EPERM"] == 1 and names.ERRNO_NAMES["EWOULDBLOCK"] == 11
    assert "ECANCELLED" not in names.ERRNO_NAMES and names.ERRNO_MAX == 4095
    assert "yes" in names.BOOLEAN_TRUE and "off" in names.BOOLEAN_FALSE
    assert names.ENUMS["DevicePolicy"] == ("auto", "closed", "strict")
    assert names.ENUM_BOOLEAN_YES == {"ProtectSystem": "yes", "ProtectHome": "yes"}


# ---------------------------------------------------------------------------------------------
# Oracle: the real systemd-analyze (252.38 on x86_64 with libseccomp 2.5.4)

AF_FIELDS = ("INET_INET6", "UNIX", "NETLINK", "PACKET", "OTHER")


def analyze(tmp_path: Path, tag: str, lines: list[str]) -> dict[str, dict[str, object]]:
    assert re.fullmatch(r"[\w.:-]+", tag), tag  # must make a valid unit name
    unit = tmp_path / f"ug-tables-{tag}.service"
    unit.write_text("[Service]\nExecStart=/bin/true\n" + "".join(f"{line}\n" for line in lines))
    env = {**os.environ, "SYSTEMD_ANALYZE_DEBUG": "1", "SYSTEMD_LOG_LEVEL": "err"}
    res = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--json=short", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert res.stdout, res.stderr
    return {row["json_field"]: row for row in json.loads(res.stdout)}


def reported_offender(row: dict[str, object]) -> str | None:
    m = re.search(r"\(e\.g\. (\S+) is allowed\)", str(row["description"]))
    return m.group(1) if m else None


@pytest.mark.oracle
def test_oracle_agrees(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    problems: list[str] = []

    def expect(what: str, got: object, want: object) -> None:
        if got != want:
            problems.append(f"{what}: systemd-analyze says {got!r}, the tables say {want!r}")

    def filter_case(tag: str, lines: list[str], words: list[str], allow_list: bool) -> None:
        rows = analyze(tmp_path, tag, lines)
        seen = stored(["@default", *words] if allow_list else words)
        for group, field in CHECKED_GROUPS.items():
            row = rows[f"SystemCallFilter_{field}"]
            want = offender(group, seen, allow_list)
            bad = 9 if allow_list else 10
            expect(f"{tag} {group} badness", row["badness"], bad if want else 0)
            expect(f"{tag} {group} offender", reported_offender(row), want)

    # (a) deny list ~@mount, (b) allow list @known, @system-service
    filter_case("deny-mount", ["SystemCallFilter=~@mount"], ["@mount"], allow_list=False)
    filter_case("allow-known", ["SystemCallFilter=@known"], ["@known"], allow_list=True)
    filter_case("allow-ss", ["SystemCallFilter=@system-service"], ["@system-service"], allow_list=True)
    # a deny list of non-native names only is still a (non-empty) deny list ...
    rows = analyze(tmp_path, "deny-nonnative", ["SystemCallFilter=~umount"])
    expect("~umount", reported_offender(rows["SystemCallFilter_swap"]), "swapoff")
    # ... while one of unresolvable names is no filter at all
    rows = analyze(tmp_path, "deny-unresolvable", ["SystemCallFilter=~uretprobe riscv_hwprobe"])
    expect("~uretprobe", rows["SystemCallFilter_swap"]["description"], "Service does not filter system calls")

    # (c) every native @privileged member but one
    privileged = native_members("@privileged")
    for left_out in privileged:
        words = [n for n in privileged if n != left_out]
        rows = analyze(tmp_path, f"priv-{left_out}", ["SystemCallFilter=~" + " ".join(words)])
        row = rows["SystemCallFilter_privileged"]
        expect(f"~@privileged minus {left_out}", (row["badness"], reported_offender(row)), (10, left_out))
    rows = analyze(tmp_path, "priv-all", ["SystemCallFilter=~" + " ".join(privileged)])
    expect("~all native @privileged", rows["SystemCallFilter_privileged"]["badness"], 0)

    # :errno names are looked up case-insensitively; an unknown one drops the word
    for errno, want_bad in (("eperm", 0), ("EBOGUS", 9)):
        expect(f"errno {errno} known", ascii_fold(errno) in names.ERRNO_NAMES, want_bad == 0)
        rows = analyze(
            tmp_path,
            f"errno-{errno}",
            ["SystemCallFilter=@system-service", f"SystemCallFilter=~@privileged:{errno}"],
        )
        expect(f"~@privileged:{errno}", rows["SystemCallFilter_privileged"]["badness"], want_bad)

    # (d) address families: case-insensitive, aliases by number
    for spelling, klass in (
        ("af_unix", "UNIX"),
        ("AF_LOCAL", "UNIX"),
        ("AF_ROUTE", "NETLINK"),
        ("Af_DecNet", "OTHER"),
    ):
        expect(f"{spelling} known", ascii_fold(spelling) in AF_FOLDED, True)
        rows = analyze(tmp_path, f"af-{spelling}", [f"RestrictAddressFamilies={spelling}"])
        got = {
            f: rows[f"RestrictAddressFamilies_{'AF_' if f != 'OTHER' else ''}{f}"]["badness"]
            for f in AF_FIELDS
        }
        expect(f"RestrictAddressFamilies={spelling}", got, {f: int(f == klass) for f in AF_FIELDS})

    # (e) capabilities: names case-insensitive, numbers 0..63
    rows = analyze(tmp_path, "cap-bpf", ["CapabilityBoundingSet=cap_bpf"])
    bad = sorted(f for f, r in rows.items() if f.startswith("CapabilityBoundingSet_") and r["badness"])
    expect("CapabilityBoundingSet=cap_bpf", bad, ["CapabilityBoundingSet_CAP_BPF"])
    # numbers: C strtol base 0 (0x hex, leading-0 octal, sign) plus systemd's 0b/0o prefixes
    net_admin, chown = (
        ["CapabilityBoundingSet_CAP_NET_ADMIN"],
        ["CapabilityBoundingSet_CAP_CHOWN_FSETID_SETFCAP"],
    )
    numeric: dict[str, list[str]] = {
        "12": net_admin,
        "0x0c": net_admin,
        "014": net_admin,
        "0b1100": net_admin,
    }
    numeric.update({"0o14": net_admin, "+12": net_admin, "-0": chown, "012x": [], "12.0": [], "64": []})
    assert names.CAPABILITIES["CAP_NET_ADMIN"] == 12 and names.CAP_NUMERIC_MAX < 64
    for i, (value, want_fields) in enumerate(numeric.items()):
        rows = analyze(tmp_path, f"capnum-{i}", [f"CapabilityBoundingSet={value}"])
        bad = sorted(f for f, r in rows.items() if f.startswith("CapabilityBoundingSet_") and r["badness"])
        expect(f"CapabilityBoundingSet={value}", bad, want_fields)
    # CAP_CHECKPOINT_RESTORE has no check of its own: accepted names make the ambient set non-empty
    for value in ("CAP_CHECKPOINT_RESTORE", "cap_checkpoint_restore", "40", "63", "64", "CAP_BOGUS"):
        folded = ascii_fold(value)
        known = (folded in CAP_FOLDED) if not value.isdigit() else int(value) <= names.CAP_NUMERIC_MAX
        rows = analyze(tmp_path, f"amb-{value}", [f"AmbientCapabilities={value}"])
        expect(f"AmbientCapabilities={value}", rows["AmbientCapabilities"]["badness"], int(known))

    # (f) unknown architecture names are skipped
    for value in ("native bogus-arch", "bogus-arch", "x86-64", "X86-64 native", "native x86"):
        archs = {w for w in value.split() if w in names.SECCOMP_ARCHES}
        want = 10 if not archs else 0 if archs == {"native"} else 8
        rows = analyze(tmp_path, f"arch-{value.replace(' ', '_')}", [f"SystemCallArchitectures={value}"])
        expect(f"SystemCallArchitectures={value}", rows["SystemCallArchitectures"]["badness"], want)

    # namespaces: 'time' is a valid word (so the line is not dropped) but is outside the checks
    rows = analyze(tmp_path, "ns-time", ["RestrictNamespaces=time"])
    bad = [f for f, r in rows.items() if f.startswith("RestrictNamespaces_") and r["badness"]]
    expect("RestrictNamespaces=time", bad, [])

    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The newer scoring models' tables (syscall_models.py, keys_models.py): changes on top of 252's.


def test_model_group_changes_refer_to_known_groups() -> None:
    from unitgate.security.releases import RELEASES
    from unitgate.security.syscall_models import GROUP_CHANGES

    assert set(GROUP_CHANGES) == {r.name for r in RELEASES[1:]}
    for release in RELEASES:
        for gname in GROUPS:
            members = release.syscall_group(gname)
            assert members is not None, (release.name, gname)
            nested = [m for m in members if m.startswith("@")]
            assert all(release.syscall_group(m) is not None for m in nested), (release.name, gname)


def test_model_groups_grew_as_the_release_notes_say() -> None:
    from unitgate.security.releases import SYSTEMD_252, SYSTEMD_257, SYSTEMD_262

    def flat(release: object, group: str) -> set[str]:
        out: set[str] = set()
        for m in release.syscall_group(group) or ():  # type: ignore[attr-defined]
            out |= flat(release, m) if m.startswith("@") else {m}
        return out

    assert "open_tree" in flat(SYSTEMD_252, "@mount")
    assert "open_tree" in flat(SYSTEMD_262, "@file-system") and "open_tree" not in flat(SYSTEMD_262, "@mount")
    assert {"listmount", "statmount"} <= flat(SYSTEMD_257, "@file-system") - flat(SYSTEMD_252, "@file-system")


def test_model_directives() -> None:
    from unitgate.security.releases import SYSTEMD_252, SYSTEMD_255, SYSTEMD_257, SYSTEMD_262, first_knowing

    assert SYSTEMD_252.directive("Service.PrivatePIDs") is None
    assert SYSTEMD_257.directive("Service.PrivatePIDs") is not None
    assert SYSTEMD_262.directive("Service.ProtectHostname") == ("config_parse_protect_hostname", "0")
    assert SYSTEMD_255.directive("Service.PrivateMounts") == ("config_parse_tristate", "0")
    assert first_knowing("Service.RootMStack") is SYSTEMD_262
    assert first_knowing("Service.NoSuchThing") is None
