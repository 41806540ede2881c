#!/usr/bin/env python3
"""Record what systemd-analyze says about the fixture units that the shared oracle does not cover.

The shared oracle (`oracle.py CASES expected.jsonl`) records every regular `.service` file in
`{etc,run,lib,usr/lib}/systemd/system` of each case root.  This script records the rest into
`fixtures/systemd/expected-extra.jsonl`:

* every other unit name in the case's system unit directories (all 13 of 252's search path):
  other unit types (.socket, .timer, .target, .slice, .mount, .path, .swap), symlinks (aliases and
  `/dev/null` masks) and units only in /usr/local/lib;
* each `record: UNIT PATH SCOPE` line of the case's README: UNIT is the name handed to systemd-analyze
  (e.g. an instance `foo@bar.service` with no file of its own); PATH (relative to the case root) is what
  the test hands to unitgate; SCOPE is `system` (analysed with `--root=CASE`) or `user` (analysed with
  `--user` and the file's absolute path, because 252 refuses `--user --root`; XDG_RUNTIME_DIR and HOME
  point to an empty temporary directory and the umask is 0022, so the result does not depend on the caller).

Each line has the oracle's fields ({"unit", "root", "exposure", "rating", "checks", "error",
"analyzed_as", "warnings"}) plus "path" and "scope".  Messages have the case root stripped.

Usage: tools/record_fixtures.py [CASES [OUT]]   (defaults: fixtures/systemd/cases, …/expected-extra.jsonl)
The analyzer is `systemd-analyze` from PATH, or the binary named by $SYSTEMD_ANALYZE.
Re-record both files whenever a case changes:
    python3 ../shared/tools/oracle.py fixtures/systemd/cases fixtures/systemd/expected.jsonl
    python3 tools/record_fixtures.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# The engine's copy of 252's search path (`systemd-analyze unit-paths`), without installing unitgate.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))
from unitgate.parse.dropins import SYSTEM_UNIT_PATH

ORACLE_DIRS = ("etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system")
UNIT_SUFFIXES = (
    ".service",
    ".socket",
    ".target",
    ".timer",
    ".slice",
    ".mount",
    ".path",
    ".swap",
    ".automount",
    ".device",
    ".scope",
)
OVERALL = re.compile(r"Overall exposure level for (\S+): (\d+\.\d) (\w+)")
REPO = Path(__file__).resolve().parent.parent


def oracle_units(root: Path) -> set[str]:
    """What oracle.py records for this root (regular .service files, first directory wins)."""
    seen: set[str] = set()
    for d in ORACLE_DIRS:
        base = root / d
        if base.is_dir():
            for f in sorted(base.iterdir()):
                if f.name.endswith(".service") and f.is_file() and not f.is_symlink():
                    seen.add(f.name)
    return seen


def extra_units(root: Path) -> list[tuple[str, str, str]]:
    """(unit, path relative to root, scope) for everything oracle.py leaves out."""
    covered = oracle_units(root)
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for d in SYSTEM_UNIT_PATH:
        base = root / d
        if not base.is_dir():
            continue
        for f in sorted(base.iterdir()):
            if f.name in seen or not f.name.endswith(UNIT_SUFFIXES) or (f.is_dir() and not f.is_symlink()):
                continue
            seen.add(f.name)
            if f.name not in covered:
                out.append((f.name, f"{d}/{f.name}", "system"))
    readme = root / "README"
    if readme.is_file():
        for line in readme.read_text().splitlines():
            if line.startswith("record:"):
                unit, path, scope = line.split()[1:4]
                out.append((unit, path, scope))
    return out


def analyze(root: Path, unit: str, path: str, scope: str) -> dict[str, object]:
    exe = os.environ.get("SYSTEMD_ANALYZE", "systemd-analyze")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if scope == "user":
            env.update(XDG_RUNTIME_DIR=tmp, HOME=f"{tmp}/home")
            target = str(root / path)
            if os.path.basename(path) != unit:  # an instance of a template next to PATH
                target = str(root / os.path.dirname(path) / unit)
            args = [exe, "security", "--user", "--offline=true", target]
        else:
            args = [exe, "security", "--offline=true", f"--root={root}", unit]
        old = os.umask(0o022)
        try:
            text = subprocess.run(args, capture_output=True, text=True, env=env)
            js = subprocess.run(
                [*args[:-1], "--json=short", args[-1]],
                capture_output=True,
                text=True,
                env=dict(env, SYSTEMD_ANALYZE_DEBUG="1"),
            )
        finally:
            os.umask(old)
    rec: dict[str, object] = {
        "unit": unit,
        "root": root.name,
        "path": path,
        "scope": scope,
        "exposure": None,
        "rating": None,
        "checks": None,
        "error": None,
    }
    m = OVERALL.search(text.stdout)
    if m:
        rec["exposure"] = float(m.group(2))
        rec["rating"] = m.group(3)
        rec["analyzed_as"] = m.group(1)
    try:
        rec["checks"] = json.loads(js.stdout) if js.stdout.strip() else None
    except json.JSONDecodeError:
        rec["checks"] = None
    err = text.stderr.replace(str(root) + "/", "").strip()
    if text.returncode != 0 or not m:
        rec["error"] = (err or f"exit {text.returncode}")[-2000:]
    elif err:
        rec["warnings"] = err[-2000:]
    return rec


def main() -> None:
    cases = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "fixtures/systemd/cases").resolve()
    out = Path(sys.argv[2] if len(sys.argv) > 2 else cases.parent / "expected-extra.jsonl").resolve()
    records = [
        analyze(root, unit, path, scope)
        for root in sorted(p for p in cases.iterdir() if p.is_dir())
        for unit, path, scope in extra_units(root)
    ]
    out.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in records))
    ok = sum(r["error"] is None for r in records)
    print(f"{ok} analyzed, {len(records) - ok} refused by systemd-analyze, {len(records)} units")


if __name__ == "__main__":
    main()
