"""From assessments to systemd-analyze's numbers: integer arithmetic in tenths, ratings, row order."""

from __future__ import annotations

# collections.abc's own classes, without importing `collections` (start-up time)
from _collections_abc import Callable, Iterable, Iterator, Mapping, Sequence

from unitgate.analysis import CheckResult
from unitgate.memo import lru_cache
from unitgate.model import Location
from unitgate.records import dataclass, field, overload
from unitgate.security.checks import CHECKS, Check
from unitgate.security.info import SecurityInfo

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")


@dataclass(frozen=True)
class Rating:
    minimum: int  # tenths
    name: str
    glyph: str
    ascii_glyph: str


# systemd's badness_table: the first row whose minimum is <= the exposure wins.
RATINGS = (
    Rating(100, "DANGEROUS", "🤢", ":-["),
    Rating(90, "UNSAFE", "😨", ":-{"),
    Rating(75, "EXPOSED", "🙁", ":-("),
    Rating(50, "MEDIUM", "😐", ":-|"),
    Rating(10, "OK", "🙂", ":-)"),
    Rating(1, "SAFE", "😀", ":-}"),
    Rating(0, "PERFECT", "😇", ":-]"),
)
NA_DESCRIPTION_DEFAULT_DEPS = "Service runs in special boot phase, option is not appropriate"


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def rating_for(exposure: int) -> Rating:
    return next(r for r in RATINGS if exposure >= r.minimum)


def format_tenths(value: int) -> str:
    return f"{value // 10}.{value % 10}"


# One check's outcome for one unit: (badness, description, decided_by). Plain tuples: a run of
# 10,000 units with distinct settings assesses 810,000 of them.
_Outcome = tuple[int | None, str | None, str | None]
_NOT_APPLICABLE_DEPS: _Outcome = (None, NA_DESCRIPTION_DEFAULT_DEPS, "default_dependencies")


def _assess(check: Check, info: SecurityInfo) -> _Outcome:
    if check.default_dependencies_only and not info.default_dependencies:
        return _NOT_APPLICABLE_DEPS
    a = check.assess(check, info)
    badness = a.badness
    description: str | None
    if a.description is not None:
        description = a.description
    elif badness is None:
        description = check.description_na
    elif badness == check.range:
        description = check.description_bad
    elif badness == 0:
        description = check.description_good
    else:
        description = None
    return badness, description, a.decided_by


@dataclass(frozen=True)
class _Evaluation:
    exposure: int
    rows: tuple[CheckResult, ...]  # without sources: shared by every unit with these settings
    decided_by: tuple[str | None, ...]
    decided: tuple[int, ...]  # the rows a setting may decide (decided_by is not None)
    # What reporters derive from the rows alone (e.g. padded text cells), built once for all the
    # units that share this evaluation; see CheckRows.shared.
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)


_UNSEEN, _ONCE, _JSON = object(), object(), object()


class CheckRows(Sequence[CheckResult]):
    """A unit's rows: shared evaluated rows plus this unit's sources, built only when read."""

    __slots__ = ("_evaluation", "_items", "_origins")

    def __init__(self, evaluation: _Evaluation, origins: Mapping[str, Location]) -> None:
        self._evaluation = evaluation
        self._origins = origins
        self._items: tuple[CheckResult, ...] | None = None

    def _source(self, i: int) -> Location | None:
        decided = self._evaluation.decided_by[i]
        return self._origins.get(decided) if decided else None

    def _all(self) -> tuple[CheckResult, ...]:
        if self._items is None:
            rows = self._evaluation.rows
            self._items = tuple(r._replace(source=self._source(i)) for i, r in enumerate(rows))
        return self._items

    def __len__(self) -> int:
        return len(self._evaluation.rows)

    @overload
    def __getitem__(self, i: int) -> CheckResult: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[CheckResult]: ...
    def __getitem__(self, i: int | slice) -> CheckResult | Sequence[CheckResult]:
        return self._all()[i]

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self._all())

    def sources(self) -> list[Location | None]:
        """Each row's source, in row order: the line that decided it, None for the default."""
        e = self._evaluation
        out: list[Location | None] = [None] * len(e.rows)
        origins, decided_by = self._origins, e.decided_by
        for i in e.decided:
            out[i] = origins.get(decided_by[i])  # type: ignore[arg-type]
        return out

    def shared(self, key: object, build: Callable[[tuple[CheckResult, ...]], T]) -> T:
        """`build(rows)` for the rows without their sources, computed once per distinct evaluation:
        units with the same settings share it (`key` names what `build` makes)."""
        memo = self._evaluation.memo
        found = memo.get(key, _UNSEEN)
        if found is _UNSEEN:  # kept only once a second unit asks: most rows of a large repository
            memo[key] = _ONCE  # with distinct settings are never asked for twice
            return build(self._evaluation.rows)
        if found is _ONCE:
            found = memo[key] = build(self._evaluation.rows)
        return found  # type: ignore[return-value]

    def json_text(self) -> str:
        """The rows as a JSON array (unitgate explain's contract), without building a dict per row."""
        from json.encoder import encode_basestring_ascii as _json_string  # here: `check` never needs it

        e = self._evaluation
        columns: tuple[list[str], list[str], list[str]] | None = e.memo.get(_JSON)  # type: ignore[assignment]
        if columns is None:
            # Each row as JSON up to its "source" value, after it, and whole with "source": null (the
            # default), for every unit with these settings: built on the first JSON request only.
            built = [_json_parts(r) for r in e.rows]
            columns = e.memo[_JSON] = (
                [h for h, _ in built],
                [t for _, t in built],
                [h + "null" + t for h, t in built],
            )
        heads, tails, nulls = columns
        parts = list(nulls)  # most rows keep their default: only rows a unit's lines decided differ
        origins, decided_by = self._origins, e.decided_by
        for i in e.decided:
            source = origins.get(decided_by[i])  # type: ignore[arg-type]
            if source is not None:
                parts[i] = heads[i] + _json_string(str(source)) + tails[i]
        return "[" + ", ".join(parts) + "]"


