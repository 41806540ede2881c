"""The parsed policy cache: a policy file's exact bytes -> its parsed, checked TOML data.

Why: the pre-commit hook loads the same `.unitgate.toml` on every commit, and parsing TOML and
validating it against the JSON Schema (jsonschema) cost several times the check of one file. An entry
lets a run skip the TOML parser and the schema; `policy.from_data` still checks every key's structure
and meaning and merges `extends` on every load, so an entry only ever saves work.

An entry can never change a verdict:
* it matches only the identical bytes (compared in full, not by a hash) read through the same
  confined reader, for the same unitgate version, the same schema file and the same built-in
  policies (their sizes and modification times), and the same kind of file (`.unitgate.toml`,
  `pyproject.toml`'s `[tool.unitgate]`, a built-in);
* it is written only after the whole policy loaded (parsed, schema-valid, structure and semantics
  checked, `extends` merged), so it holds only data that loaded before;
* it is trusted only when it is a regular file (never followed through a symlink) owned by the user
  running unitgate and not writable by group or others, in the cache directory that
  `policy_check.cache_dir()` picks (never inside the repository being checked; none when
  `UNITGATE_CACHE_DIR=""`);
* anything unexpected (unreadable, corrupt, another shape, another key) is ignored, and the policy
  is parsed and validated as if there were no cache.

Entries are written with `marshal` (built into the interpreter: a warm hook run imports no `json`), and
read only under the conditions above, which are those under which Python itself loads the user's own
bytecode caches; what is read must then be a dict of plain data (dicts, lists, strings, numbers,
booleans), or it is ignored. Entries are named by the length and two byte sums of the policy (a
locator only, cheap without `zlib`: a collision is a miss).
"""

from __future__ import annotations

import marshal
import os
import stat

from unitgate import __version__
from unitgate.memo import cache
from unitgate.policy_check import cache_dir
from unitgate.policy_terms import SCHEMA_FILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENTRY_MAX_BYTES = 4 * 1024 * 1024  # a policy is capped at 256 KiB; its entry is a few times that at most
_SUBDIR = "policy-data"


def policies_dir() -> str:
    """The shipped built-in policies: next to the package when installed, else wherever the import
    system finds `unitgate.policies` (an editable install maps it to the repository's policies/)."""
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policies")
    if os.path.isdir(beside):
        return beside
    from importlib.util import find_spec

    spec = find_spec("unitgate.policies")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return locations[0] if locations else beside


@cache  # the installed files do not change under a running process; a lookup and a store both ask
def _stamp() -> str:
    """This unitgate's version and its schema and built-in policies as installed (size, mtime)."""
    parts = [__version__]
    root = policies_dir()
    for rel in [*sorted(os.listdir(root)), os.path.join("schema", SCHEMA_FILE)]:
        if rel.endswith((".toml", ".json")):
            try:
                st = os.stat(os.path.join(root, rel))
            except OSError:
                continue
            parts.append(f"{rel}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def _entry_path(kind: str, raw: bytes) -> str | None:
    directory = cache_dir()
    if directory is None:
        return None
    name = f"{kind}-{len(raw)}-{sum(raw):x}-{sum(raw[::7]):x}.marshal"
    return os.path.join(os.fspath(directory), _SUBDIR, name)


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: object) -> bool:
    """Whether `value` is a dict of plain data all the way down (what a parsed TOML policy is, minus
    dates: the policy checks refuse those before anything is stored)."""
    stack = [value]
    if not isinstance(value, dict):
        return False
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, _SCALARS):
            return False
    return True


def lookup(kind: str, raw: bytes) -> dict[str, Any] | None:
    """The data stored for exactly these bytes of this kind of policy file, or None."""
    path = _entry_path(kind, raw)
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.getuid()
            or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            or st.st_size > ENTRY_MAX_BYTES
        ):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            text = handle.read(ENTRY_MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        entry = marshal.loads(text)
    except (ValueError, EOFError, TypeError, RecursionError):
        return None
    if (
        not isinstance(entry, dict)
        or entry.get("kind") != kind
        or entry.get("stamp") != _stamp()
        or entry.get("bytes") != raw  # every byte, compared exactly
        or not _plain(entry.get("data"))
    ):
        return None
    data: dict[str, Any] = entry["data"]
    return data


def store(kind: str, raw: bytes, data: dict[str, Any]) -> None:
    """Remember `data` for these bytes (after the policy they hold loaded); failures only cost speed."""
    path = _entry_path(kind, raw)
    if path is None:
        return
    if not _plain(data):
        return  # not plain data (it always is after the policy checks): not cached
    text = marshal.dumps({"kind": kind, "stamp": _stamp(), "bytes": raw, "data": data})
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only or shared cache only costs speed
