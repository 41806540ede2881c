"""Which files make up a unit: search paths, fragments, aliases, masks and drop-ins.

Only files in the repository count. A unit file under one of systemd's unit directories (e.g.
`<root>/etc/systemd/system/foo.service`) makes `<root>` a filesystem root, and systemd's whole search
path applies inside it; any other directory is a search path of its own.
"""

from __future__ import annotations

import os
import stat

from unitgate import fsread
from unitgate.memo import lru_cache
from unitgate.parse import unitname
from unitgate.records import dataclass

# systemd 252's system unit search path (`systemd-analyze unit-paths`), highest priority first.
SYSTEM_UNIT_PATH = (
    "etc/systemd/system.control",
    "run/systemd/system.control",
    "run/systemd/transient",
    "run/systemd/generator.early",
    "etc/systemd/system",
    "etc/systemd/system.attached",
    "run/systemd/system",
    "run/systemd/system.attached",
    "run/systemd/generator",
    "usr/local/lib/systemd/system",
    "lib/systemd/system",
    "usr/lib/systemd/system",
    "run/systemd/generator.late",
)
# `systemd-analyze security --offline` skips the transient and generator directories, which only a
# running manager fills; a file there still marks a root.
OFFLINE_SKIPPED_DIRS = (
    "run/systemd/transient",
    "run/systemd/generator.early",
    "run/systemd/generator",
    "run/systemd/generator.late",
)
SYSTEM_UNIT_DIRS = tuple(d for d in SYSTEM_UNIT_PATH if d not in OFFLINE_SKIPPED_DIRS)
# The user search path with default XDG variables; home-relative and root-relative entries share one
# root inside a repository ($XDG_RUNTIME_DIR entries have no place in a repository and are left out).
USER_UNIT_DIRS = (
    ".config/systemd/user.control",
    ".config/systemd/user",
    "etc/xdg/systemd/user",
    "etc/systemd/user",
    "run/systemd/user",
    ".local/share/systemd/user",
    "usr/local/share/systemd/user",
    "usr/share/systemd/user",
    "usr/local/lib/systemd/user",
    "usr/lib/systemd/user",
)
DEV_NULL = "/dev/null"
_BACKUP_SUFFIXES = frozenset(
    [
        "rpmnew",
        "rpmsave",
        "rpmorig",
        "dpkg-old",
        "dpkg-new",
        "dpkg-tmp",
        "dpkg-dist",
        "dpkg-bak",
        "dpkg-backup",
        "dpkg-remove",
        "ucf-new",
        "ucf-old",
        "ucf-dist",
        "swp",
        "bak",
        "old",
        "new",
    ]
)


@dataclass(frozen=True)
class SearchPath:
    """Directories searched for units, highest priority first; `root` is None outside a root."""

    dirs: tuple[str, ...]
    root: str | None
    scope: str  # "system" or "user"
    boundary: str = "/"  # nothing is read outside it (fsread): the repository, else the root or directory


@dataclass(frozen=True)
class Entry:
    """A name in the search path: the file systemd would use for it."""

    name: str
    path: str  # the directory entry (a file or a symlink)
    target: str | None  # for an alias: the unit name it points to
    masked: bool
    refused: fsread.Refusal | None = None  # a symlink out of the repository: never read


def hidden_or_backup(name: str) -> bool:
    """systemd skips these names when it lists a directory."""
    if name.startswith(".") or name.endswith("~") or name in ("lost+found", "aquota.user", "aquota.group"):
        return True
    _, dot, ext = name.rpartition(".")
    return bool(dot) and ext in _BACKUP_SUFFIXES


def normalize(path: str) -> str:
    """An absolute path with "/" separators, for comparing and showing paths on every platform."""
    return os.path.normpath(os.path.abspath(path)).replace(os.sep, "/")


def search_path_for(directory: str) -> SearchPath:
    """The search path that applies to files in `directory`."""
    return _search_path(normalize(directory))


