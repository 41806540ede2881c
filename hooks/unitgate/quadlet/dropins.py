"""Where quadlet 5.4.2 finds `.container` files and their drop-ins, inside a repository.

A path under one of quadlet's directories (`etc/containers/systemd`, `run/containers/systemd`,
`usr/share/containers/systemd`, `etc/containers/systemd/users[/UID]`, `.config/containers/systemd`,
`run/user/UID/containers/systemd`) marks everything above it as a filesystem root, and the whole
search list applies, relative to that root.  Anywhere else the file's own directory is the only
search directory (sibling drop-ins).  Nothing outside the detected root is ever read: the host's
own quadlet directories never count.

5.4.2 collects drop-ins with the search directory as the *outer* loop and the drop-in directory
name (most specific first) as the inner one, so a higher-priority directory beats a more specific
drop-in directory name; the first `.conf` name seen wins; survivors are applied sorted by name.
(Podman 5.6.0 swapped the loops; this follows the 5.4.2 binary, checked with `quadlet -dryrun`.)
"""

from __future__ import annotations

import os

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable

from unitgate import fsread
from unitgate.model import Diagnostic, Severity
from unitgate.quadlet.keys import QUADLET_EXTENSIONS
from unitgate.quadlet.parser import QuadletFile, parse_file
from unitgate.records import dataclass

ROOTFUL_DIRS = ("run/containers/systemd", "etc/containers/systemd", "usr/share/containers/systemd")
USERS_DIR = "etc/containers/systemd/users"


@dataclass(frozen=True)
class Layout:
    """How a quadlet file found in the repository would be searched for."""

    root: str | None  # absolute filesystem root detected in the repository; None: sibling mode
    rootless: bool  # from where the file lives (users/, .config, run/user); policy may override
    uid: str | None = None  # from etc/containers/systemd/users/UID or run/user/UID
    home: str | None = None  # absolute home directory, for .config/containers/systemd
    sibling_dir: str | None = None  # sibling mode: the only search directory

    @property
    def boundary(self) -> str:
        return self.root if self.root is not None else (self.home or self.sibling_dir or "/")


def _marker(ap: str, prefix: str, uid: bool = False, suffix: str = "") -> tuple[int, str | None] | None:
    """The leftmost place where `ap` reads ROOT + `prefix` (+ digits + `suffix` with `uid`) and a directory
    name ends there, as the expression `^(.*?)PREFIX([0-9]+)SUFFIX(/|$)` finds it (ROOT without a
    newline): (where ROOT ends, the digits). String methods: a hook run on a quadlet needs no `re`."""
    first_newline = ap.find("\n")
    limit = len(ap) if first_newline < 0 else first_newline
    start = ap.find(prefix)
    while 0 <= start <= limit:
        end, digits = start + len(prefix), None
        if uid:
            after = end
            while after < len(ap) and "0" <= ap[after] <= "9":
                after += 1
            end, digits = after, ap[end:after]
        if (digits or not uid) and ap.startswith(suffix, end):
            end += len(suffix)
            if end == len(ap) or ap[end] == "/" or (end == len(ap) - 1 and ap[end] == "\n"):
                return start, digits
        start = ap.find(prefix, start + 1)
    return None


def _home_root(home: str) -> str | None:
    """The filesystem root above a home directory (`/home/NAME` or `/root`), None for another path
    (`^(.*?)/(home/[^/]+|root)$`; `home` never holds a newline)."""
    start = home.find("/")
    while start >= 0:
        rest = home[start:]
        if rest == "/root" or (
            rest.startswith("/home/") and len(rest) > len("/home/") and "/" not in rest[6:]
        ):
            return home[:start] or "/"
        start = home.find("/", start + 1)
    return None


def detect_layout(path: str) -> Layout:
    """Find the filesystem root a path implies (see module docstring)."""
    return layout_of(os.path.abspath(path))


def layout_of(ap: str) -> Layout:
    """`detect_layout` of an absolute path. Markers in quadlet's order: run/user/UID, users/UID, users,
    the rootful directories (the leftmost of the three), a home's .config."""
    for prefix, uid, suffix in (
        ("/run/user/", True, "/containers/systemd"),
        ("/etc/containers/systemd/users/", True, ""),
        ("/etc/containers/systemd/users", False, ""),
    ):
        found = _marker(ap, prefix, uid, suffix)
        if found is not None:
            return Layout(ap[: found[0]] or "/", rootless=True, uid=found[1])
    rootful = [m[0] for m in (_marker(ap, "/" + d) for d in ROOTFUL_DIRS) if m is not None]
    if rootful:
        return Layout(ap[: min(rootful)] or "/", rootless=False)
    config = _marker(ap, "/.config/containers/systemd")
    if config is not None:
        home = ap[: config[0]]
        return Layout(_home_root(home), rootless=True, home=home, sibling_dir=None)
    return Layout(None, rootless=False, sibling_dir=os.path.dirname(ap))


