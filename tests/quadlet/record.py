"""Record what a podman release's quadlet does with each fixture in fixtures/quadlet: expected.json
for 5.4 (quadlet 5.4.2), expected-5.8.json for 5.8 (quadlet 5.8.6).

Expectations are measured, never typed by hand:
    UNITGATE_QUADLET=/path/to/quadlet-5.4.2 python tests/quadlet/record.py
    UNITGATE_QUADLET=/path/to/quadlet-5.8.6 python tests/quadlet/record.py --podman 5.8
(`../shared/tools/get-quadlet.sh DIR trixie|sid` fetches the Debian generators.)
Each search-directory set is run once with `quadlet -dryrun` (`-user` for rootless layouts); a
fixture is accepted when its service comes out, and its errors/warnings are the stderr lines
naming it.  Absolute paths are stored relative to fixtures/quadlet as `<FIXTURES>`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from unitgate.quadlet.dropins import detect_layout, search_dirs
from unitgate.quadlet.parser import EXEC_FLAGS, parse_file, parse_text, split_words
from unitgate.quadlet.releases import release

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "quadlet"
EXPECTED = FIXTURES / "expected.json"


def expected_path(podman: str) -> Path:
    return EXPECTED if podman == "5.4" else FIXTURES / f"expected-{podman}.json"


SERVICE_KEYS = ("Type", "NotifyAccess", "Delegate", "KillMode", "SyslogIdentifier")


def fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.container") if p.is_file())


def service_name(p: Path) -> str:
    return p.name.rsplit(".", 1)[0] + ".service"


def relativise(s: str) -> str:
    return s.replace(str(FIXTURES), "<FIXTURES>")


def run(binary: str, dirs: tuple[str, ...], rootless: bool) -> tuple[str, str, int]:
    env = {"PATH": os.environ.get("PATH", ""), "QUADLET_UNIT_DIRS": ":".join(dirs)}
    cmd = [binary, "-dryrun"] + (["-user"] if rootless else [])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return r.stdout, r.stderr, r.returncode


def record(binary: str, podman: str = "5.4") -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    runs: dict[tuple[tuple[str, ...], bool], tuple[str, str, int]] = {}
    for f in fixtures():
        layout = detect_layout(str(f))
        dirs = search_dirs(layout)
        key = (dirs, layout.rootless)
        if key not in runs:
            runs[key] = run(binary, dirs, layout.rootless)
        stdout, stderr, _ = runs[key]
        blocks = re.split(r"^---(.+?)---$", stdout, flags=re.M)
        svc_text = next(
            (
                blocks[i + 1]
                for i in range(1, len(blocks) - 1, 2)
                if os.path.basename(blocks[i]) == service_name(f)
            ),
            None,
        )
        messages = [
            re.sub(r"^quadlet-generator\[\d+\]: ", "", line)
            for line in stderr.splitlines()
            if (f'"{f}"' in line or f'"{f.name}"' in line or f"{f.name} specifies" in line)
            and "Loading source" not in line
        ]
        entry: dict[str, object] = {
            "quadlet": release(podman).reference,
            "rootless": layout.rootless,
            "accepted": svc_text is not None,
            "messages": [relativise(m) for m in messages],
        }
        parsed = parse_file(str(f)).unit
        pods = [a.value for a in parsed.lines("Container") if a.key == "Pod"] if parsed is not None else []
        pod = pods[-1] if pods else ""
        if pod.endswith(".pod"):
            # whether quadlet generated the pod the container joins (it may refuse the pod alone)
            pod_service = pod.removesuffix(".pod") + "-pod.service"
            entry["pod_generated"] = any(
                os.path.basename(blocks[i]) == pod_service for i in range(1, len(blocks) - 1, 2)
            )
        if svc_text is not None:
            svc = parse_text(svc_text, "svc")
            exec_start = next(a.value for a in reversed(svc.lines("Service")) if a.key == "ExecStart")
            entry["exec_start"] = [relativise(w) for w in split_words(exec_start, EXEC_FLAGS)]
            entry["service"] = {
                k: [a.value for a in svc.lines("Service") if a.key == k] for k in SERVICE_KEYS
            }
        out[str(f.relative_to(FIXTURES))] = entry
    return out


def main() -> None:
    args = sys.argv[1:]
    podman = "5.4"
    if args[:1] == ["--podman"] and len(args) >= 2:
        podman, args = args[1], args[2:]
    binary = os.environ.get("UNITGATE_QUADLET") or (args[0] if args else "")
    if not binary:
        sys.exit("usage: UNITGATE_QUADLET=/path/to/quadlet record.py [--podman 5.8]  (or pass the path)")
    data = record(binary, podman)
    out = expected_path(podman)
    out.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"recorded {len(data)} fixtures into {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
