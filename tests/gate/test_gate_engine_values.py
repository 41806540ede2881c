"""The gate judges the engine's merged unit: a rule fires exactly when the engine's value violates it.

The regression cases are the ones the gate once got wrong by re-reading raw lines (numeric
capabilities, `~` deny-lists, resets, drop-ins). The differential test builds random units and policies
and computes each expectation from the engine's merged state (`UnitAnalysis.merged`) with this file's
own arithmetic, independently of the gate's code path. Set UNITGATE_GATE_DIFF_CASES to run more cases.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, write_tree

from unitgate import gate
from unitgate.engine import analyze_paths
from unitgate.security import names, syscalls

POLICY_HEAD = "policy-version = 1\n"


def lines(run: Run) -> list[str]:
    return [line for line in run.out.splitlines() if line and not line.startswith("Found")]


@pytest.mark.parametrize(
    ("setting", "fires"),
    [
        ("CapabilityBoundingSet=CAP_NET_BIND_SERVICE 0x15", True),  # 0x15 = 21 = CAP_SYS_ADMIN
        ("CapabilityBoundingSet=CAP_NET_BIND_SERVICE 21", True),
        ("CapabilityBoundingSet=CAP_NET_BIND_SERVICE 025", True),  # octal 21
        ("CapabilityBoundingSet=cap_sys_admin", True),
        ("CapabilityBoundingSet=CAP_NET_BIND_SERVICE 0x16", False),
        ("CapabilityBoundingSet=~0x15", False),
        (
            "CapabilityBoundingSet=CAP_SYS_ADMIN\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_CHOWN",
            False,
        ),
        ("CapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=~CAP_CHOWN", False),
    ],
)
def test_numeric_capabilities_and_resets(
    repo: Path, run_cli: Callable[..., Run], setting: str, fires: bool
) -> None:
    policy = POLICY_HEAD + '[forbid]\nCapabilityBoundingSet = ["CAP_SYS_ADMIN"]\n'
    write_tree(repo, {".unitgate.toml": policy, "app.service": f"[Service]\nExecStart=/x\n{setting}\n"})
    run = run_cli("check", "app.service", cwd=repo)
    assert (run.code == 1) is fires, run.out
    assert any("CAP_SYS_ADMIN" in line for line in lines(run)) is fires


def test_numeric_capability_finding_points_at_the_line(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = POLICY_HEAD + '[forbid]\nCapabilityBoundingSet = ["CAP_SYS_ADMIN"]\n'
    unit = "[Service]\nExecStart=/x\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE 0x15\n"
    write_tree(repo, {".unitgate.toml": policy, "app.service": unit})
    assert lines(run_cli("check", "app.service", cwd=repo)) == [
        "app.service:3:1: UG103 app.service: CapabilityBoundingSet= includes CAP_SYS_ADMIN, which the policy "
        "forbids: write CapabilityBoundingSet=~CAP_SYS_ADMIN, or leave CAP_SYS_ADMIN out of the list"
    ]


@pytest.mark.parametrize(
    ("setting", "fires"),
    [
        ("RestrictAddressFamilies=~AF_INET AF_PACKET", False),  # a deny-list naming AF_PACKET
        ("RestrictAddressFamilies=~AF_INET6", True),  # a deny-list that leaves AF_PACKET allowed
        ("RestrictAddressFamilies=AF_UNIX AF_PACKET", True),
        ("RestrictAddressFamilies=AF_UNIX", False),
        ("RestrictAddressFamilies=none", False),
        ("RestrictAddressFamilies=AF_UNIX\nRestrictAddressFamilies=", True),  # reset: everything allowed
        ("", True),  # not set: everything allowed
    ],
)
def test_address_family_deny_lists(
    repo: Path, run_cli: Callable[..., Run], setting: str, fires: bool
) -> None:
    policy = POLICY_HEAD + '[forbid]\nRestrictAddressFamilies = ["AF_PACKET"]\n'
    write_tree(repo, {".unitgate.toml": policy, "app.service": f"[Service]\nExecStart=/x\n{setting}\n"})
    run = run_cli("check", "app.service", cwd=repo)
    assert (run.code == 1) is fires, run.out


@pytest.mark.parametrize(
    ("setting", "fires"),
    [
        ("SystemCallFilter=~@clock @mount", False),
        ("SystemCallFilter=~@clock", True),
        ("SystemCallFilter=@system-service", False),
        ("SystemCallFilter=@system-service @mount", True),
        ("SystemCallFilter=@system-service\nSystemCallFilter=mount", True),  # one member is enough
        ("SystemCallFilter=@system-service mount\nSystemCallFilter=~mount", False),
    ],
)
def test_syscall_groups_and_deny_lists(
    repo: Path, run_cli: Callable[..., Run], setting: str, fires: bool
) -> None:
    policy = POLICY_HEAD + '[forbid]\nSystemCallFilter = ["@mount"]\n'
    write_tree(repo, {".unitgate.toml": policy, "app.service": f"[Service]\nExecStart=/x\n{setting}\n"})
    run = run_cli("check", "app.service", cwd=repo)
    assert (run.code == 1) is fires, run.out


def test_required_deny_list_is_met_by_meaning(repo: Path, run_cli: Callable[..., Run]) -> None:
    policy = POLICY_HEAD + '[require]\nRestrictAddressFamilies = "~AF_PACKET"\n'
    unit = "[Service]\nExecStart=/x\nRestrictAddressFamilies=AF_UNIX AF_INET\n"  # AF_PACKET not allowed
    write_tree(repo, {".unitgate.toml": policy, "app.service": unit})
    assert run_cli("check", "app.service", cwd=repo).code == 0


# --- differential: random units and policies against the engine's own merged state -----------------

_CAPS = sorted(names.CAPABILITIES, key=names.CAPABILITIES.__getitem__)
_FAMILIES = ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_BLUETOOTH", "AF_CAN"]
_GROUPS = ["@mount", "@clock", "@module", "@raw-io", "@reboot", "@swap", "@debug", "@privileged"]
_BOOLEANS = ["NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectClock", "ProtectKernelModules"]
_TRUE = ["yes", "true", "on", "1", "y", "t", "YES", "True"]
_FALSE = ["no", "false", "off", "0", "n", "f", "NO", "False"]


def _cap_word(rng: random.Random, cap: str) -> str:
    bit = names.CAPABILITIES[cap]
    return rng.choice([cap, cap.lower(), str(bit), hex(bit), f"0{bit:o}" if bit else "0", f"+{bit}"])


def _cap_line(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return "CapabilityBoundingSet="
    words = " ".join(_cap_word(rng, rng.choice(_CAPS)) for _ in range(rng.randint(1, 4)))
    return f"CapabilityBoundingSet={'~' if rng.random() < 0.4 else ''}{words}"


def _family_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return "RestrictAddressFamilies="
    if roll < 0.15:
        return "RestrictAddressFamilies=none"
    words = " ".join(rng.sample(_FAMILIES, rng.randint(1, 3)))
    return f"RestrictAddressFamilies={'~' if rng.random() < 0.5 else ''}{words}"


def _syscall_line(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return "SystemCallFilter="
    words = rng.sample(_GROUPS, rng.randint(1, 3))
    if rng.random() < 0.5:
        return f"SystemCallFilter=~{' '.join(words)}"
    return f"SystemCallFilter=@system-service {' '.join(words[1:])}".rstrip()


def _bool_line(rng: random.Random) -> str:
    name = rng.choice([*_BOOLEANS, "DynamicUser"])
    return f"{name}={rng.choice(_TRUE if rng.random() < 0.5 else _FALSE)}"


def _random_lines(rng: random.Random, count: int) -> list[str]:
    makers = [_cap_line, _family_line, _syscall_line, _bool_line]
    return [rng.choice(makers)(rng) for _ in range(count)]


def _expand(word: str) -> set[str]:
    if word.startswith("@"):
        return {name for member in syscalls.GROUPS[word] for name in _expand(member)}
    if word in syscalls.NATIVE or word in syscalls.KNOWN_NON_NATIVE:
        return {syscalls.CANONICAL.get(word, word)}
    return set()


def _random_case(rng: random.Random, root: Path) -> tuple[dict[str, object], list[Path]]:
    forbid_caps = rng.sample(_CAPS, rng.randint(1, 3))
    rules: dict[str, object] = {
        "forbid_caps": forbid_caps,
        "forbid_family": rng.choice(_FAMILIES),
        "forbid_group": rng.choice(_GROUPS),
        "require_bool": rng.choice(_BOOLEANS),
    }
    rules["forbid_false"] = rng.choice([b for b in _BOOLEANS if b != rules["require_bool"]])
    policy = (
        POLICY_HEAD + "[require]\n"
        f"{rules['require_bool']} = true\n"
        "[forbid]\n"
        f"CapabilityBoundingSet = {forbid_caps!r}\n"
        f'RestrictAddressFamilies = ["{rules["forbid_family"]}"]\n'
        f'SystemCallFilter = ["{rules["forbid_group"]}"]\n'
        f"{rules['forbid_false']} = false\n"
    ).replace("'", '"')
    base = ["[Service]", "ExecStart=/x", *_random_lines(rng, rng.randint(0, 6))]
    files = {".unitgate.toml": policy, "app.service": "\n".join(base) + "\n"}
    if rng.random() < 0.6:
        files["app.service.d/10-a.conf"] = (
            "\n".join(["[Service]", *_random_lines(rng, rng.randint(1, 4))]) + "\n"
        )
    if rng.random() < 0.3:
        files["app.service.d/20-b.conf"] = (
            "\n".join(["[Service]", *_random_lines(rng, rng.randint(1, 3))]) + "\n"
        )
    write_tree(root, files)
    return rules, [root / "app.service"]


def _expected(rules: dict[str, object], root: Path) -> set[str]:
    """The directives whose rule the engine's merged state violates (computed here, not by the gate)."""
    (analysis,) = analyze_paths([str(root / "app.service")])
    assert analysis.merged is not None
    state, info = analysis.merged
    out: set[str] = set()
    caps = rules["forbid_caps"]
    assert isinstance(caps, list)
    if any(info.capability_bounding_set >> names.CAPABILITIES[c] & 1 for c in caps):
        out.add("CapabilityBoundingSet")
    family = names.ADDRESS_FAMILIES[str(rules["forbid_family"])]
    if (family in (state.address_families or ())) == state.address_families_allow_list:
        out.add("RestrictAddressFamilies")
    members = _expand(str(rules["forbid_group"]))
    if any((m in info.system_call_filter) == info.system_call_filter_allow_list for m in members):
        out.add("SystemCallFilter")
    attr = dict(zip(_BOOLEANS, _ATTRS, strict=True))
    if not getattr(info, attr[str(rules["require_bool"])]):
        out.add(str(rules["require_bool"]))
    if not getattr(info, attr[str(rules["forbid_false"])]):
        out.add(str(rules["forbid_false"]))
    return out


_ATTRS = ["no_new_privileges", "private_tmp", "private_devices", "protect_clock", "protect_kernel_modules"]


def run_differential(cases: int, seed: int, tmp: Path) -> int:
    rng = random.Random(seed)
    for case in range(cases):
        root = tmp / f"case{case}"
        rules, paths = _random_case(rng, root)
        result = gate.check([str(p) for p in paths], policy_file=str(root / ".unitgate.toml"))
        fired = {f.directive for f in result.findings if f.rule in ("UG101", "UG102", "UG103")}
        expected = _expected(rules, root)
        assert fired == expected, (case, sorted(p.name for p in root.rglob("*")), rules, fired, expected)
    return cases


def test_gate_agrees_with_engine_on_random_units(tmp_path: Path) -> None:
    cases = int(os.environ.get("UNITGATE_GATE_DIFF_CASES", "300"))
    assert run_differential(cases, 12, tmp_path) == cases
