"""Seeded random unit trees for the differential test.

`generate(seed, index)` returns a `Case`: a small filesystem root holding one service unit (plain
`foo.service`, dashed `foo-bar-baz.service`, or the template `foo@.service`) plus 0-4 drop-ins in the
directories systemd searches for it (and a few it does not), with random security directives drawn from
a weighted table, and syntax noise. The same (seed, index) always gives the same case, so a failure can
be reproduced from those two numbers alone.

Values are chosen to hit the parser and scoring corners of systemd 252: every boolean spelling and
invalid ones, empty assignments (resets), `~` lists, the v252 capability-set sentinel, allow/deny list
polarity, implied settings (DynamicUser=, PrivateDevices=, ProtectClock= ...), specifiers, drop-in
shadowing and masking, line continuations with comments inside, CRLF, BOMs and unknown keys/sections.
Nothing depends on the host: no host-specific specifiers (%H, %m, %b, %h, %T), no name lookups.
About 5% of cases deliberately make the unit fail to load.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEV_NULL = "/dev/null"

# Directories, highest priority first (a subset of systemd 252's system search path).
ETC = "etc/systemd/system"
RUN = "run/systemd/system"
USR = "usr/lib/systemd/system"
LIB = "lib/systemd/system"
LOCAL = "usr/local/lib/systemd/system"
CONTROL = "etc/systemd/system.control"

# ---------------------------------------------------------------------------------------------------
# Value generators

Gen = Callable[[random.Random], str]

TRUE_WORDS = ("1", "yes", "y", "true", "t", "on")
FALSE_WORDS = ("0", "no", "n", "false", "f", "off")
BAD_BOOLS = ("", "maybe", "2", '"yes"', "yes # inline comment", "ja", "-1", "yess", "o", "enable")


def _case_noise(rng: random.Random, word: str) -> str:
    r = rng.random()
    if r < 0.1:
        return word.upper()
    if r < 0.2:
        return word.title()
    return word


def boolean(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.47:
        return _case_noise(rng, rng.choice(TRUE_WORDS))
    if r < 0.9:
        return _case_noise(rng, rng.choice(FALSE_WORDS))
    return rng.choice(BAD_BOOLS)


def valid_boolean(rng: random.Random) -> str:
    words = TRUE_WORDS if rng.random() < 0.6 else FALSE_WORDS
    return _case_noise(rng, rng.choice(words))


def one_of(*values: str, weights: tuple[float, ...] | None = None) -> Gen:
    def gen(rng: random.Random) -> str:
        if weights:
            return rng.choices(values, weights)[0]
        return rng.choice(values)

    return gen


def word_list(pool: tuple[str, ...], lo: int, hi: int, tilde: float, extra: tuple[str, ...] = ()) -> Gen:
    """`[~]w1 w2 ...` with words from `pool`, or one of `extra` verbatim (10%)."""

    def gen(rng: random.Random) -> str:
        if extra and rng.random() < 0.1:
            return rng.choice(extra)
        n = rng.randint(lo, hi)
        words = [rng.choice(pool) for _ in range(n)]
        prefix = "~" if rng.random() < tilde else ""
        return prefix + " ".join(words)

    return gen


CAPS = (
    "CAP_SYS_ADMIN",
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SYS_PTRACE",
    "CAP_SYS_TIME",
    "CAP_NET_ADMIN",
    "CAP_SYS_RAWIO",
    "CAP_SYS_MODULE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_AUDIT_READ",
    "CAP_SYSLOG",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_MKNOD",
    "CAP_CHOWN",
    "CAP_FSETID",
    "CAP_SETFCAP",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_IPC_OWNER",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_RAW",
    "CAP_SYS_BOOT",
    "CAP_MAC_ADMIN",
    "CAP_MAC_OVERRIDE",
    "CAP_LINUX_IMMUTABLE",
    "CAP_IPC_LOCK",
    "CAP_SYS_CHROOT",
    "CAP_BLOCK_SUSPEND",
    "CAP_WAKE_ALARM",
    "CAP_LEASE",
    "CAP_SYS_TTY_CONFIG",
    "CAP_SYS_PACCT",
    "CAP_BPF",
    "CAP_PERFMON",
    "CAP_CHECKPOINT_RESTORE",
)
CAP_ODD = (
    "cap_sys_admin",
    "Cap_Net_Raw",
    "cap_setuid",
    "CAP_FOO_BAR",
    "CAP_ALL",
    "SYS_ADMIN",
    "21",  # CAP_SYS_ADMIN
    "0",  # CAP_CHOWN
    "7",  # CAP_SETUID
    "39",  # CAP_BPF
    "40",  # last known
    "41",  # past the name table
    "63",
    "64",
    "-1",
    "0x15",
    '"CAP_SYS_MODULE CAP_KILL"',
    "'CAP_KILL'",
)


def capabilities(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        return ""
    if r < 0.14:
        return "~"
    n = rng.randint(1, 4)
    words = [rng.choice(CAP_ODD) if rng.random() < 0.2 else rng.choice(CAPS) for _ in range(n)]
    return ("~" if rng.random() < 0.5 else "") + " ".join(words)


SYSCALL_WORDS = (
    "@system-service",
    "@mount",
    "@privileged",
    "@resources",
    "@swap",
    "@clock",
    "@debug",
    "@module",
    "@raw-io",
    "@reboot",
    "@obsolete",
    "@cpu-emulation",
    "@default",
    "@basic-io",
    "@chown",
    "@file-system",
    "@network-io",
    "@process",
    "@setuid",
    "@signal",
    "@sync",
    "@timer",
    "@aio",
    "@ipc",
    "@keyring",
    "@memlock",
    "@pkey",
    "@sandbox",
    "@io-event",
    "@bogus-group",
    "chown",
    "reboot",
    "ptrace",
    "mount",
    "swapon",
    "swapoff",
    "init_module",
    "ioperm",
    "iopl",
    "kexec_load",
    "adjtimex",
    "modify_ldt",
    "ioprio_set",
    "umount",
    "umount2",
    "chown32",
    "setuid",
    "bpf",
    "perf_event_open",
    "bogus_call",
)
ERRNOS = (":EPERM", ":ENOSYS", ":EACCES", ":EBOGUS", ":1", ":0", ":kill", ":4096")


def syscall_filter(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        return ""
    if r < 0.14:
        return rng.choice(("@known", "~@known", "@system-service @known"))
    invert = rng.random() < 0.5
    words = []
    for _ in range(rng.randint(1, 4)):
        w = rng.choice(SYSCALL_WORDS)
        if rng.random() < (0.25 if invert else 0.05):
            w += rng.choice(ERRNOS)
        words.append(w)
    return ("~" if invert else "") + " ".join(words)


FAMILIES = (
    "AF_UNIX",
    "AF_INET",
    "AF_INET6",
    "AF_NETLINK",
    "AF_PACKET",
    "AF_BLUETOOTH",
    "AF_CAN",
    "AF_VSOCK",
    "af_unix",
    "Af_Inet6",
    "AF_BOGUS",
    "none",
)


def address_families(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        return ""
    if r < 0.2:
        return "none"
    words = [rng.choice(FAMILIES) for _ in range(rng.randint(1, 3))]
    return ("~" if rng.random() < 0.45 else "") + " ".join(words)


NAMESPACES = ("cgroup", "ipc", "net", "mnt", "pid", "user", "uts", "time", "bogus")


def namespaces(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        return ""
    if r < 0.35:
        return rng.choice(("yes", "no", "true", "off", "1", "No", "~", "maybe"))
    words = [rng.choice(NAMESPACES[:-1]) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.08:
        words.append("bogus")
    return ("~" if rng.random() < 0.45 else "") + " ".join(words)


def ip_deny(rng: random.Random) -> str:
    return rng.choices(
        (
            "any",
            "0.0.0.0/0",
            "::/0",
            "0.0.0.0/0 ::/0",
            "::/0 0.0.0.0/0",
            "localhost",
            "",
            "10.0.0.0/8",
            "link-local",
            "multicast",
            "bogus",
            "any bogus",
            "0.0.0.0/1",
            "ANY",
        ),
        (10, 3, 3, 3, 1, 2, 3, 1, 1, 1, 1, 1, 1, 1),
    )[0]


def ip_allow(rng: random.Random) -> str:
    return rng.choice(
        (
            "localhost",
            "127.0.0.1",
            "127.0.0.1/32",
            "127.0.0.0/8",
            "::1",
            "::1/128",
            "10.0.0.0/8",
            "",
            "link-local",
            "192.168.1.1/16",
            "localhost 10.1.2.3",
            "127.1.2.3/4",
            "::1/64",
            "any",
            "multicast",
            "localhost.localdomain",
            "foo.localhost",
            "127.0.0.1/0",
        )
    )


def device_allow(rng: random.Random) -> str:
    return rng.choice(
        (
            "/dev/null rw",
            "/dev/zero r",
            "char-pts",
            "block-loop rwm",
            "/dev/sda rwx",
            "",
            "char-rtc",
            "/dev/bogus m",
            "/dev/null",
            "char-* rw",
            "block-sd r",
            "/dev/tty w",
            "/dev/fuse mrw",
            "relative rw",
            "/dev/kvm wr",
        )
    )


def umask(rng: random.Random) -> str:
    return rng.choice(
        (
            "0022",
            "022",
            "22",
            "0077",
            "077",
            "0027",
            "0000",
            "0",
            "0002",
            "0007",
            "0777",
            "7777",
            "07777",
            "0o77",
            "0800",
            "-022",
            "",
            "0020",
            "0040",
            "0004",
            "0070",
            "0026",
        )
    )


USER_OK = ("root", "0", "nobody", "daemon", "foo", "%i", "", "65534", "1000", "%u", "%U", "bar", "NOBODY")
USER_ODD = ("a b", "-bad", "@x", "systemd-network", "u.ser", "a% b", "50%-off")
# %z: unknown specifier. (%q and the like would expand to host data, so they are not used.)
USER_FATAL = ("00", "a:b", "a/b", "..", "65535", "4294967295", "%z")


def user(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.85:
        return rng.choice(USER_OK)
    if r < 0.95:
        return rng.choice(USER_ODD)
    return rng.choice(USER_FATAL)  # fatal: stops a drop-in here


def dynamic_user(rng: random.Random) -> str:
    return valid_boolean(rng) if rng.random() < 0.97 else rng.choice(("", "maybe"))  # invalid is fatal


@dataclass(frozen=True)
class Directive:
    weight: float
    key: str
    gen: Gen
    section: str = "Service"


BOOL_KEYS = (
    "NoNewPrivileges",
    "PrivateDevices",
    "PrivateNetwork",
    "ProtectKernelModules",
    "ProtectKernelTunables",
    "ProtectKernelLogs",
    "ProtectClock",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "RemoveIPC",
)


def mode(*words: str) -> Gen:
    """A boolean most of the time, else one of the mode words later releases added (or a bad one)."""

    def gen(rng: random.Random) -> str:
        return boolean(rng) if rng.random() < 0.55 else _case_noise(rng, rng.choice(words))

    return gen


# Values added after 252 (and near misses): each release accepts a different subset.
MODE_KEYS = (
    ("PrivateTmp", ("connected", "disconnected", "bogus")),
    ("PrivateUsers", ("self", "identity", "full", "managed", "bogus")),
    ("ProtectControlGroups", ("private", "strict", "bogus")),
    (
        "ProtectHostname",
        ("private", "private:foo", "private:%N", "yes:foo", "no:foo", "private:-bad", "private:", "priv"),
    ),
)
WORKING_DIRECTORIES = ("~", "-~", "/proc/self", "/sys", "/dev/shm", "-/proc/x", "/srv", "/devices", "", "-")


DIRECTIVES: tuple[Directive, ...] = (
    *(Directive(2.0, k, boolean) for k in BOOL_KEYS),
    *(Directive(2.0, k, mode(*words)) for k, words in MODE_KEYS),
    Directive(1.2, "WorkingDirectory", one_of(*WORKING_DIRECTORIES)),
    Directive(0.6, "PrivatePIDs", boolean),
    Directive(0.5, "PAMName", one_of("login", "", "other")),
    Directive(0.7, "KillMode", one_of("control-group", "mixed", "process", "none", "")),
    Directive(0.8, "ReadWritePaths", one_of("/var/lib/foo", "", "-/srv/x")),
    Directive(0.4, "SetCredentialEncrypted", one_of("foo:Zm9v", "")),
    Directive(0.3, "RootMStack", one_of("/srv/stack", "", "relative")),
    Directive(0.3, "StateDirectory", one_of("foo", "", "foo bar")),
    Directive(0.3, "MountAPIVFS", one_of("yes", "no", "")),
    Directive(0.2, "BindLogSockets", one_of("yes", "no", "")),
    Directive(0.2, "LogNamespace", one_of("foo", "")),
    # Not scored, but systemd warns about bad values: the warnings are compared too.
    Directive(
        0.4, "Documentation", one_of("man:foo(8)", "https://example.org", "foo", "http://", ""), "Unit"
    ),
    Directive(0.4, "Environment", one_of("A=1", "A=1 B", "1A=x", '"A=b c"', "=x", "", "A=%i")),
    Directive(0.3, "EnvironmentFile", one_of("/etc/default/foo", "-/etc/x", "relative", "-rel", "")),
    Directive(0.3, "ConditionPathExists", one_of("/etc/foo", "!/run/x", "|rel", "", "/a/../b"), "Unit"),
    Directive(0.3, "LimitNOFILE", one_of("1024", "1024:4096", "infinity", "lots", "1K", "")),
    Directive(0.2, "LimitCPU", one_of("10", "5min", "infinity:10s", "x")),
    Directive(0.3, "TimeoutStopSec", one_of("5", "5s", "1min 30s", "infinity", "fast", "", "5x")),
    Directive(0.3, "CPUQuota", one_of("50%", "0%", "150%", "half", "", "12.5%")),
    Directive(
        0.3, "StandardOutput", one_of("journal", "syslog", "syslog+console", "file:/var/log/x", "bogus")
    ),
    Directive(1.5, "PrivateMounts", lambda r: boolean(r) if r.random() < 0.85 else ""),
    Directive(3.0, "User", user),
    Directive(2.0, "DynamicUser", dynamic_user),
    Directive(
        1.5, "SupplementaryGroups", one_of("", "wheel", "adm wheel", "%i", "video audio", "0", "bad:grp")
    ),
    Directive(
        2.0,
        "ProtectSystem",
        one_of("no", "yes", "full", "strict", "true", "false", "on", "0", "Strict", "FULL", "", "read-only"),
    ),
    Directive(
        2.0,
        "ProtectHome",
        one_of("no", "yes", "read-only", "tmpfs", "true", "off", "Y", "0", "ReadOnly", "", "strict"),
    ),
    Directive(
        1.5, "ProtectProc", one_of("default", "noaccess", "invisible", "ptraceable", "yes", "", "Invisible")
    ),
    Directive(1.0, "ProcSubset", one_of("all", "pid", "PID", "", "yes")),
    Directive(1.0, "KeyringMode", one_of("inherit", "private", "shared", "Private", "", "none")),
    Directive(1.0, "NotifyAccess", one_of("none", "main", "exec", "all", "All", "", "yes")),
    Directive(3.0, "CapabilityBoundingSet", capabilities),
    Directive(1.5, "AmbientCapabilities", capabilities),
    Directive(3.0, "SystemCallFilter", syscall_filter),
    Directive(
        1.5, "SystemCallArchitectures", one_of("native", "x86-64", "native x86", "", "bogus", "x86 x32")
    ),
    Directive(2.5, "RestrictAddressFamilies", address_families),
    Directive(2.5, "RestrictNamespaces", namespaces),
    Directive(2.0, "IPAddressDeny", ip_deny),
    Directive(2.0, "IPAddressAllow", ip_allow),
    Directive(0.3, "IPIngressFilterPath", one_of("/sys/fs/bpf/foo", "")),
    Directive(0.2, "IPEgressFilterPath", one_of("/sys/fs/bpf/bar", "")),
    Directive(2.0, "DevicePolicy", one_of("auto", "closed", "strict", "Closed", "", "yes")),
    Directive(2.0, "DeviceAllow", device_allow),
    Directive(
        1.0, "Delegate", one_of("yes", "no", "", "cpu memory", "bogus", "pids io", "true", "0", "cpu bogus")
    ),
    Directive(1.5, "UMask", umask),
    Directive(
        1.0, "RootDirectory", one_of("", "/", "/srv/root", "/srv/%i", "/var/lib/machines/x", "relative")
    ),
    Directive(0.7, "RootImage", one_of("", "/img.raw", "/srv/%i.raw", "/")),
    Directive(0.5, "MountImages", one_of("/img.raw:/mnt", "", "/img.raw", "img.raw:/mnt", "-/img.raw:/m:ro")),
    Directive(0.5, "LoadCredentialEncrypted", one_of("foo:/etc/creds/foo", "", "foo", "bad/x:/x", "foo:bar")),
    Directive(1.5, "DefaultDependencies", boolean, section="Unit"),
    Directive(0.8, "Type", one_of("simple", "exec", "forking", "oneshot", "notify", "idle", "bogus", "")),
    Directive(0.3, "WatchdogSec", one_of("5", "0", "")),
    Directive(0.2, "FileDescriptorStoreMax", one_of("5", "0")),
    Directive(0.3, "NetworkNamespacePath", one_of("/run/netns/foo", "")),
    Directive(0.6, "FooBar", one_of("yes", "")),  # unknown key
    Directive(0.3, "X-Unitgate", one_of("1")),  # ignored silently
    Directive(0.3, "privatetmp", one_of("yes")),  # keys are case-sensitive: unknown
    Directive(0.3, "NoNewPrivileges", valid_boolean, section="Unit"),  # wrong section: unknown key
    Directive(0.3, "Description", one_of("test unit", "%n %i"), section="Unit"),
)
_WEIGHTS = tuple(d.weight for d in DIRECTIVES)


def pick_directive(rng: random.Random) -> Directive:
    return rng.choices(DIRECTIVES, _WEIGHTS)[0]


# ---------------------------------------------------------------------------------------------------
# Rendering one file


@dataclass
class Section:
    name: str
    assignments: list[tuple[str, str]] = field(default_factory=list)


def _render_assignment(rng: random.Random, key: str, value: str) -> list[str]:
    """One assignment as physical lines: plain, with whitespace noise, or continued."""
    r = rng.random()
    if key == "ExecStart":  # keep the command itself intact
        r = min(r, 0.8)
    if r < 0.72:
        return [f"{key}={value}"]
    if r < 0.84:
        pad = rng.choice((" ", "  ", "\t", " \t"))
        return [f"{rng.choice(('', pad))}{key}{rng.choice(('', pad))}={rng.choice(('', pad))}{value}{pad}"]
    comments = [rng.choice(("# inside", "; inside", "  # indented", "#\\")) for _ in range(rng.randint(0, 2))]
    words = value.split(" ")
    kind = rng.random()
    if kind < 0.35 or not value:
        return [f"{key}=\\", *comments, f"{rng.choice(('', ' ', '  '))}{value}"]
    if kind < 0.7 and len(words) > 1:
        k = rng.randint(1, len(words) - 1)
        head, tail = " ".join(words[:k]), " ".join(words[k:])
        return [f"{key}={head}{rng.choice(('', ' '))}\\", *comments, f"{rng.choice(('', ' '))}{tail}"]
    if kind < 0.8:
        return [f"{key}\\", *comments, f"={value}"]
    if kind < 0.9 and len(value) > 1:
        k = rng.randint(1, len(value) - 1)  # mid-word: the backslash becomes a space
        return [f"{key}={value[:k]}\\", *comments, value[k:]]
    return [f"{key}={value}", *comments]


def render(rng: random.Random, sections: list[Section], *, noise: bool = True) -> bytes:
    lines: list[str] = []
    if noise and rng.random() < 0.3:
        lines.append(
            rng.choice(("# generated by unitgate's differential test", "; a comment", "  # indented"))
        )
    if noise and rng.random() < 0.04:
        lines.append("X-Before-Section=1")  # assignment outside of any section
    for sec in sections:
        lines.append(f"[{sec.name}]")
        for key, value in sec.assignments:
            if noise and rng.random() < 0.08:
                lines.append(rng.choice(("# comment", "; comment", "", "   ", "# comment ending in \\")))
            lines.extend(_render_assignment(rng, key, value) if noise else [f"{key}={value}"])
        if noise and rng.random() < 0.15:
            lines.append("")
    r = rng.random() if noise else 1.0
    eol = "\r\n" if r < 0.06 else "\r" if r < 0.07 else "\n"
    text = eol.join(lines)
    if not noise or rng.random() < 0.9:
        text += eol
    data = text.encode()
    if noise and rng.random() < 0.02:
        data = b"\xef\xbb\xbf" + data
    return data


# ---------------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    seed: int
    index: int
    unit_file: str  # root-relative path of the unit file that systemd loads
    files: dict[str, bytes] = field(default_factory=dict)  # root-relative path -> contents
    links: dict[str, str] = field(default_factory=dict)  # root-relative path -> symlink target
    note: str = ""  # what the generator deliberately did (e.g. "refusal: no ExecStart")

    @property
    def unit_name(self) -> str:
        return self.unit_file.rsplit("/", 1)[1]

    def write(self, root: Path) -> None:
        for rel, data in self.files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        for rel, target in self.links.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.symlink_to(target)

    def dump(self) -> str:
        """Every file, in a form that shows invisible bytes (CR, BOM, tabs, trailing spaces)."""
        out = [
            f"# case seed={self.seed} index={self.index} unit={self.unit_file}"
            + (f" ({self.note})" if self.note else "")
        ]
        for rel in sorted({*self.files, *self.links}):
            if rel in self.links:
                out.append(f"--- {rel} -> {self.links[rel]}")
                continue
            data = self.files[rel]
            out.append(f"--- {rel} ({len(data)} bytes)")
            text = data.decode("utf-8", "backslashreplace")
            text = text.replace("\ufeff", "<BOM>").replace("\r", "<CR>").replace("\t", "<TAB>")
            out.extend(line + ("$" if line.endswith(" ") else "") for line in text.split("\n"))
        return "\n".join(out)


BASES = (("foo.service", 0.4), ("foo-bar-baz.service", 0.3), ("foo@.service", 0.27), ("nobody.service", 0.03))
CONF_NAMES = ("10-a.conf", "20-b.conf", "50-override.conf", "override.conf", "99-z.conf", "00-first.conf")


def dropin_dirs(unit: str) -> list[tuple[str, float]]:
    """Drop-in directory names to draw from for `unit`: the applicable ones and a few that are not."""
    stem = unit.removesuffix(".service")
    dirs = [(f"{unit}.d", 5.0), ("service.d", 1.5), ("foo@.service.d", 1.0), ("foo.service.d", 1.0)]
    dirs += [("foo-.service.d", 1.5), ("foo-bar-.service.d", 1.5), ("bar.service.d", 0.3)]
    if stem.endswith("@"):
        dirs += [(f"{stem}i.service.d", 1.5), ("foo@x.service.d", 0.3), ("foo-@.service.d", 0.3)]
    seen: dict[str, float] = {}
    for d, w in dirs:
        seen[d] = seen.get(d, 0.0) + w
    return list(seen.items())


def _assignments(rng: random.Random, n: int, *, allow_fatal: bool, template: bool = True) -> list[Section]:
    service = Section("Service")
    unit = Section("Unit")
    for _ in range(n):
        d = pick_directive(rng)
        # Twice in a row now and then: a reset-then-set pair is the common drop-in idiom.
        for _ in range(2 if rng.random() < 0.12 else 1):
            value = d.gen(rng)
            if not allow_fatal:
                value = _defuse(d.key, value, rng, template)
            (unit if d.section == "Unit" else service).assignments.append((d.key, value))
    sections = [s for s in (unit, service) if s.assignments]
    if len(service.assignments) > 2 and rng.random() < 0.15:  # split into a repeated [Service]
        k = rng.randint(1, len(service.assignments) - 1)
        tail = Section("Service", service.assignments[k:])
        del service.assignments[k:]
        sections.append(tail)
    if rng.random() < 0.05:
        sections.append(Section(rng.choice(("X-Foo", "Bogus", "service")), [("PrivateTmp", "yes")]))
    if rng.random() < 0.05:
        sections.append(Section("Install", [("WantedBy", "multi-user.target")]))
    return sections


def _defuse(key: str, value: str, rng: random.Random, template: bool) -> str:
    """Replace values that make the main unit fail to load (those are only used on purpose)."""
    if key in ("User", "SupplementaryGroups") and "%i" in value and not template:
        return "daemon"  # %i is empty outside a template, and an empty name is refused
    if key == "User" and value in USER_FATAL:
        return rng.choice(USER_OK)
    if key == "DynamicUser" and value in ("", "maybe"):
        return "yes"
    if key == "SupplementaryGroups" and value == "bad:grp":
        return "wheel"
    if key in ("RootDirectory", "RootMStack") and value == "relative":
        return "/srv/root"
    return value


def _refusal(rng: random.Random, base: list[Section]) -> tuple[str, bytes | None]:
    """Damage the base unit so that systemd refuses it (most of the time)."""
    service = next(s for s in base if s.name == "Service")
    kind = rng.choice(
        (
            "no ExecStart",
            "User=00",
            "DynamicUser=maybe",
            "RootDirectory=relative",
            "SupplementaryGroups=a:b",
            "bad header",
            "invalid UTF-8",
            "empty file",
            "Type=dbus",
            "two ExecStart",
            "ExecStart reset",
            "DynamicUser with WorkingDirectory=~",
            "WorkingDirectory under /proc",
            "PrivateUsers=managed with User=",
            "PAMName= with KillMode=process",
            "PrivatePIDs= with PAMName=",
        )
    )
    if kind == "no ExecStart":
        service.assignments = [a for a in service.assignments if a[0] != "ExecStart"]
    elif kind == "bad header":
        return f"refusal: {kind}", render(rng, base).replace(b"[Service]", b"[Service", 1)
    elif kind == "invalid UTF-8":
        return f"refusal: {kind}", render(rng, base) + b"Description=caf\xe9\n"
    elif kind == "empty file":
        return f"refusal: {kind}", b""
    elif kind == "Type=dbus":
        service.assignments.append(("Type", "dbus"))
    elif kind == "two ExecStart":
        service.assignments.append(("ExecStart", "/bin/false"))
    elif kind == "ExecStart reset":
        service.assignments.append(("ExecStart", ""))
    elif kind in _COMBINED_REFUSALS:  # refused by some releases only
        service.assignments += _COMBINED_REFUSALS[kind]
    else:
        key, value = kind.split("=", 1)
        service.assignments.insert(rng.randint(0, len(service.assignments)), (key, value))
    return f"refusal: {kind}", None


_COMBINED_REFUSALS = {
    "DynamicUser with WorkingDirectory=~": [("DynamicUser", "yes"), ("WorkingDirectory", "~")],
    "WorkingDirectory under /proc": [("WorkingDirectory", "/proc/1"), ("ProtectSystem", "full")],
    "PrivateUsers=managed with User=": [("PrivateUsers", "managed"), ("User", "daemon")],
    "PAMName= with KillMode=process": [("PAMName", "login"), ("KillMode", "process")],
    "PrivatePIDs= with PAMName=": [("PrivatePIDs", "yes"), ("PAMName", "login")],
}


def _dropin_extras(rng: random.Random, sections: list[Section]) -> None:
    """Rare drop-in-only content: ExecStart= changes, Type=dbus with/without BusName=, fatal lines."""
    service = next((s for s in sections if s.name == "Service"), None)
    if service is None:
        service = Section("Service")
        sections.append(service)
    r = rng.random()
    if r < 0.02:
        service.assignments += [("ExecStart", ""), ("ExecStart", "/bin/false")]
    elif r < 0.025:
        service.assignments.append(("ExecStart", "/bin/false"))  # a second ExecStart=: refused unless oneshot
    elif r < 0.03:
        service.assignments.append(("ExecStart", ""))  # no ExecStart left unless a later drop-in adds one
    elif r < 0.04:
        bus = rng.choice(("org.example.Foo", "org.example.Foo", ":1.2", "foo", "org..x", "org.1x", ""))
        service.assignments += [("Type", "dbus"), ("BusName", bus)]
    elif r < 0.042:
        service.assignments.append(("Type", "dbus"))


def generate(seed: int, index: int) -> Case:
    rng = random.Random(f"unitgate-differential:{seed}:{index}")
    unit = rng.choices([b[0] for b in BASES], [b[1] for b in BASES])[0]
    base_dir = rng.choices((USR, ETC, LIB, RUN), (5, 4, 1, 1))[0]
    case = Case(seed, index, f"{base_dir}/{unit}")

    base = _assignments(rng, rng.randint(0, 8), allow_fatal=False, template="@" in unit)
    service = next((s for s in base if s.name == "Service"), None)
    if service is None:
        service = Section("Service")
        base.append(service)
    service.assignments.insert(rng.randint(0, len(service.assignments)), ("ExecStart", "/bin/true"))
    if rng.random() < 0.3:
        base.insert(0, Section("Unit", [("Description", "differential test unit")]))

    raw: bytes | None = None
    if rng.random() < 0.05:
        case.note, raw = _refusal(rng, base)
    case.files[case.unit_file] = raw if raw is not None else render(rng, base)

    if rng.random() < 0.08:  # a lower-priority copy of the unit, which systemd must ignore
        order = [ETC, RUN, LOCAL, LIB, USR]
        lower = order[order.index(base_dir) + 1 :]
        if lower:
            decoy = [
                Section("Service", [("ExecStart", "/bin/true"), ("PrivateNetwork", "yes"), ("User", "decoy")])
            ]
            case.files[f"{rng.choice(lower)}/{unit}"] = render(rng, decoy, noise=False)

    dirs = dropin_dirs(unit)
    if "@" not in unit and rng.random() < 0.06:  # an alias: its drop-ins apply to the unit too
        target = rng.choice((unit, f"/{case.unit_file}"))
        case.links[f"{rng.choice((ETC, base_dir))}/bar.service"] = target
        dirs = [*dirs, ("bar.service.d", 4.0)]
    for _ in range(rng.choices((0, 1, 2, 3, 4), (2, 4, 4, 3, 2))[0]):
        d = rng.choices([d for d, _ in dirs], [w for _, w in dirs])[0]
        where = rng.choices((ETC, RUN, USR, LIB, LOCAL, CONTROL), (5, 3, 5, 1, 1, 0.3))[0]
        name = rng.choice(CONF_NAMES)
        if rng.random() < 0.02:
            name = rng.choice((".hidden.conf", "README", "x.conf~", "y.conf.bak", "z.CONF"))
        rel = f"{where}/{d}/{name}"
        if rel in case.files or rel in case.links:
            continue
        r = rng.random()
        if r < 0.03:
            case.files[rel] = b""  # masks same-named drop-ins of lower priority
            continue
        if r < 0.05:
            case.links[rel] = DEV_NULL
            continue
        sections = _assignments(rng, rng.randint(1, 6), allow_fatal=True)
        _dropin_extras(rng, sections)
        data = render(rng, sections)
        r = rng.random()
        if r < 0.01:
            data = data.replace(b"[Service]", b"[Service", 1)  # stops parsing this drop-in
        elif r < 0.02:
            data += b"Description=caf\xe9\nNoNewPrivileges=yes\n"  # invalid UTF-8: stops this drop-in
        case.files[rel] = data
    return case


if __name__ == "__main__":  # python -m tests.differential.generator SEED INDEX
    import sys

    print(generate(int(sys.argv[1]), int(sys.argv[2])).dump())
