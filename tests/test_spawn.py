"""unitgate.spawn runs git for `check --staged` without importing subprocess: what it must still do."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from unitgate import spawn

LIMIT = 1 << 20


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_output_status_and_errors_are_collected() -> None:
    code, out, err = spawn.run(
        _python("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"), 30, LIMIT
    )
    assert (code, out, err) == (3, b"out\n", b"err\n")


def test_large_output_on_both_streams_does_not_stall() -> None:
    # More than a pipe holds on each stream at once: read as it comes, or the child would block.
    write = "import sys; sys.stdout.write('o' * 300000); sys.stderr.write('e' * 300000)"
    code, out, err = spawn.run(_python(write), 30, LIMIT)
    assert (code, len(out), len(err)) == (0, 300000, 300000)


def test_no_standard_input() -> None:
    assert spawn.run(_python("import sys; print(repr(sys.stdin.read()))"), 30, LIMIT)[1] == b"''\n"


def test_a_program_that_does_not_finish_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        spawn.run(_python("import time; time.sleep(30)"), 0.5, LIMIT)
    assert time.monotonic() - started < 10


def test_a_missing_program_is_an_oserror() -> None:
    with pytest.raises(OSError):
        spawn.run(["unitgate-no-such-program"], 5, LIMIT)


def test_the_same_as_subprocess_for_git(tmp_path: os.PathLike[str]) -> None:
    argv = ["git", "-C", str(tmp_path), "rev-parse", "--is-inside-work-tree"]
    done = subprocess.run(argv, capture_output=True, check=False)
    assert spawn.run(argv, 30, LIMIT) == (done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_program_that_writes_too_much_is_killed(stream: str) -> None:
    # Writes forever: stopped at the limit, long before the timeout, with bounded memory.
    started = time.monotonic()
    with pytest.raises(OverflowError):
        spawn.run(_python(f"import sys\nwhile True: sys.{stream}.write('x' * 65536)"), 60, LIMIT)
    assert time.monotonic() - started < 30