@lru_cache(maxsize=4096)
def _search_path(d: str) -> SearchPath:
    markers = (("system", SYSTEM_UNIT_PATH), ("user", USER_UNIT_DIRS))
    for scope, table in markers:
        for rel in sorted(table, key=len, reverse=True):
            if d == "/" + rel or d.endswith("/" + rel):
                root = d[: len(d) - len(rel) - 1] or "/"
                base = root.rstrip("/")
                dirs = SYSTEM_UNIT_DIRS if scope == "system" else USER_UNIT_DIRS
                boundary = fsread.repository_root(root) or root
                return SearchPath(tuple(f"{base}/{r}" for r in dirs), root, scope, boundary)
    return SearchPath((d,), None, "system", fsread.repository_root(d) or d)


def _in_root(root: str | None, target: str, link_dir: str) -> str:
    """Resolve a symlink target the way `--root` would: absolute targets live inside the root."""
    if os.path.isabs(target) or target.startswith("/"):
        return normalize(root.rstrip("/") + target) if root else normalize(target)
    return normalize(os.path.join(link_dir, target))


def link_target(path: str) -> str | None:
    """Where a symlink points; also for a symlink that git checked out as a plain file.

    With `core.symlinks=false` (git's default on Windows) a symlink becomes a small file holding its
    target, with no newline: "/dev/null" masks, "foo.service" aliases. Such a file is no unit file
    systemd could load, so reading it as the symlink it stands for loses nothing.
    """
    if os.path.islink(path):
        return os.readlink(path)
    try:
        if not 0 < os.path.getsize(path) <= 255:
            return None
        # Not a symlink itself, so its own directory is boundary enough; a FIFO or device is not read.
        text = fsread.read_confined(path, os.path.dirname(path) or ".", 255).decode("utf-8")
    except (OSError, UnicodeDecodeError, fsread.Refused):
        return None
    if text.split() != [text] or any(c in text for c in "=[]#;"):  # one word, nothing of unit-file syntax
        return None
    name = text.rstrip("/").rpartition("/")[2]
    return text if text == DEV_NULL or unitname.is_valid(name) or name.endswith(".conf") else None


def is_masked_file(path: str) -> bool:
    """An empty file or a symlink to /dev/null masks a unit (or shadows a drop-in)."""
    try:
        return os.path.getsize(path) == 0 or link_target(path) == DEV_NULL
    except OSError:
        return link_target(path) == DEV_NULL


def clear_caches() -> None:
    """Forget every directory listing. The engine calls this at the start of each top-level analysis,
    so a run sees one consistent tree and the next run (same process) sees files added in between."""
    for cached in (_listdir, _names_in, name_map, _alias_index, _search_path, _dot_d_names):
        cached.cache_clear()
    fsread.clear_caches()


@lru_cache(maxsize=4096)
def _listdir(directory: str, boundary: str) -> tuple[str, ...]:
    """Entry names, sorted; nothing for a directory that is missing or leads out of the boundary."""
    try:
        return fsread.list_confined(directory, boundary)
    except fsread.Refused:
        return ()


@lru_cache(maxsize=4096)
def _names_in(directory: str, boundary: str) -> frozenset[str]:
    return frozenset(_listdir(directory, boundary))


@lru_cache(maxsize=1024)
def search_refusals(sp: SearchPath) -> tuple[fsread.Refusal, ...]:
    """Search directories not listed because a symlink on the way leads out of the repository."""
    found = (fsread.refusal_of(d, sp.boundary) for d in sp.dirs)
    return tuple(dict.fromkeys(r for r in found if r is not None))


