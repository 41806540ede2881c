"""The unit state the parsers fill in, what a parser returns, and the helpers every parser shares."""

from __future__ import annotations

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable

from unitgate.model import Assignment, Diagnostic, Location, Severity
from unitgate.records import dataclass, field
from unitgate.security import names
from unitgate.security.releases import SYSTEMD_252, Release
from unitgate.security.words import UnitContext

# Diagnostic codes (the gate maps them to rule ids).
UNKNOWN_KEY = "UG-KEY-UNKNOWN"
BAD_VALUE = "UG-VALUE-IGNORED"
FATAL_VALUE = "UG-VALUE-FATAL"
NOTICE = "UG-VALUE-NOTICE"
# A value the scoring model's release ignores but a later release accepts (a protection that is off).
NEWER_VALUE = "UG-VALUE-NEWER-RELEASE"
# A directive the scoring model's release does not know but a later release does.
NEWER_KEY = "UG-KEY-NEWER-RELEASE"


@dataclass
class UnitState:
    """The loaded unit's settings (systemd's ExecContext/CGroupContext/Service fields we need).

    Mutable only while the files are applied; `origins` maps a field to the line that last set it.
    """

    unit_type: str
    release: Release = SYSTEMD_252
    user_scope: bool = False  # a --user unit (found in a user unit directory)
    default_dependencies: bool = True
    user: str | None = None
    group: str | None = None
    supplementary_groups: list[str] = field(default_factory=list)
    dynamic_user: bool = False
    remove_ipc: bool = False
    private_devices: bool = False
    private_mounts: bool | None = None  # None: unset (a tristate since 254)
    private_network: bool = False
    private_tmp: bool = False
    private_users: bool = False
    private_users_managed: bool = False
    # The mode word in effect for directives with modes ("yes" for true, "no" for false), by field.
    modes: dict[str, str] = field(default_factory=dict)
    private_pids: bool = False
    working_directory: str | None = None
    working_directory_home: bool = False
    # Directives that give the unit a mount namespace when non-empty (ReadWritePaths=, BindPaths=...).
    namespace_lists: dict[str, bool] = field(default_factory=dict)
    protect_control_groups: bool = False
    protect_kernel_modules: bool = False
    protect_kernel_tunables: bool = False
    protect_kernel_logs: bool = False
    protect_clock: bool = False
    protect_hostname: bool = False
    lock_personality: bool = False
    memory_deny_write_execute: bool = False
    no_new_privileges: bool = False
    restrict_realtime: bool = False
    restrict_suid_sgid: bool = False
    protect_home: str = "no"
    protect_system: str = "no"
    protect_proc: str = "default"
    proc_subset: str = "all"
    keyring_mode: str = "private"
    umask: int = 0o022
    capability_bounding_set: int = names.CAP_ALL
    ambient_capabilities: int = 0
    syscall_filter: dict[str, int] | None = None  # name -> errno (-1: plain allow/deny entry)
    syscall_allow_list: bool = False
    syscall_archs: set[str] = field(default_factory=set)
    restrict_namespaces: int = names.NAMESPACE_FLAGS_INITIAL
    address_families: set[int] | None = None
    address_families_allow_list: bool = False
    root_directory: str | None = None
    root_image: str | None = None
    root_mstack: str | None = None  # RootMStack= (260+)
    mount_images: bool = False
    load_credentials: dict[str, bool] = field(default_factory=dict)  # id -> encrypted
    set_credentials: dict[str, bool] = field(default_factory=dict)
    delegate: bool = False
    device_policy: str = "auto"
    device_allow: list[str] = field(default_factory=list)  # newest first, as systemd prepends
    ip_address_deny: set[tuple[int, int, int]] = field(default_factory=set)  # (version, prefixlen, addr)
    ip_address_allow: set[tuple[int, int, int]] = field(default_factory=set)
    ip_filters_ingress: list[str] = field(default_factory=list)
    ip_filters_egress: list[str] = field(default_factory=list)
    notify_access: str | None = None
    service_type: str | None = None  # unset: decided by service_add_extras()
    exec_start: list[Location] = field(default_factory=list)
    exec_stop: list[Location] = field(default_factory=list)
    remain_after_exit: bool = False
    restart: str = "no"
    restart_force_status: bool = False
    exit_type_cgroup: bool = False
    bus_name: str | None = None
    success_action: bool = False
    pam_name: str | None = None
    kill_mode: str = "control-group"
    origins: dict[str, Location] = field(default_factory=dict)

    def touch(self, name: str, where: Location) -> None:
        self.origins[name] = where


