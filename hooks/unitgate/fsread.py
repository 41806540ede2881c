"""The only way unitgate reads repository files: confined to the repository, regular files only, bounded.

The repository's content belongs to whoever wrote the change, and unitgate runs where it matters (CI
on pull requests, runners holding credentials). So every path is resolved one symlink hop at a time
against a boundary (the git work tree holding it, else the root being checked); whatever resolves
outside is never opened and comes back as a `Refused` that names the link and its target, never any
content. Only regular files are read: `stat` first, open non-blocking without following a last
symlink (all of them were resolved already), and at most `MAX_FILE_BYTES`. FIFOs, devices, sockets and
/proc or /sys files are never opened, so nothing blocks or floods memory.

Only the standard library: the engine, the quadlet reader and the policy loader all use this module.
"""

from __future__ import annotations

import os
import stat

from unitgate.records import dataclass

# systemd reads a unit file line by line and refuses a line of 1 MiB or more (LONG_LINE_MAX); no
# real unit, drop-in, quadlet or policy file comes near 4 MiB, while /dev/zero or a 50 MB junk file
# would cost gigabytes of diagnostics. The cap bounds memory for every reader.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_SYMLINK_HOPS = 40  # the kernel's limit (ELOOP) for one path
DEV_NULL = "/dev/null"

# Diagnostic codes for files unitgate will not read (the gate maps codes to rules).
OUTSIDE = "UG-INPUT-OUTSIDE-REPOSITORY"  # a symlink that leads out of the repository
NOT_REGULAR = "UG-INPUT-NOT-REGULAR"  # a FIFO, device, socket, directory or /proc file
TOO_LARGE = "UG-INPUT-TOO-LARGE"  # over MAX_FILE_BYTES
UNREADABLE = "UG-INPUT-UNREADABLE"  # missing, no permission, symlink loop
DANGLING = "UG-INPUT-DANGLING"  # a symlink (or one on the way) that leads nowhere
_PSEUDO_FS = ("/proc", "/sys", "/dev")  # kernel files: "regular" ones lie about their size
_PSEUDO_DIRS = tuple(p + os.sep for p in _PSEUDO_FS)  # ...and everything below them


@dataclass(frozen=True)
class Refusal:
    """Why a file was not read. `message` names paths only (the link and its target), never content;
    it leaves out `path` itself, which a diagnostic shows as its location (str(Refused) has both)."""

    code: str
    path: str  # the path asked for
    message: str
    link: str | None = None  # for OUTSIDE: the symlink whose target leaves the repository
    target: str | None = None  # ... and that target, as written in the link


