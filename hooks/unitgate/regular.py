"""Reading a file the gate itself opens (a policy file, a file's suppression comments): regular files
only, never blocking, at most a given number of bytes. A FIFO, device, socket or directory is refused
after opening it non-blocking (stat-then-open would race), so no repository entry can hang or exhaust
the gate."""

from __future__ import annotations

import os
import stat

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegular(OSError):
    """The path is not a regular file."""


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """Up to `limit` + 1 bytes of a regular file (one more than the limit, so the caller can tell a
    file that is too large). Raises OSError (NotRegular for anything but a regular file)."""
    fd = os.open(path, _FLAGS)
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
