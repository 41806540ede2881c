"""Run a program and collect what it writes: `subprocess.run(capture_output=True, timeout=...)` without
importing `subprocess`.

Why: the pre-commit hook (`unitgate check --staged`) starts git once per commit, and importing
`subprocess` (with `signal`, `selectors`, `threading`) costs about 5 ms, as much as the check of a
unit. Where `os.posix_spawnp` is missing (Windows), `subprocess` is used as before.

The child gets no standard input (`/dev/null`), inherits the environment, and is killed when the
timeout passes or when it writes more than `limit` bytes to either stream (the repository decides how
much git writes: a blob in its history can be any size); both output streams are read as they come
(`select.poll`), so neither can fill its pipe and stall the child.
"""

from __future__ import annotations

import os
import time

_KILL = 9  # SIGKILL (the `signal` module is what this avoids importing)
_CHUNK = 65536


def run(argv: list[str], timeout: float, limit: int) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, stderr) of `argv`, found on PATH. OSError when it cannot start,
    TimeoutError when it runs longer than `timeout` seconds, OverflowError when it writes more than
    `limit` bytes to one stream (it is killed first; where `subprocess` stands in, without
    `posix_spawnp`, the output is read whole and the limit checked after it ends)."""
    if not hasattr(os, "posix_spawnp"):
        import subprocess

        try:
            done = subprocess.run(
                argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{argv[0]} did not finish in {timeout:g} s") from None
        if max(len(done.stdout), len(done.stderr)) > limit:
            raise OverflowError(f"{argv[0]} wrote more than {limit} bytes")
        return done.returncode, done.stdout, done.stderr
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawnp(
            argv[0],
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
            ],
        )
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    try:
        out, err = _collect(out_r, err_r, time.monotonic() + timeout, limit)
    except BaseException:
        os.kill(pid, _KILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(out_r)
        os.close(err_r)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out, err


def _collect(out_r: int, err_r: int, deadline: float, limit: int) -> tuple[bytes, bytes]:
    import select

    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    sizes = dict.fromkeys(chunks, 0)
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN | select.POLLHUP)
    still_open = len(chunks)
    while still_open:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the program did not finish in time")
        for fd, _ in poller.poll(left * 1000):
            data = os.read(fd, _CHUNK)
            if data:
                chunks[fd].append(data)
                sizes[fd] += len(data)
                if sizes[fd] > limit:
                    raise OverflowError(f"the program wrote more than {limit} bytes")
            else:  # end of file: the child closed it (or exited)
                poller.unregister(fd)
                still_open -= 1
    return b"".join(chunks[out_r]), b"".join(chunks[err_r])
