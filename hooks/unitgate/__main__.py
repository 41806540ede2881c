"""`python -m unitgate` and the `unitgate` console script.

A hook run checks a few files and exits; most of its time is the interpreter starting and stopping.
Two things here only change how fast that is, never what is printed or returned:

* the cyclic collector runs less often: start-up builds long-lived tables, and collecting during it
  only walks them again (about 3 ms of a one-file run). Raised, not disabled, so a run over 50,000
  units still collects its cycles;
* the process ends with `os._exit` once the output is flushed, skipping the interpreter's teardown of
  every module's objects (about 6 ms). Nothing else is pending by then: files are written and closed
  in `with` blocks, worker pools are joined where they are used, and unitgate registers no exit hooks.
  `cli.main` itself returns normally, so tests and embedders keep a normal interpreter.
"""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from typing import TextIO

GC_THRESHOLD = (20_000, 50, 50)  # allocations before a young collection (the default is 700)


def entry() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    from unitgate.cli import main

    code = main()
    _flush(sys.stdout)
    _flush(sys.stderr)
    os._exit(code)


def _flush(stream: TextIO | None) -> None:
    try:
        if stream is not None:  # None: started with the descriptor closed (`>&-`)
            stream.flush()
    except OSError:  # the reader went away (`| head`) or the device is full: main has said so
        pass


if __name__ == "__main__":
    entry()