def check_head(r: CheckResult) -> dict[str, Any]:
    """A row's JSON fields before `source` and `directives`: the one spelling of a check row in JSON,
    used by explain for every row and pre-encoded below for systemd's rows."""
    return {
        "name": r.name,
        "json_field": r.json_field,
        "set": r.set,
        "description": r.description,
        "weight": r.weight,
        "range": r.range,
        "badness": r.badness,
        "exposure": None if r.exposure is None else round(r.exposure / 10, 1),
    }


@lru_cache(maxsize=8192)
def _json_parts(r: CheckResult) -> tuple[str, str]:
    import json  # here: only `explain --format json` encodes rows

    text = json.dumps(check_head(r))
    return text[:-1] + ', "source": ', ', "directives": ' + json.dumps(list(r.directives)) + "}"


def _evaluate(info: SecurityInfo, checks: tuple[Check, ...]) -> _Evaluation:
    # Keyed on the table's identity: hashing 81 rows on every lookup would cost more than it saves.
    cache = _CACHES.setdefault(id(checks), {})
    found = cache.get(info)
    if found is None:
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        found = cache[info] = _compute(info, checks)
    return found


# Entries kept per cache: a repository of 50,000 units with distinct settings must not keep a score
# per unit; the few hundred distinct settings of a real repository all fit.
CACHE_LIMIT = 4096
_CACHES: dict[int, dict[SecurityInfo, _Evaluation]] = {}


def aggregate(rows: Iterable[tuple[int, int, int]]) -> int:
    """systemd-analyze's overall exposure (tenths) from the applicable rows' (badness, weight, range):
    each row's weighted badness rounded up, the sum scaled to 0-100 and rounded up. The one copy of
    this arithmetic: the gate's what-if scores use it too."""
    badness_sum = weight_sum = 0
    for badness, weight, range_ in rows:
        badness_sum -= -badness * weight // range_  # += ceil_div(badness * weight, range_)
        weight_sum += weight
    return ceil_div(badness_sum * 100, weight_sum) if weight_sum else 0


def _compute(info: SecurityInfo, checks: tuple[Check, ...]) -> _Evaluation:
    """Exposure and rows in printed order. Cached: many units share the same settings, and the
    cache key ignores `origins` (where each value came from), which no number depends on."""
    outcomes = tuple([_assess(c, info) for c in checks])
    # Settings that differ often assess the same (another ExecStart=, the same hardening): everything
    # below depends only on the checks' outcomes, so units with the same outcomes share it.
    empty_first = info.release.has("table_empty_cells_first")
    key = (id(checks), empty_first, outcomes)
    found = _BY_OUTCOMES.get(key)
    if found is None:
        if len(_BY_OUTCOMES) >= CACHE_LIMIT:
            _BY_OUTCOMES.clear()
        found = _BY_OUTCOMES[key] = _from_outcomes(checks, outcomes, empty_first)
    return found


_BY_OUTCOMES: dict[tuple[int, bool, tuple[_Outcome, ...]], _Evaluation] = {}


