"""Which files `unitgate check` looks at, when it is not given them one by one.

- `check DIR` and a bare `check`: every unit, drop-in and quadlet under the directory (the current one
  for a bare `check`). Inside a git work tree that is what git knows there: tracked and staged files
  plus untracked ones that .gitignore does not exclude (`git ls-files -co --exclude-standard`);
  elsewhere the directory tree, walked without following symlinked directories.
- `--files-from FILE|-`: a list, one path a line (or NUL-separated, as `git ls-files -z` writes).
- `--staged` (the pre-commit hook) and `--diff-base REF` (CI): the change set from git, so that what
  pre-commit never passes is checked too: a deleted or renamed drop-in re-checks the units it belonged
  to, a deleted unit file re-checks the file that now takes its place, and a changed, added or deleted
  policy file re-checks every file it governs.

`SELECTED` is the one definition of "a file unitgate checks"; the hook's `files` pattern in
.pre-commit-hooks.yaml is the same expression (a test holds them equal), and `selected()` reads it
with string methods (a test holds them equal on every kind of path), so a hook run needs no `re`.
"""

from __future__ import annotations

import os
import sys

from unitgate import fsread, spawn
from unitgate.engine import is_dropin, is_quadlet
from unitgate.model import SelectionError
from unitgate.parse import dropins, unitname
from unitgate.policy import POLICY_FILE, mentions_policy_table
from unitgate.policy_find import Finder
from unitgate.records import dataclass

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# Unit files, drop-ins in unit drop-in directories (foo.service.d/, foo-.service.d/, foo@.service.d/,
# the top-level service.d/) and quadlet .container files, with their drop-ins.
SELECTED = r"(\.(service|container)|(^|/|\.)(service|container)\.d/[^/]+\.conf)$"
POLICY_NAMES = (POLICY_FILE, "pyproject.toml")
LIST_LIMIT = 64 * 1024 * 1024  # bytes of a --files-from list, and of what git writes to one stream
_GIT_TIMEOUT = 120  # seconds; git answers in well under a second even for large repositories


def selected(path: str) -> bool:
    """Whether `SELECTED` finds `path`: a unit or quadlet file, or a `.conf` in a drop-in directory."""
    path = path.replace(os.sep, "/")
    path = path[:-1] if path.endswith("\n") else path  # the pattern's `$` also matches before one
    if path.endswith((".service", ".container")):
        return True
    parent, _, name = path.rpartition("/")
    directory = parent.rpartition("/")[2]
    return (
        len(name) > len(".conf")
        and name.endswith(".conf")
        and (directory in ("service.d", "container.d") or directory.endswith((".service.d", ".container.d")))
    )


def repo_root(start: str = ".") -> str | None:
    """The nearest directory at or above `start` that holds `.git` (the same boundary fsread uses)."""
    return fsread.repository_root(os.path.abspath(start))


class _TooLarge(SelectionError):
    """git wrote more than unitgate reads (the repository's content decides how much)."""


def _git(args: Sequence[str], cwd: str) -> bytes:
    try:
        code, out, err = spawn.run(["git", "-C", cwd, *args], _GIT_TIMEOUT, LIST_LIMIT)
    except OverflowError:
        raise _TooLarge(f"git {' '.join(args[:2])} wrote more than {LIST_LIMIT // 2**20} MiB") from None
    except (OSError, TimeoutError) as exc:
        raise SelectionError(f"cannot run git: {exc}") from None
    if code != 0:
        why = err.decode("utf-8", "replace").strip().splitlines()
        raise SelectionError(f"git {' '.join(args[:2])} failed: {why[-1] if why else code}")
    return out


def _split_z(data: bytes) -> list[str]:
    return [os.fsdecode(p) for p in data.split(b"\0") if p]


def _in_work_tree(directory: str) -> bool:
    if repo_root(directory) is None:
        return False
    try:
        return _git(["rev-parse", "--is-inside-work-tree"], directory).strip() == b"true"
    except SelectionError:
        return False


def tree_files(directory: str) -> list[str]:
    """Every file under `directory` that unitgate checks, as paths relative to the working directory
    when `directory` is relative (as the user would write them)."""
    if not os.path.isdir(directory):
        raise SelectionError(f"{directory}: not a directory")
    if _in_work_tree(directory):
        listed = _split_z(_git(["ls-files", "-co", "--exclude-standard", "-z", "--", "."], directory))
        found = [os.path.normpath(os.path.join(directory, p)) for p in listed]
    else:
        found = list(_walk(directory))
    return sorted(p for p in dict.fromkeys(found) if selected(p) and os.path.lexists(p))


def _walk(top: str) -> Iterable[str]:
    """Files under `top`, iteratively (no recursion limit), never following a symlinked directory and
    never entering `.git`."""
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                stack.append(entry.path)
            else:
                yield os.path.normpath(entry.path)


def read_list(source: str) -> list[str]:
    """`--files-from`: paths one a line, or NUL-separated; `-` reads standard input."""
    try:
        if source == "-":
            data = sys.stdin.buffer.read(LIST_LIMIT + 1)
        else:
            with open(source, "rb") as handle:
                data = handle.read(LIST_LIMIT + 1)
    except OSError as exc:
        raise SelectionError(f"{source}: cannot read: {exc.strerror or exc}") from None
    if len(data) > LIST_LIMIT:
        raise SelectionError(f"{source}: longer than {LIST_LIMIT} bytes")
    separator = b"\0" if b"\0" in data else b"\n"
    return [os.fsdecode(p.rstrip(b"\r")) for p in data.split(separator) if p.strip()]


