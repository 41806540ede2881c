"""Random `.container` files with drop-ins, run through a release's quadlet binary and through unitgate:
accept/refuse and the ExecStart arguments (as multisets; quadlet's map order varies) must agree.

    UNITGATE_QUADLET=/path/quadlet python tests/quadlet/differential.py [--podman 5.8] [--cases 3000]

Each case is its own little filesystem root (`etc/containers/systemd` holds the unit,
`usr/share/containers/systemd` competing drop-ins, a subdirectory a `.network`/`.pod` it may name), so
directory priority, drop-in name precedence and subdirectory search are exercised too. Each case runs
in its own `quadlet -dryrun` call.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from unitgate.analysis import LoadState
from unitgate.quadlet.dropins import detect_layout, search_dirs
from unitgate.quadlet.engine import inspect_container
from unitgate.quadlet.parser import EXEC_FLAGS, parse_text, split_words
from unitgate.quadlet.releases import NEW_CONTAINER_KEYS_5_8, release

# (key, value candidates). Values mix the ordinary, the security-relevant and the parser's corners
# (quotes, escapes, empty resets).
VALUES: dict[str, tuple[str, ...]] = {
    "Image": ("docker.io/library/alpine:3", "quay.io/x/y", "alpine", '"quay.io/q/r:1"', ""),
    "User": ("1000", "0", "root", "app", '"1000"', ""),
    "Group": ("1000", "0", ""),
    "UserNS": ("auto", "keep-id", "host", "nomap", ""),
    "Network": ("host", "none", "bridge", "slirp4netns", "NETREF", "pasta:-T,8080", ""),
    "PublishPort": ("8080:80", "127.0.0.1:8080:80", "[::1]:53:53/udp", "10.0.0.1:443:443", ""),
    "Volume": (
        "/:/host:ro",
        "/etc:/host-etc",
        "/run/podman/podman.sock:/var/run/docker.sock",
        "%t/podman/podman.sock:/sock",
        "%h/data:/data:Z",
        "data:/data",
        "./rel:/rel",
        "/srv/a b:/b",
        "/tmp",
        "",
    ),
    "Mount": (
        "type=bind,source=/var/lib/x,destination=/x,ro=true",
        "type=tmpfs,destination=/cache",
        "type=volume,source=v1,destination=/v",
        "source=/opt,destination=/opt",
        "type=bind,destination=/nosrc",
        '"type=bind,source=/a,destination=/b"',
    ),
    "AddCapability": ("CAP_SYS_ADMIN", "NET_ADMIN", "cap_net_raw CAP_CHOWN", "ALL", ""),
    "DropCapability": ("all", "ALL", "CAP_NET_RAW", "CAP_CHOWN CAP_FOWNER", ""),
    "NoNewPrivileges": ("true", "yes", "false", "y", "1", '"true"'),
    "ReadOnly": ("true", "false", "on"),
    "ReadOnlyTmpfs": ("true", "false"),
    "SeccompProfile": ("unconfined", "/etc/seccomp.json", ""),
    "SecurityLabelDisable": ("true", "false"),
    "SecurityLabelType": ("spc_t", "container_t", ""),
    "SecurityLabelNested": ("true",),
    "AddDevice": ("/dev/fuse", "/dev/sda:/dev/sda:rwm", "-/dev/nonexistent-ug", "/dev/kvm", ""),
    "Unmask": ("ALL", "/proc/kcore", ""),
    "Mask": ("/proc/acpi", ""),
    "Sysctl": ("net.ipv4.ip_forward=1", "kernel.msgmax=65536", ""),
    "EnvironmentHost": ("true", "false"),
    "GroupAdd": ("keep-groups", "wheel", ""),
    "Environment": ("A=1", "B=two words", '"C=quoted value"', "BARE", "D=1 BARE2", "E=\\q", ""),
    "Label": ("l=1", "m", ""),
    "Annotation": ("a=b", ""),
    "PodmanArgs": (
        "--privileged",
        "--pid=host",
        "--ipc host",
        "--security-opt apparmor=unconfined",
        "--cap-add=SYS_PTRACE",
        "--network=host",
        "-v /var/run/docker.sock:/var/run/docker.sock",
        "--userns=host",
        "",
    ),
    "Exec": ("sleep infinity", '/bin/sh -c "echo hi"', "bad\\q", ""),
    "Entrypoint": ("/bin/sh", '""', ""),
    "HostName": ("web", '"quoted" "twice"', ""),
    "ContainerName": ("named", ""),
    "Pod": ("PODREF", "nopod.pod", "notapod", ""),
    "Timezone": ("local", ""),
    "Notify": ("true", "healthy", "false"),
    "LogDriver": ("journald", ""),
    "PidsLimit": ("100", ""),
    "Tmpfs": ("/run", ""),
    "RunInit": ("true", "false"),
    "StopTimeout": ("5", ""),
    "Ulimit": ("nofile=1024:1024", ""),
    "AppArmor": ("unconfined", "my-profile", '"quoted"', ""),
    "Memory": ("512m", ""),
    "ReloadCmd": ("/bin/kill -HUP 1", "bad\\q", ""),
    "ReloadSignal": ("SIGHUP", ""),
    "Retry": ("3", ""),
    "RetryDelay": ("5s", ""),
    "HttpProxy": ("false", "true"),
    "NotAKey": ("x",),
}
KEYS_5_4 = tuple(k for k in VALUES if k not in NEW_CONTAINER_KEYS_5_8 and k != "NotAKey")
KEYS_NEW = tuple(sorted(NEW_CONTAINER_KEYS_5_8))


@dataclass(frozen=True)
class Case:
    index: int
    root: Path  # the case's filesystem root
    unit: Path  # its .container
    rootless: bool


def _lines(rng: random.Random, keys: tuple[str, ...], n: int, i: int) -> list[str]:
    out = []
    for key in rng.sample(keys, min(n, len(keys))):
        v = rng.choice(VALUES[key])
        v = v.replace("NETREF", f"n{i}.network").replace("PODREF", f"p{i}.pod")
        out.append(f"{key}={v}")
    return out


def make_case(rng: random.Random, base: Path, i: int, podman: str) -> Case:
    """One random case under base/<i>: a rootful tree (sometimes a rootless home instead)."""
    rootless = rng.random() < 0.25
    root = base / f"r{i}"
    if rootless:
        primary = root / "home/u/.config/containers/systemd"
        secondary = root / "etc/containers/systemd/users"
    else:
        primary = root / "etc/containers/systemd"
        secondary = root / "usr/share/containers/systemd"
    primary.mkdir(parents=True)
    secondary.mkdir(parents=True)
    keys = KEYS_5_4 + (KEYS_NEW * 2 if podman != "5.4" or rng.random() < 0.3 else ())
    name = f"c{i}-app.container"
    body = [
        "[Container]",
        f"Image={rng.choice(VALUES['Image'][:3])}",
        *_lines(rng, keys, rng.randint(2, 9), i),
    ]
    if rng.random() < 0.1:
        body.append(f"NotAKey{rng.randint(0, 1)}=x" if rng.random() < 0.5 else "")
    if rng.random() < 0.15:
        body += [
            "[Service]",
            rng.choice(["User=nobody", "Restart=always", "KillMode=process", "Type=simple"]),
        ]
    if rng.random() < 0.15:
        body += [
            "[Unit]",
            rng.choice([f"Requires=n{i}.network", "Wants=nothere.container", "After=x.service"]),
        ]
    (primary / name).write_text("\n".join(body) + "\n")
    # referenced files, in a subdirectory (quadlet searches subdirectories)
    sub = primary / rng.choice(["", "net", "deep/er"])
    sub.mkdir(parents=True, exist_ok=True)
    if rng.random() < 0.8:
        (sub / f"n{i}.network").write_text("[Network]\n")
    if rng.random() < 0.8:
        pod = ["[Pod]", *(["Network=host"] if rng.random() < 0.3 else [])]
        if podman != "5.4" and rng.random() < 0.3:
            pod.append("HostName=podhost")
        (sub / f"p{i}.pod").write_text("\n".join(pod) + "\n")
    # drop-ins: same .conf names at different specificity in both directories
    for d in (primary, secondary):
        for dname in rng.sample([f"{name}.d", f"c{i}-.container.d"], rng.randint(0, 2)):
            dd = d / dname
            dd.mkdir(exist_ok=True)
            for conf in rng.sample(["10-a.conf", "20-b.conf", "30-c.conf"], rng.randint(1, 2)):
                lines = ["[Container]", *_lines(rng, keys, rng.randint(1, 3), i)]
                (dd / conf).write_text("\n".join(lines) + "\n")
    return Case(i, root, primary / name, rootless)


def _services(stdout: str) -> dict[str, str]:
    blocks = re.split(r"^---(.+?)---$", stdout, flags=re.M)
    return {os.path.basename(blocks[i]): blocks[i + 1] for i in range(1, len(blocks) - 1, 2)}


def _exec_start(text: str) -> list[str]:
    svc = parse_text(text, "svc")
    last = next((a.value for a in reversed(svc.lines("Service")) if a.key == "ExecStart"), "")
    return split_words(last, EXEC_FLAGS)


@dataclass
class Result:
    cases: int = 0
    accept_agree: int = 0
    argv_compared: int = 0
    argv_agree: int = 0
    accepted: int = 0


def run(binary: str, podman: str, n: int, seed: int, show: int = 5) -> tuple[Result, list[str]]:
    rng = random.Random(seed)
    res = Result()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ug-qdiff-") as tmp:
        cases = [make_case(rng, Path(tmp), i, podman) for i in range(n)]
        for c in cases:
            # one binary run per case: quadlet 5.4.2 panics on some inputs (a Mount= without a
            # source), which would lose every other case of a shared run
            dirs = search_dirs(detect_layout(str(c.unit)))
            env = {"PATH": os.environ.get("PATH", ""), "QUADLET_UNIT_DIRS": ":".join(dirs)}
            cmd = [binary, "-dryrun"] + (["-user"] if c.rootless else [])
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False).stdout
            services = _services(out)
            theirs = services.get(c.unit.name.removesuffix(".container") + ".service")
            ins = inspect_container(str(c.unit), podman=podman, device_exists=os.path.exists)
            ours_ok = ins.analysis.state is LoadState.LOADED
            res.cases += 1
            res.accepted += theirs is not None
            if ours_ok == (theirs is not None):
                res.accept_agree += 1
            elif len(problems) < show:
                why = "; ".join(d.message for d in ins.analysis.diagnostics)[:300]
                problems.append(f"ACCEPT {c.unit}: quadlet={theirs is not None} unitgate={ours_ok} {why}")
            if theirs is not None and ours_ok and ins.conversion is not None:
                res.argv_compared += 1
                # what systemd runs: the generated ExecStart= text split again (an empty word, such as
                # `LogDriver=`'s, vanishes in both)
                ours_text = next(a.value for a in ins.conversion.service if a.key == "ExecStart")
                mine = Counter(split_words(ours_text, EXEC_FLAGS))
                want = Counter(_exec_start(theirs))
                if mine == want:
                    res.argv_agree += 1
                elif len(problems) < show:
                    problems.append(f"ARGV {c.unit}: only quadlet={want - mine} only unitgate={mine - want}")
    return res, problems


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--podman", default="5.4", choices=["5.4", "5.8"])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--binary", default=os.environ.get("UNITGATE_QUADLET", ""))
    args = ap.parse_args()
    if not args.binary:
        sys.exit("set UNITGATE_QUADLET or --binary to the quadlet binary of that release")
    res, problems = run(args.binary, args.podman, args.cases, args.seed, show=20)
    print(
        f"podman {release(args.podman).reference} random differential (seed {args.seed}): "
        f"accept/refuse {res.accept_agree}/{res.cases} (quadlet accepted {res.accepted}), "
        f"ExecStart argv {res.argv_agree}/{res.argv_compared}"
    )
    for p in problems:
        print(" ", p)


if __name__ == "__main__":
    main()
