"""unitgate.records behaves as the standard `dataclasses` for what unitgate's classes use."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from typing import Any

import pytest

from unitgate import records


def _define(dc: Any, fld: Any) -> dict[str, type]:
    @dc(frozen=True, order=True)
    class Loc:
        path: str
        line: int = 0

    @dc(frozen=True)
    class Info:
        unit: str = fld(compare=False)
        kind: str
        tags: tuple[str, ...] = ()
        extra: tuple[int, ...] = fld(default_factory=tuple)
        hidden: object = fld(default=None, compare=False, repr=False)

    @dc
    class State:
        a: int = 1
        items: list[int] = fld(default_factory=list)

    @dc(frozen=True)
    class OwnHash:
        x: int

        def __hash__(self) -> int:
            return 7

    return {"Loc": Loc, "Info": Info, "State": State, "OwnHash": OwnHash}


STD = _define(dataclasses.dataclass, dataclasses.field)
OURS = _define(records.dataclass, records.field)


def _both(name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    return STD[name](*args, **kwargs), OURS[name](*args, **kwargs)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("Loc", ("a.service",), {}),
        ("Loc", ("a.service", 3), {}),
        ("Info", ("u", "service"), {"tags": ("x",)}),
        ("Info", (), {"unit": "u", "kind": "k", "hidden": 5}),
        ("State", (), {}),
        ("State", (2, [1]), {}),
        ("OwnHash", (1,), {}),
    ],
)
def test_same_repr_and_fields(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    std, ours = _both(name, *args, **kwargs)
    assert repr(std).split(".")[-1] == repr(ours).split(".")[-1]
    assert [f.name for f in dataclasses.fields(std)] == [f.name for f in records.fields(ours)]
    assert [f.compare for f in dataclasses.fields(std)] == [f.compare for f in records.fields(ours)]


def test_equality_hash_and_order() -> None:
    a, b = OURS["Info"]("one", "service"), OURS["Info"]("two", "service")
    assert a == b and hash(a) == hash(b)  # `unit` is not compared, as in the standard module
    assert a != OURS["Info"]("one", "socket")
    loc = OURS["Loc"]
    assert sorted([loc("b", 1), loc("a", 2), loc("a", 1)]) == [loc("a", 1), loc("a", 2), loc("b", 1)]
    assert loc("a", 1).__lt__(3) is NotImplemented
    assert hash(OURS["OwnHash"](1)) == 7
    with pytest.raises(TypeError):
        hash(OURS["State"]())  # mutable with eq: unhashable, as in the standard module
    assert OURS["State"]().items is not OURS["State"]().items  # a new default per instance


def test_frozen_and_replace() -> None:
    loc = OURS["Loc"]("a", 1)
    with pytest.raises(dataclasses.FrozenInstanceError.__mro__[1]):  # AttributeError, as the standard
        loc.line = 2
    with pytest.raises(records.FrozenInstanceError):
        del loc.path
    assert records.replace(loc, line=5) == OURS["Loc"]("a", 5)
    assert records.replace(loc) == loc
    state = OURS["State"]()
    state.a = 3
    assert state.a == 3


def test_pickles() -> None:
    info = OURS["Info"]("u", "service", ("t",), (1,))
    # The classes live in a function; pickle the state the way fork workers hand results back.
    assert pickle.loads(pickle.dumps(info.__dict__)) == info.__dict__


def test_match_args() -> None:
    assert getattr(OURS["Loc"], "__match_args__") == getattr(STD["Loc"], "__match_args__")  # noqa: B009


def test_check_path_does_not_import_dataclasses() -> None:
    code = "import sys, unitgate.gate.run, unitgate.cli; print('dataclasses' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_standard_functions_work_on_them() -> None:
    info = OURS["Info"]("u", "service", ("t",))
    assert dataclasses.is_dataclass(info)
    assert dataclasses.replace(info, kind="socket") == OURS["Info"]("u", "socket", ("t",))
    assert [f.name for f in dataclasses.fields(info)] == [f.name for f in dataclasses.fields(STD["Info"])]
    assert dataclasses.asdict(OURS["Loc"]("a", 2)) == {"path": "a", "line": 2}


def test_every_class_has_generated_methods() -> None:
    # Each unitgate class's methods come compiled ahead of time (records_code.py), or the hook pays
    # for compiling them at every start. After changing a value class: python tools/gen_records.py
    code = (
        "import importlib, pkgutil, unitgate\n"
        "from unitgate import records\n"
        "for m in pkgutil.walk_packages(unitgate.__path__, 'unitgate.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "print(len(records.COMPILED))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", (
        "run: python tools/gen_records.py && ruff format hooks/unitgate/records_code*.py"
    )


def test_generated_methods_are_current() -> None:
    # Keyed by fields and flags, not by source: a change to the code records.py generates must be
    # regenerated too, or the old methods would keep running.
    pytest.importorskip("ruff")
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "tools" / "gen_records.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _enum_behaviour(base: Any) -> list[object]:
    class Colour(str, base):  # type: ignore[misc,valid-type]
        """A str enum, as unitgate's Level, Severity and LoadState."""

        RED = "red"
        DARK_BLUE = "dark-blue"

        @property
        def warm(self) -> bool:
            return self is Colour.RED

    class Shape(base):  # type: ignore[misc,valid-type]
        SQUARE = "square"
        ROUND = "round"

    for cls in (Colour, Shape):  # pickled by reference: as if defined at module level
        cls.__qualname__ = cls.__name__
        globals()[cls.__name__] = cls
    red, blue, square = Colour.RED, Colour.DARK_BLUE, Shape.SQUARE
    seen: list[object] = [str(red), format(red), f"{red:>12}", repr(red), red == "red", red != "blue"]
    seen += [hash(red) == hash("red"), Colour("red") is red, Colour["DARK_BLUE"] is blue, list(Colour)]
    seen += [len(Colour), red.name, red.value, type(red.value), red.warm, blue.warm, isinstance(red, str)]
    seen += [isinstance(red, Colour), red in Colour, pickle.loads(pickle.dumps(blue)) is blue, Colour.__doc__]
    seen += [
        str(square),
        repr(square),
        square == "square",
        square == Shape.SQUARE,
        Shape("round") is Shape.ROUND,
    ]
    seen += [{square: 1}[Shape.SQUARE], pickle.loads(pickle.dumps(square)) is square, sorted(Colour)]
    with pytest.raises(ValueError) as not_a_value:
        Colour("green")
    with pytest.raises(KeyError) as not_a_name:
        Shape["TRIANGLE"]
    return [*seen, str(not_a_value.value), str(not_a_name.value)]


