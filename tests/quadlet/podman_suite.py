"""Run podman's own quadlet test cases (test/e2e/quadlet, tag v5.4.2) against unitgate.

Nothing of podman's is stored in this repository: the cases are read at run time from
`UNITGATE_PODMAN_SRC` (a podman checkout, or its git directory; `UNITGATE_PODMAN_REF` picks the tag,
default v5.4.2).  With `UNITGATE_QUADLET` pointing at a quadlet 5.4.2 binary, each case is also run
through it and the outcomes and ExecStart arguments are compared.

    UNITGATE_PODMAN_SRC=/path/to/podman[.git] [UNITGATE_QUADLET=/path/quadlet] \
        python tests/quadlet/podman_suite.py
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from unitgate.model import Location
from unitgate.quadlet.engine import QuadletInspection, inspect_container
from unitgate.quadlet.generate import Arg
from unitgate.quadlet.parser import (
    EXEC_FLAGS,
    Group,
    QuadletFile,
    lookup_all,
    lookup_last_assignment,
    split_words,
)
from unitgate.quadlet.posture import ContainerPosture, Decided, parse_run_args, posture_from_args
from unitgate.quadlet.releases import release
from unitgate.quadlet.specifiers import SpecifierContext, expand

RELEASE = os.environ.get("UNITGATE_PODMAN_RELEASE", "5.4")  # the release modelled: 5.4 or 5.8
REF = os.environ.get("UNITGATE_PODMAN_REF", release(RELEASE).tag)


def suite_dir(ref: str | None = None) -> Path | None:
    """The test/e2e directory of the podman sources named by UNITGATE_PODMAN_SRC, extracted if a git dir
    (at `ref`, default the modelled release's tag)."""
    src = os.environ.get("UNITGATE_PODMAN_SRC")
    if not src:
        return None
    p = Path(src)
    if (p / "test/e2e/quadlet").is_dir() and (p / "test/e2e/quadlet_test.go").is_file():
        return p / "test/e2e"
    git_dir = p / ".git" if (p / ".git").exists() else p
    out = Path(tempfile.mkdtemp(prefix="ug-podman-suite-"))
    try:
        archive = subprocess.run(
            [
                "git",
                "--git-dir",
                str(git_dir),
                "archive",
                ref or REF,
                "test/e2e/quadlet",
                "test/e2e/quadlet_test.go",
            ],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out / "test/e2e"


@dataclass(frozen=True)
class Case:
    file: str  # path under test/e2e/quadlet
    table: str  # success | warning | error | servicename | deps | none
    stderr: str = ""
    deps: tuple[str, ...] = ()
    service: str = ""


_GO_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _entries(table: str) -> Iterator[list[str]]:
    """The string literals of each `Entry(...)` in a DescribeTable body (entries may span lines)."""
    for start in (m.end() for m in re.finditer(r"\bEntry\(", table)):
        depth, i = 1, start
        while i < len(table) and depth:
            c = table[i]
            if c == '"':
                i = _GO_STRING.match(table, i).end()  # type: ignore[union-attr]
                continue
            depth += {"(": 1, ")": -1}.get(c, 0)
            i += 1
        yield [m.group(1).encode().decode("unicode_escape") for m in _GO_STRING.finditer(table, start, i)]


def cases(e2e: Path) -> list[Case]:
    """Every .container under test/e2e/quadlet, with the table quadlet_test.go puts it in."""
    go = (e2e / "quadlet_test.go").read_text()
    table_of: dict[str, Case] = {}
    tables = re.split(r'DescribeTable\("', go)[1:]
    for t in tables:
        title = t.split('"', 1)[0]
        kind = (
            "warning"
            if "warning" in title
            else "error"
            if "error" in title
            else "servicename"
            if "ServiceName" in title
            else "deps"
            if "dependencies" in title
            else "success"
        )
        for strings in _entries(t):
            if len(strings) < 2 or not strings[1].endswith(".container"):
                continue
            name, rest = strings[1], strings[2:]
            stderr = ""
            deps: tuple[str, ...] = ()
            service = ""
            if kind in ("warning", "error"):
                stderr = rest[0] if rest else ""
            elif kind == "deps":
                deps = tuple(rest)
            elif kind == "servicename":
                service = rest[0] if rest else ""
            table_of[name] = Case(name, kind, stderr, deps, service)
    out = []
    for p in sorted((e2e / "quadlet").rglob("*.container")):
        rel = str(p.relative_to(e2e / "quadlet"))
        out.append(table_of.get(rel, Case(rel, "none")))
    return out


@dataclass
class Outcome:
    accepted: bool
    stderr: str
    service: QuadletFile | None  # generated service, as a unit file


@dataclass
class CaseResult:
    case: Case
    expected_accept: bool | None  # from the table (None: not in a table)
    binary: Outcome | None
    ours: Outcome
    assertions: list[tuple[str, bool | None]] = field(default_factory=list)  # (line, passed / n/a)
    posture: list[tuple[str, bool]] = field(default_factory=list)
    argv_match: bool | None = None

    @property
    def accept_agrees(self) -> bool:
        ref = self.binary.accepted if self.binary is not None else self.expected_accept
        return ref is None or ref == self.ours.accepted


def _setup(e2e: Path, case: Case, root: Path) -> Path:
    qdir = root / "podman-e2e-ug" / "subtest-ug" / "quadlet"
    qdir.mkdir(parents=True)
    src = e2e / "quadlet"
    name = Path(case.file).name
    shutil.copy(src / case.file, qdir / name)
    dirs = [case.file + ".d"]
    base, ext = os.path.splitext(name)
    if "@" in base and base.split("@", 1)[1]:
        dirs.append(str(Path(case.file).parent / (base.split("@", 1)[0] + "@" + ext + ".d")))
    for d in dirs:
        if (src / d).is_dir():
            shutil.copytree(src / d, qdir / Path(d).name)
    for dep in case.deps:
        shutil.copy(src / dep, qdir / dep)
    return qdir / name


def _service_file(text: str, path: str) -> QuadletFile:
    from unitgate.quadlet.parser import parse_text

    return parse_text(text, path)


def run_binary(binary: str, unit_path: Path, service: str) -> Outcome:
    env = {"PATH": os.environ.get("PATH", ""), "QUADLET_UNIT_DIRS": str(unit_path.parent)}
    r = subprocess.run([binary, "-dryrun"], env=env, capture_output=True, text=True, check=False)
    blocks = re.split(r"^---(.+?)---$", r.stdout, flags=re.M)
    svc = None
    for i in range(1, len(blocks) - 1, 2):
        if os.path.basename(blocks[i]) == service:
            svc = _service_file(blocks[i + 1], service)
    return Outcome(r.returncode == 0 and svc is not None, r.stderr, svc)


def run_ours(unit_path: Path, podman: str = "5.4") -> tuple[Outcome, QuadletInspection]:
    ins = inspect_container(str(unit_path), device_exists=os.path.exists, podman=podman)
    conv = ins.conversion
    stderr = "\n".join(d.message for d in ins.analysis.diagnostics)
    if conv is None or conv.error is not None:
        return Outcome(False, stderr, None), ins
    groups: dict[str, list] = {}
    for a in conv.service:
        groups.setdefault(a.section, []).append(a)
    svc = QuadletFile("svc", tuple(Group(g, tuple(ls), None) for g, ls in groups.items()))
    return Outcome(True, stderr, svc), ins


def _argv(svc: QuadletFile, key: str) -> list[str]:
    a = lookup_last_assignment(svc, "Service", key)
    return split_words(a.value, EXEC_FLAGS) if a else []


def _find(full: list[str], sub: list[str], regex: bool) -> int:
    if not sub or len(sub) > len(full):
        return -1
    for i in range(len(full) - len(sub) + 1):
        if all(
            (re.search(s, f) is not None) if regex else s == f for s, f in zip(sub, full[i:], strict=False)
        ):
            return i
    return -1


def _kv(s: str, sep: str) -> dict[str, str] | None:
    import csv

    try:
        rows = list(csv.reader([s], delimiter=sep))
    except csv.Error:
        return None
    return {k: v for k, _, v in (p.partition("=") for p in rows[0])} if rows else {}


_PREFIX = {
    "assert-podman-pre-": "ExecStartPre",
    "assert-podman-stop-post-": "ExecStopPost",
    "assert-podman-stop-": "ExecStop",
    "assert-podman-reload-": "ExecReload",
    "assert-podman-": "ExecStart",
}


def evaluate(op: str, args: list[str], out: Outcome) -> bool | None:
    """One `##` assertion against a generated service; None where it cannot apply (symlinks)."""
    if op == "assert-failed":
        return not out.accepted
    if op == "assert-stderr-contains":
        return args[0] in out.stderr
    if op == "assert-symlink":
        return None
    svc = out.service
    if svc is None:
        return False
    if op.startswith("assert-podman-"):
        key = next(v for p, v in _PREFIX.items() if op.startswith(p))
        form = op[len(next(p for p in _PREFIX if op.startswith(p))) :]
        argv = _argv(svc, key)
        regex = form.endswith("-regex")
        form = form.removesuffix("-regex")
        if form.startswith("global-"):
            cut = _find(argv, [args[0]], False)
            if cut == -1:
                return False
            argv, args = argv[:cut], args[1:]
            form = form.removeprefix("global-")
        if form == "args":
            return _find(argv, args, regex) != -1
        if form == "final-args":
            tail = argv[len(argv) - len(args) :] if len(args) <= len(argv) else []
            return len(tail) == len(args) and all(
                (re.search(a, t) is not None) if regex else a == t for a, t in zip(args, tail, strict=True)
            )
        if form == "args-key-val":
            want = _kv(args[2], args[1])
            for i, a in enumerate(argv[:-1]):
                if a == args[0]:
                    got = _kv(argv[i + 1], args[1])
                    if (
                        want is not None
                        and got is not None
                        and len(got) == len(want)
                        and all(
                            k in got and (re.search(v, got[k]) if regex else v == got[k])
                            for k, v in want.items()
                        )
                    ):
                        return True
            return False
        return None
    group, key = args[0], args[1]
    values = [a.value for a in lookup_all(svc, group, key)]
    last = lookup_last_assignment(svc, group, key)
    if op == "assert-key-is":
        return values == args[2:]
    if op == "assert-key-is-regex":
        return len(values) == len(args[2:]) and all(
            re.search(r, v) for r, v in zip(args[2:], values, strict=True)
        )
    if op == "assert-key-is-empty":
        return not values
    if op == "assert-has-key":
        return args[2] in values
    if op in ("assert-key-contains", "assert-last-key-contains"):
        return last is not None and args[2] in last.value
    if op in ("assert-key-not-contains", "assert-last-key-not-contains"):
        return not (last is not None and args[2] in last.value)
    if op == "assert-last-key-is-regex":
        return last is not None and re.search(args[2], last.value) is not None
    return None


def assertions(text: str) -> Iterator[tuple[str, str, list[str]]]:
    for line in text.split("\n"):
        if line.startswith("##"):
            words = [w.replace("\\n", "\n").replace("\\t", "\t") for w in shlex.split(line[2:])]
            if words:
                yield line, words[0], words[1:]


SECURITY_FLAGS = frozenset(
    [
        "privileged",
        "user",
        "userns",
        "uidmap",
        "gidmap",
        "subuidname",
        "subgidname",
        "cap-add",
        "cap-drop",
        "security-opt",
        "read-only",
        "network",
        "pid",
        "ipc",
        "uts",
        "cgroupns",
        "device",
        "sysctl",
        "publish",
        "publish-all",
        "volume",
        "mount",
        "env-host",
        "group-add",
    ]
)


def posture_facts(
    args: list[str], full: ContainerPosture, specifiers: SpecifierContext | None = None
) -> list[bool] | None:
    """Each security flag in an asserted argument list must show in the derived posture (which has
    the specifiers expanded, so the asserted arguments are expanded the same way)."""
    if specifiers is not None:
        args = [expand(a, specifiers) for a in args]
    flags, _ = parse_run_args([Arg(a, Location("assert")) for a in args])
    sec = [f for f in flags if f.name in SECURITY_FLAGS]
    if not sec:
        return None
    frag = posture_from_args([Arg(a, Location("assert")) for a in args], rootless=full.rootless)
    checks: list[bool] = []

    def vals(items: tuple[object, ...]) -> set[object]:
        return {
            getattr(i, "value", None) or (getattr(i, "source", None), getattr(i, "destination", None))
            for i in items
        }

    def spec(items: tuple[object, ...]) -> set[object]:
        return {(getattr(i, "spec", None), getattr(i, "host_ip", None)) for i in items}

    for f in sec:
        n = f.name
        if n in (
            "privileged",
            "user",
            "userns",
            "read-only",
            "pid",
            "ipc",
            "uts",
            "cgroupns",
            "env-host",
            "publish-all",
        ):
            attr = n.replace("-", "_")
            checks.append(getattr(frag, attr).value == getattr(full, attr).value)
        elif n in ("cap-add", "cap-drop", "device", "sysctl", "group-add", "network"):
            attr = {
                "cap-add": "cap_add",
                "cap-drop": "cap_drop",
                "device": "devices",
                "sysctl": "sysctls",
                "group-add": "group_add",
                "network": "networks",
            }[n]
            checks.append(vals(getattr(frag, attr)) <= vals(getattr(full, attr)))
        elif n in ("uidmap", "gidmap", "subuidname", "subgidname"):
            checks.append(vals(frag.id_mappings) <= vals(full.id_mappings))
        elif n == "publish":
            checks.append(spec(frag.ports) <= spec(full.ports))
        elif n in ("volume", "mount"):
            key = {(m.source, m.destination, m.read_only) for m in frag.mounts}
            checks.append(key <= {(m.source, m.destination, m.read_only) for m in full.mounts})
        elif n == "security-opt":
            for attr in (
                "no_new_privileges",
                "seccomp",
                "apparmor",
                "label_disabled",
                "label_type",
                "label_nested",
            ):
                d: Decided[object] = getattr(frag, attr)
                if d.location is not None:
                    checks.append(d.value == getattr(full, attr).value)
            checks.append(vals(frag.masks) <= vals(full.masks) and vals(frag.unmasks) <= vals(full.unmasks))
    return checks


def run_case(e2e: Path, case: Case, binary: str | None, podman: str = "5.4") -> CaseResult:
    with tempfile.TemporaryDirectory(prefix="ug-q-") as tmp:
        unit_path = _setup(e2e, case, Path(tmp))
        service = (case.service or Path(case.file).stem) + ".service"
        expected = {"success": True, "warning": True, "servicename": True, "deps": True, "error": False}.get(
            case.table
        )
        b = run_binary(binary, unit_path, service) if binary else None
        ours, ins = run_ours(unit_path, podman)
        res = CaseResult(case, expected, b, ours)
        text = unit_path.read_text()
        for line, op, args in assertions(text):
            neg = op.startswith("!")
            r = evaluate(op.lstrip("!"), args, ours)
            res.assertions.append((line, None if r is None else (r != neg)))
            if not neg and ins.posture is not None and op == "assert-podman-args":
                facts = posture_facts(args, ins.posture, ins.specifiers)
                if facts is not None:
                    res.posture.append((line, all(facts)))
        if case.stderr:
            res.assertions.append(
                (f"stderr contains {case.stderr!r}", case.stderr.split(": ", 1)[-1] in ours.stderr)
            )
        if b is not None and b.service is not None and ours.service is not None:
            res.argv_match = Counter(_argv(b.service, "ExecStart")) == Counter(
                _argv(ours.service, "ExecStart")
            )
        return res


def run_all(e2e: Path, binary: str | None, podman: str = "5.4") -> list[CaseResult]:
    return [run_case(e2e, c, binary, podman) for c in cases(e2e)]


def summary(results: list[CaseResult], ref: str | None = None) -> str:
    n = len(results)
    acc = sum(r.accept_agrees for r in results)
    vs_table = [r for r in results if r.expected_accept is not None]
    t_ok = sum(r.expected_accept == r.ours.accepted for r in vs_table)
    vs_bin = [r for r in results if r.binary is not None]
    b_ok = sum(r.binary is not None and r.binary.accepted == r.ours.accepted for r in vs_bin)
    asserts = [ok for r in results for _, ok in r.assertions if ok is not None]
    na = sum(1 for r in results for _, ok in r.assertions if ok is None)
    post = [ok for r in results for _, ok in r.posture]
    argv = [r.argv_match for r in results if r.argv_match is not None]
    lines = [
        f"podman {ref or REF} .container cases: {n}",
        f"accept/reject agreement: {acc}/{n} "
        f"(vs tables {t_ok}/{len(vs_table)}; vs quadlet binary {b_ok}/{len(vs_bin)})",
        f"## assertions on unitgate's generated service: {sum(asserts)}/{len(asserts)} pass "
        f"({na} n/a: symlinks)",
        f"posture agreement on security-relevant assertions: {sum(post)}/{len(post)}",
    ]
    if argv:
        lines.append(f"ExecStart argv identical to the binary's (as multisets): {sum(argv)}/{len(argv)}")
    for r in results:
        if not r.accept_agrees:
            lines.append(f"  DISAGREE {r.case.file}: ours={r.ours.accepted} stderr={r.ours.stderr[:200]!r}")
        for line, ok in r.assertions:
            if ok is False:
                lines.append(f"  FAIL {r.case.file}: {line}")
        for line, ok in r.posture:
            if not ok:
                lines.append(f"  POSTURE {r.case.file}: {line}")
        if r.argv_match is False and r.binary and r.binary.service and r.ours.service:
            theirs = Counter(_argv(r.binary.service, "ExecStart"))
            mine = Counter(_argv(r.ours.service, "ExecStart"))
            lines.append(f"  ARGV {r.case.file}: only binary={theirs - mine} only unitgate={mine - theirs}")
    return "\n".join(lines)


if __name__ == "__main__":
    e2e = suite_dir()
    if e2e is None:
        sys.exit("set UNITGATE_PODMAN_SRC to a podman checkout or git dir")
    print(summary(run_all(e2e, os.environ.get("UNITGATE_QUADLET") or None, RELEASE)))
