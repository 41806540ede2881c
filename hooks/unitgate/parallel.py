"""Spread independent work over the machine's cores, for runs over thousands of units.

Only where `fork` is the natural start method (Linux): workers inherit the parent's caches and
imports, so starting them costs milliseconds. Elsewhere, and for small inputs, work stays in-process.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import TypeVar

    T = TypeVar("T")
    R = TypeVar("R")

MIN_ITEMS = 200  # below this, starting workers costs more than it saves


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def workers() -> int:
    """How many worker processes a large run starts; below 2, none (work stays in-process)."""
    if not sys.platform.startswith("linux"):
        return 1
    return min(_cores(), 8)


def map_ordered(fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
    """fn(x) for x in items, in order, from worker processes when that pays off.

    Results are yielded as they arrive, so the caller can write them while workers still compute.
    """
    count = workers()
    if len(items) < MIN_ITEMS or count < 2:
        yield from map(fn, items)
        return
    yield from forked_map(fn, items, max(16, len(items) // (count * 8)))


def forked_map(fn: Callable[[T], R], items: Iterable[T], chunk: int) -> Iterator[R]:
    """fn(x) for x in items, in order, from `workers()` forked processes, `chunk` items per message.
    `items` may be a generator: it is drawn (in a thread of this process) while the workers compute,
    so producing the work overlaps doing it."""
    import multiprocessing  # here: it imports socket, pickle, threading..., which one file never needs

    with multiprocessing.get_context("fork").Pool(workers()) as pool:
        yield from pool.imap(fn, items, chunksize=chunk)