@lru_cache(maxsize=1024)
def name_map(sp: SearchPath) -> dict[str, Entry]:
    """Every unit name in the search path, first (highest-priority) directory wins."""
    out: dict[str, Entry] = {}
    for d in sp.dirs:
        for name in _listdir(d, sp.boundary):
            # Unlike drop-ins, unit files are not filtered for hidden or backup names.
            if name in out or not unitname.is_valid(name):
                continue
            path = f"{d}/{name}"
            link = link_target(path)
            if link is not None:
                if link == DEV_NULL:
                    out[name] = Entry(name, path, None, True)
                    continue
                dest = os.path.basename(link.rstrip("/"))
                if unitname.split_type(dest)[1] != unitname.split_type(name)[1]:
                    continue  # systemd rejects a symlink to another unit type
                resolved = _in_root(sp.root, link, d)
                if dest != name:
                    out[name] = Entry(name, path, dest, False)  # an alias
                    continue
                refused = fsread.refusal_of(resolved, sp.boundary)
                if refused is not None and refused.link is None and refused.code == fsread.OUTSIDE:
                    refused = fsread.outside_link(path, path, link, sp.boundary)  # the first hop leaves
                if refused is not None:
                    out[name] = Entry(name, path, None, False, refused)
                elif os.path.isfile(resolved):
                    out[name] = Entry(name, resolved, None, is_masked_file(resolved))
            elif os.path.isfile(path):
                out[name] = Entry(name, path, None, os.path.getsize(path) == 0)
    return out


def resolve_alias(sp: SearchPath, name: str) -> str:
    """Follow alias symlinks to the unit's real name (at most a few hops, as systemd does)."""
    names = name_map(sp)
    seen = {name}
    for _ in range(8):
        entry = names.get(name) or _template_entry(names, name)
        if entry is None or entry.target is None:
            return name
        target = entry.target
        if unitname.kind(name) == "instance" and unitname.kind(target) == "template":
            target = unitname.with_instance(target, unitname.instance_of(name) or "")
        if target in seen:
            return name
        seen.add(target)
        name = target
    return name


def _template_entry(names: dict[str, Entry], name: str) -> Entry | None:
    if unitname.kind(name) == "instance":
        return names.get(unitname.template_of(name))
    return None


def fragment_of(sp: SearchPath, name: str) -> Entry | None:
    """The file systemd loads for `name` (already alias-resolved): the instance's own, else the template."""
    names = name_map(sp)
    return names.get(name) or _template_entry(names, name)


@lru_cache(maxsize=1024)
def _alias_index(sp: SearchPath) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """Aliases by the unit they lead to, and the template aliases (which apply per instance)."""
    by_target: dict[str, list[str]] = {}
    templates = []
    for name, entry in name_map(sp).items():
        if entry.target is None:
            continue
        if unitname.kind(name) == "template":
            templates.append(name)
        else:
            by_target.setdefault(resolve_alias(sp, name), []).append(name)
    return {k: tuple(v) for k, v in by_target.items()}, tuple(templates)


def aliases_of(sp: SearchPath, name: str) -> list[str]:
    """Other names whose symlinks lead to `name`."""
    by_target, templates = _alias_index(sp)
    out = [a for a in by_target.get(name, ()) if a != name]
    if unitname.kind(name) == "instance":
        instance = unitname.instance_of(name) or ""
        for template in templates:
            candidate = unitname.with_instance(template, instance)
            if candidate != name and resolve_alias(sp, candidate) == name:
                out.append(candidate)
    else:
        out += [t for t in templates if t != name and resolve_alias(sp, t) == name]
    return out


def dropin_dirs(sp: SearchPath, name: str, aliases: list[str]) -> list[str]:
    """Drop-in directories for a unit in systemd's order: its name, then aliases, then `<type>.d`."""
    present = _dot_d_names(sp)
    out: list[str] = []
    for n in [name, *aliases]:
        stems = [stem for stem in unitname.dropin_dir_names(n) if f"{stem}.d" in present]
        for d in sp.dirs:
            out += [f"{d}/{stem}.d" for stem in stems]
    type_dir = unitname.split_type(name)[1]
    if f"{type_dir}.d" in present:
        out += [f"{d}/{type_dir}.d" for d in sp.dirs]
    # A drop-in directory that is itself a symlink is not used by systemd-analyze (verified on 252).
    return [d for d in out if _is_dir_entry(d, sp.boundary) and not os.path.islink(d)]


@lru_cache(maxsize=1024)
def _dot_d_names(sp: SearchPath) -> frozenset[str]:
    """Every `*.d` entry name in any of the search path's directories: a stem none of them holds
    needs no look at each directory (a unit has a dozen candidate stems in each of 9 directories)."""
    return frozenset(n for d in sp.dirs for n in _listdir(d, sp.boundary) if n.endswith(".d"))


