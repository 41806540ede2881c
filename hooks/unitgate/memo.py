"""`lru_cache`, `cache` and `cached_property` without importing `functools`, and `pattern()`: a regular
expression compiled, and `re` imported, the first time it is used.

Why: a one-file hook run is mostly interpreter start-up. `functools` imports `collections` (with
`keyword`, `operator`, `reprlib`), and `re` imports `enum` and `functools`: about 7 ms together, two
thirds of a bare interpreter's own start, for regular expressions most units never reach. The caches
are the C ones `functools.lru_cache` builds (CPython's `_functools`), so a memoized call costs what it
did; type checkers see the standard decorators.
"""

from __future__ import annotations

from unitgate.records import overload

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import re
    from functools import cache, cached_property, lru_cache
    from typing import Any
else:
    try:
        from _functools import _lru_cache_wrapper
    except ImportError:  # an interpreter without the C cache: functools' own pure-Python one
        from functools import _lru_cache_wrapper

    def _cache_info(hits: int, misses: int, maxsize: int | None, currsize: int) -> tuple[int, ...]:
        return (hits, misses, maxsize, currsize)  # what `cache_info()` returns: no namedtuple class

    def lru_cache(maxsize=128):
        """`functools.lru_cache(maxsize)` (not typed; always called with the size)."""

        def decorate(function):
            wrapper = _lru_cache_wrapper(function, maxsize, False, _cache_info)
            for name in ("__module__", "__name__", "__qualname__", "__doc__"):
                setattr(wrapper, name, getattr(function, name))
            wrapper.__wrapped__ = function
            return wrapper

        return decorate

    def cache(function):
        """`functools.cache`: unbounded."""
        return lru_cache(None)(function)

    class cached_property:
        """`functools.cached_property`: computed once per instance, then read from the instance's
        `__dict__` (which also works for frozen classes, whose `__setattr__` refuses)."""

        def __init__(self, function):
            self.function = function
            self.name = function.__name__
            self.__doc__ = function.__doc__

        def __set_name__(self, owner, name):
            self.name = name

        def __get__(self, instance, owner=None):
            if instance is None:
                return self
            value = instance.__dict__[self.name] = self.function(instance)
            return value


_COMPILED: dict[str | bytes, re.Pattern[Any]] = {}


@overload
def pattern(source: str) -> re.Pattern[str]: ...
@overload
def pattern(source: bytes) -> re.Pattern[bytes]: ...
def pattern(source: str | bytes) -> re.Pattern[Any]:
    """`re.compile(source)`, compiled (and `re` imported) on first use, then looked up in one dict."""
    compiled = _COMPILED.get(source)
    if compiled is None:
        import re

        compiled = _COMPILED[source] = re.compile(source)
    return compiled


__all__ = ["cache", "cached_property", "lru_cache", "pattern"]