Filter = Callable[[str, bool], bool]


def _user_level_filter(users_dir: str) -> Filter:
    # rootless: users/UID is walked; rootful: everything under users/ is skipped (string prefix, as Go)
    return lambda p, is_user: is_user if p.startswith(users_dir) else True


def _all_digits(name: str) -> bool:
    """`[0-9]*`: a UID directory's name (or none)."""
    return name == "" or (name.isascii() and name.isdigit())


def _non_numeric_filter(users_dir: str) -> Filter:
    level = len(users_dir.split("/"))

    def f(p: str, _is_user: bool) -> bool:
        if not p.startswith(users_dir):
            return True
        parts = p.split("/")
        return len(parts) == level or (len(parts) > level and not _all_digits(parts[level]))

    return f


def _append_sub_paths(out: list[str], path: str, is_user: bool, filt: Filter | None, boundary: str) -> None:
    """appendSubPaths: the directory and, depth first, its subdirectories (not `*.d`).

    Iterative (an explicit stack in the recursion's order): thousands of nested directories must not
    exhaust Python's recursion limit."""
    real_boundary = os.path.realpath(boundary)
    seen = set(out)
    stack = [(path, False)]  # (path, already resolved): a plain subdirectory needs no realpath()
    while stack:
        p, real = stack.pop()
        resolved = p if real else os.path.realpath(p)
        if not os.path.exists(resolved):
            continue
        if not fsread.inside(resolved, real_boundary):
            continue  # a symlink out of the repository: the host's files never count
        if resolved in seen or resolved.endswith(".d") or not os.path.isdir(resolved):
            continue
        if os.path.basename(resolved) == ".git":
            continue  # a repository's metadata never holds quadlets (and can be large)
        if filt is not None and not filt(resolved, is_user):
            continue
        out.append(resolved)
        seen.add(resolved)
        try:
            entries = sorted(os.listdir(resolved))  # Go's os.ReadDir sorts by name
        except OSError:
            continue
        children = [os.path.join(resolved, e) for e in reversed(entries)]
        stack.extend((c, not os.path.islink(c)) for c in children)


def search_dirs(layout: Layout, rootless: bool | None = None) -> tuple[str, ...]:
    """The directories quadlet reads, highest priority first, subdirectories expanded."""
    if layout.root is None and layout.home is None:
        # not a quadlet directory: the file's own directory is the search directory, subdirectories
        # included, as quadlet would search it if it were one
        sibling: list[str] = []
        top = os.path.realpath(layout.sibling_dir or ".")
        _append_sub_paths(sibling, top, False, None, top)
        return tuple(sibling) or (top,)
    mode_rootless = layout.rootless if rootless is None else rootless
    out: list[str] = []
    boundary = layout.boundary
    if layout.root is None:  # .config outside a recognisable home: that directory only
        _append_sub_paths(
            out, os.path.join(layout.home or "", ".config/containers/systemd"), False, None, boundary
        )
        return tuple(out)
    root = layout.root
    users = os.path.realpath(os.path.join(root, USERS_DIR))
    if mode_rootless:
        if layout.uid:
            _append_sub_paths(
                out, os.path.join(root, "run/user", layout.uid, "containers/systemd"), False, None, boundary
            )
        if layout.home:
            _append_sub_paths(
                out, os.path.join(layout.home, ".config/containers/systemd"), False, None, boundary
            )
        _append_sub_paths(out, users, True, _non_numeric_filter(users), boundary)
        if layout.uid:
            _append_sub_paths(out, os.path.join(users, layout.uid), True, _user_level_filter(users), boundary)
    else:
        for i, d in enumerate(ROOTFUL_DIRS):
            filt = _user_level_filter(users) if i < 2 else None
            _append_sub_paths(out, os.path.join(root, d), False, filt, boundary)
    return tuple(out)


def dropin_dir_names(filename: str) -> tuple[str, ...]:
    """GetUnitDropinPaths: most specific first, e.g. for `foo-bar@i.container`:
    foo-bar@i.container.d, foo-bar@.container.d, foo-@.container.d, foo-.container.d, container.d."""
    ext = os.path.splitext(filename)[1]
    base = filename[: len(filename) - len(ext)]
    unit, at, instance = base.partition("@")
    is_template = bool(at)
    dropin_ext = ext + ".d"
    paths = [dropin_ext.removeprefix(".")]
    parts = unit.split("-")
    if len(parts) > 1:
        for i in range(len(parts) - 1):
            prefix = "-".join(parts[: i + 1]) + "-"
            paths.append(prefix + dropin_ext)
            if is_template:
                paths.append(prefix + "@" + dropin_ext)
    if instance:
        paths.append(unit + "@" + dropin_ext)
    paths.append(filename + ".d")
    return tuple(reversed(paths))