def test_enum_behaves_as_the_standard_one() -> None:
    import enum

    assert _enum_behaviour(records.Enum) == _enum_behaviour(enum.Enum)


def _named_tuple_behaviour(base: Any) -> list[object]:
    class Row(base):  # type: ignore[misc, valid-type]
        """A row."""

        name: str
        value: int = 0
        tags: tuple[str, ...] = ()

        @property
        def shown(self) -> str:
            return f"{self.name}={self.value}"

    class One(base):  # type: ignore[misc, valid-type]
        only: int

    row = Row("a", 2)
    seen: list[object] = [
        row,
        tuple(row),
        repr(row),
        row.shown,
        row.name,
        row[1],
        Row(name="b"),
        Row("c", tags=("x",)),
        row._replace(value=5),
        row._asdict(),
        Row._fields,
        Row._field_defaults,
        Row._make(["d", 1, ()]),
        Row.__doc__,
        Row.__match_args__,
        row == ("a", 2, ()),
        hash(row) == hash(("a", 2, ())),
        isinstance(row, tuple),
        repr(One(3)),
        One(3) == (3,),
        Row.__name__,
        Row.__qualname__.rpartition(".")[2],
    ]

    def error(call: Any) -> type[BaseException] | None:
        try:
            call()
        except (TypeError, ValueError, AttributeError) as exc:
            return type(exc)
        return None

    seen += [error(lambda: Row()), error(lambda: Row("a", 1, (), 4)), error(lambda: row._replace(nope=1))]
    seen += [error(lambda: Row._make([1])), error(lambda: setattr(row, "name", "z"))]
    match row:
        case Row(name, value):
            seen.append((name, value))
    return seen


def test_named_tuple_behaves_as_typings() -> None:
    import typing

    assert _named_tuple_behaviour(records.NamedTuple) == _named_tuple_behaviour(typing.NamedTuple)


def test_named_tuples_pickle() -> None:
    from unitgate.analysis import CheckResult

    row = CheckResult(*(f"f{i}" for i in range(len(CheckResult._fields))))
    assert pickle.loads(pickle.dumps(row)) == row
    assert type(pickle.loads(pickle.dumps(row))) is CheckResult