class Refused(Exception):
    """Raised instead of reading; `refusal` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{_display(refusal.path)}: {refusal.message}")
        self.refusal = refusal


_ROOTS: dict[str, str | None] = {}  # directory -> its work tree (None: none); filled walking up


def repository_root(directory: str) -> str | None:
    """The nearest directory at or above `directory` (lexically) holding `.git`: the work tree.

    Cached for every directory on the way up, so deep trees cost one look per directory."""
    d = _absolute(directory)
    walked: list[str] = []
    found: str | None = None
    while True:
        if d in _ROOTS:
            found = _ROOTS[d]
            break
        walked.append(d)
        if os.path.lexists(os.path.join(d, ".git")):
            found = d
            break
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    if len(_ROOTS) > 100_000:
        _ROOTS.clear()
    _ROOTS.update(dict.fromkeys(walked, found))
    return found


def work_tree(start: str = ".") -> str:
    """The repository holding `start` (its work tree), else `start` itself: where the repository's own
    files (the baseline) live."""
    return repository_root(start) or _absolute(start)


def boundary_for(path: str, fallback: str | None = None) -> str:
    """The directory nothing read for `path` may leave: its git work tree, else `fallback` (the root
    being checked), else the directory holding `path` (for a drop-in in `x.d/`, the one above)."""
    directory = os.path.dirname(_absolute(path))
    if fallback is None and directory.endswith(".d"):
        fallback = os.path.dirname(directory)
    return repository_root(directory) or _absolute(fallback or directory)


def _absolute(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def inside(path: str, boundary: str) -> bool:
    """Whether absolute `path` is `boundary` or lies under it (textually: no link is followed)."""
    return path == boundary or path.startswith(boundary.rstrip(os.sep) + os.sep)


def _shown(path: str, boundary: str) -> str:
    """A path as the user knows it: relative to the repository when inside it."""
    if inside(path, boundary) and path != boundary:
        return os.path.relpath(path, boundary).replace(os.sep, "/")
    return path.replace(os.sep, "/")


_PREFIXES: dict[tuple[str, str], str] = {}  # (real boundary, lexical directory) -> resolved directory
_REAL: dict[str, str] = {}  # boundary -> its real path
_REFUSALS: dict[tuple[str, str, str], Refusal | None] = {}  # (cwd, path, boundary) -> refusal_of()


def clear_caches() -> None:
    """Forget resolved directories. Called at the start of each run (with the directory listings):
    within one run the tree is taken as it was first seen; a later run, in the same process, must not
    trust a directory that was resolved before it could have been swapped for a symlink."""
    _PREFIXES.clear()
    _REAL.clear()
    _REFUSALS.clear()


def resolve(path: str, boundary: str) -> str:
    """`path` with every symlink resolved, hop by hop, never leaving `boundary`.

    Raises Refused (OUTSIDE) naming the link that leaves, or (UNREADABLE) for a symlink loop. A
    missing component is not an error here: the rest is appended as written (opening reports it).
    The boundary itself is trusted as given (it may be reached through symlinks of its own).
    Resolved directories are remembered, so a path costs one lstat per new component.
    """
    ap = _absolute(path)
    top = _absolute(boundary)
    real_top = _REAL.get(top)
    if real_top is None:
        if len(_REAL) > 1000:
            _REAL.clear()
        real_top = _REAL[top] = os.path.realpath(top)
    if not inside(ap, top):
        raise Refused(Refusal(OUTSIDE, path, "outside the repository: not read"))
    # Both are normalised and `ap` is inside `top`: the relative path is a slice (no relpath walk).
    parts = _parts(ap[len(top.rstrip(os.sep)) + 1 :] if ap != top else "")
    current, done = real_top, 0
    for i in range(len(parts) - 1, 0, -1):  # the longest directory already resolved
        known = _PREFIXES.get((real_top, "/".join(parts[:i])))
        if known is not None:
            current, done = known, i
            break
    hops = 0
    last: tuple[str, str] = (ap, ap)  # the symlink followed last, and its target: blamed for a ".."
    for index in range(done, len(parts)):
        todo = [parts[index]]
        while todo:
            part = todo.pop()
            if part == "..":
                current = os.path.dirname(current)
                if not inside(current, real_top):
                    raise Refused(_outside(path, last[0], last[1], real_top))
                continue
            candidate = os.path.join(current, part)
            try:
                st = os.lstat(candidate)
            except OSError:
                # Nothing there: the rest cannot be a symlink; opening it reports what is missing.
                return os.path.join(candidate, *reversed(todo), *parts[index + 1 :])
            if not stat.S_ISLNK(st.st_mode):
                current = candidate
                continue
            hops += 1
            target = os.readlink(candidate)
            if hops > MAX_SYMLINK_HOPS:
                raise Refused(Refusal(UNREADABLE, path, "cannot read: too many levels of symlinks"))
            if os.path.isabs(target):
                dest = _absolute(target)
                if inside(dest, top) and not inside(dest, real_top):
                    dest = os.path.join(real_top, os.path.relpath(dest, top))
                if not inside(dest, real_top):
                    raise Refused(_outside(path, candidate, target, real_top))
                todo.extend(reversed(_parts(os.path.relpath(dest, real_top))))
                current = real_top
            else:
                todo.extend(reversed(_parts(target)))
            last = (candidate, target)
        if index < len(parts) - 1:
            if len(_PREFIXES) > 100_000:
                _PREFIXES.clear()
            _PREFIXES[(real_top, "/".join(parts[: index + 1]))] = current
    return current


def refusal_of(path: str, boundary: str) -> Refusal | None:
    """What resolving `path` inside `boundary` would refuse (a link out, a loop), if anything."""
    key = (os.getcwd(), path, boundary)  # relative paths mean what they mean from here
    if key in _REFUSALS:  # every unit given in one directory asks about that directory
        return _REFUSALS[key]
    try:
        resolve(path, boundary)
        found = None
    except Refused as exc:
        found = exc.refusal
    if len(_REFUSALS) > 100_000:
        _REFUSALS.clear()
    _REFUSALS[key] = found
    return found


def _parts(relative: str) -> list[str]:
    return [p for p in relative.replace(os.sep, "/").split("/") if p not in ("", ".")]


def outside_link(path: str, link: str, target: str, boundary: str) -> Refusal:
    """The refusal for `link` (a symlink to `target`, which leaves `boundary`) met reading `path`."""
    return _outside(path, _absolute(link), target, os.path.realpath(boundary))


def _outside(path: str, link: str, target: str, boundary: str) -> Refusal:
    shown = _shown(link, boundary)
    message = f"{shown} is a symlink to {target}, outside the repository: not read"
    if _shown(_absolute(path), boundary) != shown:
        message = f"leads through {shown}, a symlink to {target} outside the repository: not read"
    return Refusal(OUTSIDE, path, message, shown, target)


def check_regular(path: str, boundary: str) -> str:
    """The resolved path of a regular file inside `boundary` that may be read, else Refused."""
    real = resolve(path, boundary)
    try:
        st = os.stat(real)
    except OSError as exc:
        raise Refused(_unreadable(path, exc)) from None
    _require_regular(path, real, st)
    return real


def _require_regular(path: str, real: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode) or real in _PSEUDO_FS or real.startswith(_PSEUDO_DIRS):
        message = f"{_kind(st.st_mode)}, not a regular file: not read"
        raise Refused(Refusal(NOT_REGULAR, path, message))
    if st.st_size > MAX_FILE_BYTES:
        raise Refused(_too_large(path))


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a kernel file")


def _display(path: str) -> str:
    return path.replace(os.sep, "/")


def _too_large(path: str) -> Refusal:
    message = f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: not read"
    return Refusal(TOO_LARGE, path, message)


def _unreadable(path: str, exc: OSError) -> Refusal:
    if isinstance(exc, FileNotFoundError) and os.path.lexists(path):
        return Refusal(DANGLING, path, "a symlink that leads nowhere: not read")
    return Refusal(UNREADABLE, path, f"cannot read: {(exc.strerror or str(exc)).lower()}")


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the stat must not block
    | getattr(os, "O_NOFOLLOW", 0)  # every symlink was resolved: one appearing now is refused
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)


def read_confined(path: str, boundary: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`, a regular file inside `boundary` of at most `limit` bytes; else Refused."""
    real = resolve(path, boundary)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise Refused(_unreadable(path, exc)) from None
    try:
        st = os.fstat(fd)  # the file actually opened, not whatever the name points to now
        _require_regular(path, real, st)
        if st.st_size > limit:
            raise Refused(_too_large(path))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew after the stat
            raise Refused(_too_large(path))
        return b"".join(chunks)
    except OSError as exc:
        raise Refused(_unreadable(path, exc)) from None
    finally:
        os.close(fd)


def list_confined(directory: str, boundary: str) -> tuple[str, ...]:
    """Sorted entry names of a directory inside `boundary`; Refused when it leads out or is no directory."""
    real = resolve(directory, boundary)
    try:
        return tuple(sorted(os.listdir(real)))
    except OSError as exc:
        raise Refused(_unreadable(directory, exc)) from None


def is_dev_null_link(path: str) -> bool:
    """A symlink whose target is /dev/null (a mask), recognised without opening anything."""
    try:
        return os.path.islink(path) and os.readlink(path) == DEV_NULL
    except OSError:
        return False