def find_dropins(filename: str, dirs: tuple[str, ...], names_first: bool = False) -> tuple[str, ...]:
    """loadUnitDropins: the drop-in files that apply, in the order they are merged.

    5.4.2 walks search directories outer and drop-in names inner (a higher-priority directory wins a
    `.conf` name); `names_first` (5.6+) swaps the loops (a more specific drop-in name wins)."""
    chosen: dict[str, str] = {}
    names = dropin_dir_names(filename)
    pairs = [(d, n) for n in names for d in dirs] if names_first else [(d, n) for d in dirs for n in names]
    for d, name in pairs:
        dd = os.path.join(d, name)
        try:
            entries = fsread.list_confined(dd, fsread.boundary_for(dd, d))
        except fsread.Refused as exc:
            if exc.refusal.code == fsread.OUTSIDE:
                chosen["\0" + dd] = dd  # read as a drop-in, it reports the link (never its files)
            continue
        for e in entries:
            p = os.path.join(dd, e)
            # A symlink counts whatever it points to: reading it reports a device, FIFO or dangling link.
            if e.endswith(".conf") and e not in chosen and (os.path.isfile(p) or os.path.islink(p)):
                chosen[e] = p
    return tuple(chosen[k] for k in sorted(chosen, key=lambda s: s.encode("utf-8", "surrogateescape")))


@dataclass(frozen=True)
class UnitSet:
    """Every quadlet file quadlet would load from the search directories (first name wins)."""

    dirs: tuple[str, ...]
    units: dict[str, str]  # basename -> path that claimed the name
    shadowed: dict[str, str]  # path not used -> the path that shadows it
    errors: dict[str, Diagnostic]  # path -> why quadlet cannot load it
    dropped: dict[str, str]  # path -> broken file in the same directory that discards it

    def loaded(self, name: str) -> str | None:
        """The path quadlet generates `name` from, if any (unitsInfoMap)."""
        p = self.units.get(name)
        return None if p is None or p in self.dropped else p


def load_units(dirs: tuple[str, ...], extensions: tuple[str, ...] = QUADLET_EXTENSIONS) -> UnitSet:
    """loadUnitsFromDir over all dirs.

    5.4.2 quirks kept: a file that fails to parse does not claim its name, and one such file makes
    quadlet discard every unit loaded from the same directory (their names stay claimed)."""
    units: dict[str, str] = {}
    shadowed: dict[str, str] = {}
    errors: dict[str, Diagnostic] = {}
    dropped: dict[str, str] = {}
    for d in dirs:
        try:
            entries = sorted(os.listdir(d))
        except OSError:
            continue
        here: list[str] = []
        broken: str | None = None
        for e in entries:
            p = os.path.join(d, e)
            if os.path.splitext(e)[1] not in extensions or not os.path.isfile(p):
                continue
            if e in units:
                shadowed[p] = units[e]
                continue
            res = parse_file(p)
            if res.unit is None:
                errors[p] = res.diagnostics[0]
                broken = broken or p
            else:
                units[e] = p
                here.append(p)
        if broken is not None:
            dropped.update(dict.fromkeys(here, broken))
    return UnitSet(dirs, units, shadowed, errors, dropped)


def merge_dropins(
    unit: QuadletFile, dropins: tuple[str, ...], display: Callable[[str], str]
) -> tuple[QuadletFile, tuple[Diagnostic, ...]]:
    """Merge drop-ins in order; a broken one is reported and skipped, the unit is still generated."""
    diags: list[Diagnostic] = []
    for p in dropins:
        res = parse_file(p, display(p))
        if res.unit is None:
            diags.extend(
                Diagnostic(
                    d.location,
                    d.message.replace("refuses the file", "skips this drop-in (exit 1)"),
                    Severity.ERROR,
                    d.code,
                )
                for d in res.diagnostics
            )
            continue
        unit = unit.merge(res.unit)
    return unit, tuple(diags)


def quadlet_targets(path: str, names_first: bool = False) -> list[str]:
    """The `.container` files a path affects: itself for a `.container`, the units using it for a drop-in."""
    if path.endswith(".container"):
        return [path]
    ap = os.path.abspath(path)
    parent = os.path.dirname(ap)
    if not (path.endswith(".conf") and parent.endswith(".d")):
        return []
    layout = detect_layout(os.path.dirname(parent) + "/x.container")
    dirs = search_dirs(layout)
    unitset = load_units(dirs)
    real = os.path.realpath(ap)
    out: list[str] = []
    for name in sorted(unitset.units):
        upath = unitset.units[name]
        if name.endswith(".container") and real in {
            os.path.realpath(p) for p in find_dropins(name, dirs, names_first)
        }:
            out.append(_same_style(upath, path))
    return out


def _same_style(p: str, like: str) -> str:
    """Show a found path relative to the working directory when the user gave a relative path."""
    return p if os.path.isabs(like) else os.path.relpath(p)


def display_for(like: str) -> Callable[[str], str]:
    return lambda p: _same_style(p, like)
