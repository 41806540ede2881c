"""IP address lists and filters, device access, delegation and credentials."""

from __future__ import annotations

from unitgate.model import Assignment, Diagnostic
from unitgate.security.directives.state import (
    OK,
    Handler,
    Outcome,
    UnitState,
    collapse_slashes,
    decimal,
    parse_boolean,
    warn,
)
from unitgate.security.words import Extract, SpecifierError, UnitContext, WordError, split_words

_LOCALHOST_NAMES = ("localhost", "localhost.", "localhost.localdomain", "localhost.localdomain.")
_KEYWORD_PREFIXES = {
    "any": ((4, 0, 0), (6, 0, 0)),
    "localhost": ((4, 8, 0x7F000000), (6, 128, 1)),
    "link-local": ((4, 16, 0xA9FE0000), (6, 64, 0xFE80 << 112)),
    "multicast": ((4, 4, 0xE0000000), (6, 8, 0xFF << 120)),
}


def _is_localhost_name(word: str) -> bool:
    w = word.lower()
    return w in _LOCALHOST_NAMES or w.endswith(tuple("." + n for n in _LOCALHOST_NAMES))


def _prefix(word: str) -> tuple[int, int, int] | None:
    """in_addr_prefix_from_string_auto(), with the address masked to the prefix."""
    addr, slash, length = word.partition("/")
    if "%" in addr or (slash and not (length.isascii() and length.isdigit())):
        return None
    import ipaddress  # here: only units with IPAddressAllow=/IPAddressDeny= pay for it at start-up

    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    bits = 32 if ip.version == 4 else 128
    plen = decimal(length) if slash else bits
    if plen > bits:
        return None
    mask = ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)
    return ip.version, plen, int(ip) & mask


def ip_prefixes(attr: str) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        target: set[tuple[int, int, int]] = getattr(state, attr)
        state.touch(attr, a.location)
        if not a.value:
            target.clear()
            return OK
        try:
            words = split_words(a.value)
        except WordError:
            return warn(a, "invalid syntax, ignored")
        diags: list[Diagnostic] = []
        for word in words:
            key = "localhost" if _is_localhost_name(word) else word
            if key in _KEYWORD_PREFIXES:
                target.update(_KEYWORD_PREFIXES[key])
                continue
            prefix = _prefix(word)
            if prefix is None:
                diags += warn(a, f"invalid address prefix '{word}', ignored").diagnostics
            else:
                target.add(prefix)
        return Outcome(tuple(diags))

    return handle


def ip_filter_paths(attr: str) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        target: list[str] = getattr(state, attr)
        if not a.value:
            target.clear()
        else:
            try:
                path = ctx.expand(a.value)
            except SpecifierError as exc:
                return warn(a, f"{exc}, ignored")
            if not path.startswith("/"):
                return warn(a, "path is not absolute, ignored")
            target.append(path)
        state.touch(attr, a.location)
        return OK

    return handle


def device_allow(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.device_allow.clear()
        state.touch("device_allow", a.location)
        return OK
    try:
        words = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return warn(a, "cannot extract the device path and rights, ignored")
    if not words:
        return warn(a, "cannot extract the device path and rights, ignored")
    try:
        path = ctx.expand(words[0])
    except SpecifierError as exc:
        return warn(a, f"{exc}, ignored")
    rest = a.value.split(None, 1)[1].strip() if len(a.value.split(None, 1)) > 1 else ""
    if not path.startswith(("block-", "char-")):
        path = collapse_slashes(path).rstrip("/") or "/"
        if not path.startswith("/dev/") and not path.startswith("/run/systemd/inaccessible/"):
            return warn(a, f"invalid device node path '{path}', ignored")
    if rest and any(c not in "rwm" for c in rest):
        return warn(a, f"invalid device rights '{rest}', ignored")
    rights = "".join(c for c in "rwm" if not rest or c in rest)
    state.device_allow.insert(0, f"{path}:{rights}")
    state.touch("device_allow", a.location)
    return OK


# cgroup_controller_from_string()'s names: what Delegate= accepts besides a boolean.
CGROUP_CONTROLLERS = frozenset(
    {
        *("cpu", "cpuacct", "cpuset", "io", "blkio", "memory", "devices", "pids"),
        *("bpf-firewall", "bpf-devices", "bpf-foreign", "bpf-socket-bind", "bpf-restrict-network-interfaces"),
    }
)


def delegate(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if state.unit_type not in ("service", "scope"):  # the unit types that can delegate
        return warn(a, "Delegate= is not supported for this unit type, ignored")
    b = parse_boolean(a.value) if a.value else True
    diags: list[Diagnostic] = []
    if b is None:  # a controller list: delegation on, unknown names warned about
        try:
            words = split_words(a.value, Extract.UNQUOTE)
        except WordError:
            return warn(a, "invalid syntax, ignored")
        for word in words:
            if word not in CGROUP_CONTROLLERS:
                diags += warn(a, f"unknown cgroup controller '{word}', ignored").diagnostics
    state.delegate = True if b is None else b
    state.touch("delegate", a.location)
    return Outcome(tuple(diags))


def credential(attr: str, encrypted: bool) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        target: dict[str, bool] = getattr(state, attr)
        if not a.value:
            target.clear()
        else:
            ident = a.value.split(":", 1)[0]
            if not ident or "/" in ident:
                return warn(a, "credential name is not valid, ignored")
            target[ident] = encrypted
        state.touch(attr, a.location)
        return OK

    return handle