def _is_dir_entry(path: str, boundary: str) -> bool:
    """Whether `path` exists as a directory, asking the (cached) listing of its parent first."""
    parent, _, name = path.rpartition("/")
    return name in _names_in(parent, boundary) and os.path.isdir(path)


def dropin_files(dirs: list[str], boundary: str = "/") -> list[str]:
    """`.conf` files in those directories: the first of each name wins, then sorted by name.

    Like systemd's conf_files_list(), only regular files and symlinks count: a directory (or FIFO)
    named `x.conf` is skipped."""
    chosen: dict[str, str] = {}
    for d in dirs:
        for fname in _listdir(d, boundary):
            if fname.endswith(".conf") and not hidden_or_backup(fname) and fname not in chosen:
                path = f"{d}/{fname}"
                if _file_or_link(path):
                    chosen[fname] = path
    return [chosen[k] for k in sorted(chosen)]


def _file_or_link(path: str) -> bool:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def units_reached_by_dropin(
    sp: SearchPath, dropin_dir_stem: str, instance: str = unitname.DEFAULT_INSTANCE
) -> list[str]:
    """Unit names (templates analysed as `instance`) whose drop-in search includes `stem.d`."""
    by_stem, by_type = _reach_index(sp, instance)
    if dropin_dir_stem in unitname.UNIT_TYPES:
        return list(by_type.get(dropin_dir_stem, ()))
    out = list(by_stem.get(dropin_dir_stem, ()))
    if unitname.kind(dropin_dir_stem) == "instance" and dropin_dir_stem not in name_map(sp):
        # An instance with no file of its own still loads from its template: it is reached too.
        real = resolve_alias(sp, dropin_dir_stem)
        if real not in out and fragment_of(sp, real) is not None and dropin_dir_stem in _stems(sp, real):
            out.append(real)
    return out


ReachIndex = tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]


def _reach_index(sp: SearchPath, instance: str) -> ReachIndex:
    """The index for the search path's current name map (rebuilt if name_map's cache was cleared)."""
    built_from, index = _dropin_index(sp, instance)
    if built_from is not name_map(sp):
        _dropin_index.cache_clear()
        built_from, index = _dropin_index(sp, instance)
    return index


@lru_cache(maxsize=1024)
def _dropin_index(sp: SearchPath, instance: str) -> tuple[dict[str, Entry], ReachIndex]:
    """Which units each drop-in directory stem reaches, and each unit type's units, in name-map order.

    Built once per search path, so resolving every drop-in of a repository stays linear in its size
    (scanning the name map per drop-in path made a run quadratic). Returned with the name map it was
    built from, which the caller compares with the current one.
    """
    names = name_map(sp)
    by_stem: dict[str, dict[str, None]] = {}  # dicts as ordered sets: first reach wins the order
    by_type: dict[str, dict[str, None]] = {}
    loadable: dict[str, bool] = {}  # real name -> has a fragment
    for cand in names:
        real = resolve_alias(sp, analysed_name(cand, instance))
        if real not in loadable:
            loadable[real] = fragment_of(sp, real) is not None
        if not loadable[real]:
            continue
        by_type.setdefault(unitname.split_type(cand)[1], {})[real] = None
        for stem in _stems(sp, real):
            by_stem.setdefault(stem, {})[real] = None
    return names, ({k: tuple(v) for k, v in by_stem.items()}, {k: tuple(v) for k, v in by_type.items()})


def _stems(sp: SearchPath, real: str) -> frozenset[str]:
    """Every drop-in directory stem a unit's search includes (its own name's and its aliases')."""
    return frozenset(s for n in [real, *aliases_of(sp, real)] for s in unitname.dropin_dir_names(n))


def analysed_name(name: str, instance: str = unitname.DEFAULT_INSTANCE) -> str:
    """Templates are analysed as an instance, like systemd-analyze does offline ("i" until 256,
    "test_instance" since 257)."""
    if unitname.kind(name) == "template":
        return unitname.with_instance(name, instance)
    return name