@dataclass(frozen=True)
class Change:
    status: str  # git's letter: A added, M modified, D deleted, T type changed
    path: str  # relative to the working directory


def changes(base: str | None) -> tuple[list[Change], str]:
    """The change set: staged against HEAD (`base` None), or the working tree (new files included,
    unless .gitignore excludes them) against the merge base of `base` and HEAD. Renames come as a
    deletion and an addition. Also returns the revision compared with."""
    root = repo_root()
    if root is None:
        raise SelectionError(
            "not inside a git repository (--staged and --diff-base read the change set from git)"
        )
    if base is None:
        against = "HEAD"
        args = ["diff", "--cached", "--name-status", "--no-renames", "-z"]
    else:
        try:
            against = _git(["merge-base", base, "HEAD"], root).decode().strip()
        except SelectionError:
            against = _git(["rev-parse", "--verify", f"{base}^{{commit}}"], root).decode().strip()
        args = ["diff", "--name-status", "--no-renames", "-z", against]
    fields = _split_z(_git([*args, "--"], root))
    if base is not None:  # the working tree's new files, which `git diff` leaves out (not .gitignored)
        for path in _split_z(_git(["ls-files", "--others", "--exclude-standard", "-z"], root)):
            fields += ["A", path]
    out = []
    for status, path in zip(fields[::2], fields[1::2], strict=False):
        out.append(Change(status[:1], os.path.relpath(os.path.join(root, path))))
    return out, against


def paths_for_changes(changed: Sequence[Change], against: str, policy_file: str | None = None) -> list[str]:
    """The files to check for a change set: changed files that exist, the stand-ins of deleted ones,
    and everything a changed policy file governs."""
    out: list[str] = []
    finder = Finder()
    for change in changed:
        name = os.path.basename(change.path)
        if _is_policy_change(change, against, policy_file):
            if policy_file is not None and os.path.abspath(change.path) == os.path.abspath(policy_file):
                out += tree_files(repo_root() or ".")
            else:
                out += governed_by(os.path.dirname(change.path) or ".", finder)
            continue
        if not selected(change.path) or name in POLICY_NAMES:
            continue
        if change.status != "D" and os.path.lexists(change.path):
            out.append(change.path)
        else:
            out += stand_ins(change.path)
    return list(dict.fromkeys(out))


def _is_policy_change(change: Change, against: str, policy_file: str | None) -> bool:
    name = os.path.basename(change.path)
    if policy_file is not None and os.path.abspath(change.path) == os.path.abspath(policy_file):
        return True
    if name == POLICY_FILE:
        return True
    if name != "pyproject.toml":
        return False
    # A pyproject.toml is a policy file when it has (or had) a [tool.unitgate] table.
    now = b""
    if change.status != "D":
        try:
            with open(change.path, "rb") as handle:
                now = handle.read(LIST_LIMIT)
        except OSError:
            pass
    if mentions_policy_table(now):
        return True
    root = repo_root() or "."
    rel = os.path.relpath(os.path.abspath(change.path), root).replace(os.sep, "/")
    try:
        before = _git(["show", f"{against}:{rel}"], root)
    except _TooLarge:  # too large to read: take it as a policy, so what it may have governed is checked
        return True
    except SelectionError:
        return False
    return mentions_policy_table(before)


def governed_by(directory: str, finder: Finder) -> list[str]:
    """The checked files under `directory` whose policy is the one in `directory` (or, when that one was
    deleted, the one above it): those in subdirectories with a policy of their own are left out."""
    if not os.path.isdir(directory):
        return []  # the directory went with the policy file: nothing left that it governed
    top = os.path.abspath(directory)
    out = []
    for path in tree_files(directory):
        source = finder.source_for(os.path.dirname(os.path.abspath(path)))
        if source is None or fsread.inside(top, os.path.dirname(source)):
            out.append(path)
    return out


def stand_ins(deleted: str) -> list[str]:
    """Existing files that check what a deleted file affected: for a drop-in, the units it belonged to
    (their unit files); for a unit file, the file that now provides the unit, if any."""
    dropins.clear_caches()
    parent = os.path.dirname(os.path.abspath(deleted))
    name = os.path.basename(deleted)
    if is_quadlet(deleted):
        return _quadlet_stand_ins(deleted)
    if is_dropin(deleted):
        sp = dropins.search_path_for(os.path.dirname(parent))
        units = dropins.units_reached_by_dropin(sp, os.path.basename(parent)[:-2])
        entries = [dropins.fragment_of(sp, u) for u in units]
    else:
        if not unitname.is_valid(name):
            return []
        sp = dropins.search_path_for(parent)
        entries = [dropins.fragment_of(sp, dropins.resolve_alias(sp, dropins.analysed_name(name)))]
    return [_shown(e.path) for e in entries if e is not None and os.path.lexists(e.path)]


def _quadlet_stand_ins(deleted: str) -> list[str]:
    """The `.container` files whose drop-in directories include the deleted drop-in's directory."""
    if deleted.endswith(".container"):
        return []
    from unitgate.quadlet.dropins import detect_layout, dropin_dir_names, load_units, search_dirs

    directory = os.path.dirname(os.path.abspath(deleted))
    layout = detect_layout(os.path.join(os.path.dirname(directory), "x.container"))
    dirs = search_dirs(layout)
    out = []
    for unit_name, upath in sorted(load_units(dirs).units.items()):
        if not unit_name.endswith(".container"):
            continue
        names = dropin_dir_names(unit_name)
        if any(os.path.join(d, n) == directory for d in dirs for n in names):
            out.append(_shown(upath))
    return out


def _shown(path: str) -> str:
    """Relative to the working directory, as a user would name the file."""
    return os.path.relpath(path)