def _from_outcomes(
    checks: tuple[Check, ...], outcomes: tuple[_Outcome, ...], empty_first: bool
) -> _Evaluation:
    applicable = [
        (o[0], c.weight, c.range) for c, o in zip(checks, outcomes, strict=True) if o[0] is not None
    ]
    exposure = aggregate(applicable)
    weight_sum = sum(weight for _, weight, _ in applicable)  # each row's own exposure is scaled by it
    order = _order(checks, outcomes, empty_first)
    rows: list[CheckResult] = []
    for i in order:
        check = checks[i]
        badness, description, _ = outcomes[i]
        # ceil_div(ceil_div(badness * weight * 100, range), weight_sum), written out: 81 rows a unit.
        row_exposure = None
        if badness:
            scaled = -(-badness * check.weight * 100 // check.range)
            row_exposure = -(-scaled // weight_sum)
        # Rows repeat across units (a check's few outcomes, a handful of weight sums): each is built
        # once. Keyed on the check's identity (table rows live as long as the run).
        key = (id(check), badness, description, row_exposure)
        built = _BUILT.get(key)
        if built is None:
            result = CheckResult(
                name=check.name,
                json_field=check.json_field,
                weight=check.weight,
                range=check.range,
                badness=badness,
                exposure=row_exposure,
                description=description,
                directives=check.directives,
            )
            built = _BUILT[key] = result
        rows.append(built)
    decided_by = tuple([outcomes[i][2] for i in order])
    decided = tuple([i for i, d in enumerate(decided_by) if d])
    return _Evaluation(exposure, tuple(rows), decided_by, decided)


_BUILT: dict[tuple[int, int | None, str | None, int | None], CheckResult] = {}


def score(info: SecurityInfo, checks: tuple[Check, ...] = CHECKS) -> tuple[int, CheckRows]:
    """The overall exposure (tenths) and the rows in systemd-analyze's printed order."""
    evaluation = _evaluate(info, checks)
    return evaluation.exposure, CheckRows(evaluation, info.origins)


def _order(checks: tuple[Check, ...], outcomes: tuple[_Outcome, ...], empty_first: bool = False) -> list[int]:
    """The printed order, as indexes into `checks`: sorted as systemd's table does, description
    descending, then name; see _row_compare. Since 262 (`empty_first`) a row without a description
    sorts before every other, then by name."""
    descriptions = [o[1] for o in outcomes]
    if empty_first or None not in descriptions:
        # A consistent order (names are unique): any correct sort gives glibc's result, faster.
        # Strings compare by code point, which is the order of their UTF-8 bytes (systemd's strcmp).
        by_text = sorted(_by_name(checks), key=lambda i: descriptions[i] or "", reverse=True)
        return sorted(by_text, key=lambda i: descriptions[i] is not None)
    names = [c.name for c in checks]

    def compare(ia: int, ib: int) -> int:
        return _row_compare(ia, ib, names, descriptions)

    return glibc_msort(list(range(len(checks))), compare)


def _by_name(checks: tuple[Check, ...]) -> list[int]:
    """Indexes of the table's checks sorted by name: the same for every unit, so computed once."""
    found = _BY_NAME.get(id(checks))
    if found is None:
        found = _BY_NAME[id(checks)] = sorted(range(len(checks)), key=lambda i: checks[i].name)
    return found


_BY_NAME: dict[int, list[int]] = {}


def _cmp(x: int | bytes, y: int | bytes) -> int:
    return int(x > y) - int(x < y)  # type: ignore[operator]


def _row_compare(ia: int, ib: int, names: list[str], descriptions: list[str | None]) -> int:
    """format-table.c's comparator. A missing description is an EMPTY cell: cells of different types
    (and two EMPTY cells) compare by insertion index, and the description column is reversed."""
    a, b = descriptions[ia], descriptions[ib]
    r = _cmp(a.encode(), b.encode()) if a is not None and b is not None else _cmp(ia, ib)
    if r:
        return -r
    r = _cmp(names[ia].encode(), names[ib].encode())
    return r if r else _cmp(ia, ib)


def glibc_msort(items: list[T], compare: Callable[[T, T], int]) -> list[T]:
    """glibc's qsort_r merge sort (n1 = n/2, left element wins ties), so that an inconsistent
    comparator gives the same order systemd-analyze prints."""
    n = len(items)
    if n <= 1:
        return list(items)
    n1 = n // 2
    left = glibc_msort(items[:n1], compare)
    right = glibc_msort(items[n1:], compare)
    out: list[T] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if compare(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out += left[i:]
    out += right[j:]
    return out
