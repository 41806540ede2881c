"""Reading a file the gate itself opens (a policy file, a file's suppression comments): inside the
repository that holds it, regular files only, never blocking, at most a given number of bytes. A FIFO,
device, socket or directory is refused after opening it non-blocking (stat-then-open would race), so
no repository entry can hang or exhaust the gate."""

from __future__ import annotations

import os
import stat

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegular(OSError):
    """The path is not a regular file."""


class Outside(OSError):
    """The path resolves (through a symlink) outside the directory it must stay in."""

    def __init__(self, path: str, target: str) -> None:
        super().__init__(f"{path}: resolves to {target}, outside the repository; not read")
        self.target = target


def work_tree(directory: str) -> str:
    """The nearest directory at or above `directory` holding `.git` (the repository), else `directory`."""
    d = os.path.normpath(os.path.abspath(directory))
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return os.path.normpath(os.path.abspath(directory))
        d = parent


def confined(path: str | os.PathLike[str]) -> str:
    """`path` resolved, when that stays inside the repository holding it (else the directory holding
    it); raises Outside naming the target otherwise. A repository's symlink cannot make the gate read
    a file of the host."""
    given = os.fspath(path)
    boundary = os.path.realpath(work_tree(os.path.dirname(os.path.abspath(given))))
    real = os.path.realpath(given)
    if real != boundary and not real.startswith(boundary.rstrip(os.sep) + os.sep):
        raise Outside(given, real)
    return real


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """Up to `limit` + 1 bytes of a regular file inside its repository (one more than the limit, so
    the caller can tell a file that is too large). Raises OSError: Outside for a symlink that leads
    out of the repository, NotRegular for anything but a regular file."""
    fd = os.open(confined(path), _FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(f"{os.fspath(path)}: not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