@dataclass(frozen=True)
class Outcome:
    """What applying one assignment did: diagnostics, and whether systemd stops there (fatal)."""

    diagnostics: tuple[Diagnostic, ...] = ()
    fatal: bool = False
    error: bool = False  # a fatal error that makes the load state "error" rather than "bad-setting"
    ignored: bool = False  # systemd dropped the whole line: it is not part of the merged unit


OK = Outcome()
Handler = Callable[[UnitState, Assignment, UnitContext], Outcome]


def warn(a: Assignment, message: str, code: str = BAD_VALUE, ignored: bool = True) -> Outcome:
    """A warning; `ignored` says systemd dropped the whole line (so it decides nothing)."""
    diag = Diagnostic(a.location, f"{a.key}={a.value}: {message}", Severity.WARNING, code)
    return Outcome((diag,), ignored=ignored)


def fatal(a: Assignment, message: str) -> Outcome:
    text = f"{a.key}={a.value}: {message}; systemd refuses to load the unit"
    return Outcome((Diagnostic(a.location, text, Severity.ERROR, FATAL_VALUE),), fatal=True)


def reject(a: Assignment, problem: str, ignore: bool) -> Outcome:
    """Directives whose errors a "-" prefix turns from fatal into a warning."""
    return warn(a, f"{problem}, ignored") if ignore else fatal(a, problem)


def parse_boolean(value: str) -> bool | None:
    v = value.lower() if value.isascii() else value
    if v in names.BOOLEAN_TRUE:
        return True
    if v in names.BOOLEAN_FALSE:
        return False
    return None


def _path_is_valid(path: str) -> bool:
    return len(path) < 4096 and all(len(p) <= 255 for p in path.split("/"))


def is_normalized(path: str) -> bool:
    return ".." not in path.split("/")


def path_problem(path: str) -> str | None:
    """path_simplify_and_warn(PATH_CHECK_ABSOLUTE): why systemd rejects the path, if it does."""
    if not path.startswith("/"):
        return "path is not absolute"
    if not is_normalized(path):
        return "path is not normalized"
    if not _path_is_valid(path):
        return "path is too long"
    return None


def collapse_slashes(path: str) -> str:
    """Each run of "/" as one (what path_simplify() does to them)."""
    while "//" in path:
        path = path.replace("//", "/")
    return path


BEYOND_C = 10**20  # above every C integer type's range (2**64 is about 1.8e19)


def decimal(digits: str) -> int:
    """int() of ASCII decimal digits of any length. A value beyond every C integer type, which
    systemd's parsers refuse as out of range, is BEYOND_C: Python refuses to convert a string of
    thousands of digits (and the repository can write one)."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= 20 else BEYOND_C


_DIGITS = {"0x": "0123456789abcdefABCDEF", "0o": "01234567", "0b": "01"}  # after strtol's base-0 prefixes


def safe_atoi(word: str) -> int | None:
    """safe_atoi(): C strtol with base 0 (0x hex, 0 octal, 0b/0o prefixes), optional sign; the whole
    word must be the number (after leading whitespace)."""
    digits = word.lstrip(" \t\n\r")
    negative = digits.startswith("-")
    if digits[:1] in ("+", "-"):
        digits = digits[1:]
    allowed = _DIGITS.get(digits[:2].lower())
    if allowed is not None:  # 0x…, 0o…, 0b…: at least one digit of that base
        if len(digits) < 3 or not all(c in allowed for c in digits[2:]):
            return None
        value = int(digits, 0)
    elif not (digits.isascii() and digits.isdigit()):
        return None
    elif digits.startswith("0"):  # C's octal: 0, 017
        if not all(c in "01234567" for c in digits):
            return None
        value = int(digits, 8)
    else:
        value = decimal(digits)
    return -value if negative else value
