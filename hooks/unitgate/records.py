"""`dataclass`, `field`, `fields` and `replace` for unitgate's value classes, without `dataclasses`.

Why: unitgate is a pre-commit hook, started once per commit; its whole run on one file takes a few
milliseconds, so start-up is most of it. The standard `dataclasses` module imports `inspect` (with
`ast`, `dis`, `tokenize`) and compiles each generated method separately, about half a millisecond per
class, and unitgate defines dozens. This module writes all of a class's methods as one piece of
source and compiles it once, and imports nothing.

Type checkers see `dataclass` as a dataclass transform (PEP 681), so
`mypy` checks the classes as it checks standard dataclasses. What unitgate uses, and what this supports:
`@dataclass`, `@dataclass(frozen=True)`, `@dataclass(frozen=True, order=True)`; `field(default=...)`,
`field(default_factory=...)`, `field(compare=False)`, `field(repr=False)`; `fields(cls_or_obj)` and
`replace(obj, **changes)`. Generated `__init__`, `__repr__`, `__eq__`, `__hash__`, ordering and the
frozen `__setattr__`/`__delattr__` follow the standard rules (a method the class defines itself is
kept; a mutable class with `eq` is unhashable unless it defines `__hash__`). `tests/test_records.py`
compares them with the standard module's on the same classes.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing `typing` is what this module avoids
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> object:
        return lambda f: f


if TYPE_CHECKING:
    _T = TypeVar("_T")

__all__ = [
    "Enum",
    "FrozenInstanceError",
    "Generic",
    "NamedTuple",
    "TypeVar",
    "dataclass",
    "field",
    "fields",
    "overload",
    "replace",
]


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen instance (as `dataclasses.FrozenInstanceError`)."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_FIELDS = "__unitgate_fields__"


class Field:
    """One field: its name, default or default factory, and whether it is compared and shown."""

    __slots__ = ("compare", "default", "default_factory", "name", "repr")

    def __init__(self, default: Any, default_factory: Any, compare: bool, repr: bool) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr


def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | Any = MISSING,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, compare, repr)


def fields(class_or_instance: Any) -> tuple[Field, ...]:
    try:
        found: tuple[Field, ...] = getattr(class_or_instance, _FIELDS)
    except AttributeError:
        raise TypeError("must be called with a dataclass type or instance") from None
    return found


def replace(obj: _T, /, **changes: Any) -> _T:
    for f in getattr(obj, _FIELDS):
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    made: _T = obj.__class__(**changes)
    return made


class _StandardFields:
    """`__dataclass_fields__`, built on first access, so that the standard `dataclasses.fields`,
    `replace`, `asdict` and `is_dataclass` work on these classes too (tests and tools use them).
    Accessing it imports `dataclasses`; unitgate itself never does."""

    def __get__(self, obj: object, owner: type) -> dict[str, Any]:
        import dataclasses

        made: dict[str, Any] = {}
        for f in getattr(owner, _FIELDS):
            std: Any = dataclasses.field(
                default=dataclasses.MISSING if f.default is MISSING else f.default,
                default_factory=(dataclasses.MISSING if f.default_factory is MISSING else f.default_factory),
                compare=f.compare,
                repr=f.repr,
            )
            std.name = f.name
            std._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # what fields() keeps
            made[f.name] = std
        return made


def _is_classvar(annotation: object) -> bool:
    if isinstance(annotation, str) and not annotation.startswith(("ClassVar", "typing.ClassVar")):
        return False  # the common case, decided without splitting
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(text, str) and text.split("[", 1)[0] in ("ClassVar", "typing.ClassVar")


def _collect(cls: type) -> list[Field]:
    """The class's fields in order: inherited ones first (as `dataclasses` does), then its own."""
    by_name: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get(_FIELDS, ()):
            by_name[f.name] = f
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063  (inspect is what this module avoids importing)
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            f = value
            if f.default is MISSING:
                delattr(cls, name)  # as `dataclasses`: a field() without a default leaves no class attribute
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(value, MISSING, True, True)
        f.name = name
        by_name.pop(name, None)
        by_name[name] = f
    found = list(by_name.values())
    seen_default = False
    for f in found:
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    return found


def _explicit_hash(cls: type) -> bool:
    # A class body that defines __eq__ alone gets `__hash__ = None` from Python: that is not explicit.
    own = cls.__dict__
    return "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)


def _tuple(names: list[str], obj: str) -> str:
    return "(" + "".join(f"{obj}.{n}," for n in names) + ")"


def _source(cls: type, found: list[Field], frozen: bool, eq: bool, order: bool) -> tuple[str, list[str]]:
    """The methods' source, and the names it defines (each set only where the class has none)."""
    lines: list[str] = []
    names: list[str] = []
    own = cls.__dict__
    if "__init__" not in own:
        params, body = ["self"], []
        for i, f in enumerate(found):
            if f.default_factory is not MISSING:
                params.append(f"{f.name}=_MISSING")
                value = f"_factory_{i}() if {f.name} is _MISSING else {f.name}"
            else:
                params.append(f.name if f.default is MISSING else f"{f.name}=_default_{i}")
                value = f.name
            body.append(f"_setattr(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
        if hasattr(cls, "__post_init__"):
            body.append("self.__post_init__()")
        lines += [f"def __init__({', '.join(params)}):", *(f"    {b}" for b in body or ["pass"])]
        names.append("__init__")
    if "__repr__" not in own:
        shown = ", ".join(f"{f.name}={{self.{f.name}!r}}" for f in found if f.repr)
        lines += ["def __repr__(self):", f'    return f"{{self.__class__.__qualname__}}({shown})"']
        names.append("__repr__")
    compared = [f.name for f in found if f.compare]
    if eq and "__eq__" not in own:
        lines += [
            "def __eq__(self, other):",
            "    if other.__class__ is self.__class__:",
            f"        return {_tuple(compared, 'self')} == {_tuple(compared, 'other')}",
            "    return NotImplemented",
        ]
        names.append("__eq__")
    if order:
        for name, op in (("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"), ("__ge__", ">=")):
            if name in own:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
            lines += [
                f"def {name}(self, other):",
                "    if other.__class__ is self.__class__:",
                f"        return {_tuple(compared, 'self')} {op} {_tuple(compared, 'other')}",
                "    return NotImplemented",
            ]
            names.append(name)
    if eq and frozen and not _explicit_hash(cls):
        lines += ["def __hash__(self):", f"    return hash({_tuple(compared, 'self')})"]
        names.append("__hash__")
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in own:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
        lines += [
            "def __setattr__(self, name, value):",
            "    raise _Frozen(f'cannot assign to field {name!r}')",
            "def __delattr__(self, name):",
            "    raise _Frozen(f'cannot delete field {name!r}')",
        ]
        names += ["__setattr__", "__delattr__"]
    return "\n".join(lines) + "\n", names


# Classes whose methods were compiled at run time (no generated code for their key yet): (key, source,
# scope names, module). tools/gen_records.py turns these into records_code*.py; tests/test_records.py
# says when they are stale.
COMPILED: list[tuple[tuple[int, tuple[str, ...]], str, tuple[str, ...], str]] = []
_OWN = (
    "__init__",
    "__repr__",
    "__eq__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__setattr__",
    "__delattr__",
)


def _key(cls: type, found: list[Field], frozen: bool, eq: bool, order: bool) -> tuple[int, tuple[str, ...]]:
    """Everything `_source` reads: the generated code is looked up by it, so a run never builds the
    source of a class whose methods are already compiled. Bits and names, not text: it is computed for
    every class at every start."""
    own = cls.__dict__
    flags = (frozen, eq, order, _explicit_hash(cls), hasattr(cls, "__post_init__"), *(n in own for n in _OWN))
    bits = 0
    for flag in flags:
        bits = bits << 1 | flag
    spec = []
    for f in found:
        bits = bits << 4 | (
            (f.default is not MISSING) << 3
            | (f.default_factory is not MISSING) << 2
            | f.repr << 1
            | f.compare
        )
        spec.append(f.name)
    return bits, tuple(spec)


def _load_generated(module: str) -> dict[tuple[int, tuple[str, ...]], Callable[..., dict[str, Any]]]:
    try:
        code: dict[tuple[int, tuple[str, ...]], Callable[..., dict[str, Any]]] = __import__(
            module, fromlist=["CODE"]
        ).CODE
    except ImportError:  # pragma: no cover - while generating it for the first time
        return {}
    return code


def _generated(key: tuple[int, tuple[str, ...]]) -> Callable[..., dict[str, Any]] | None:
    """The compiled methods for `key`: records_code.py holds the classes of everything but podman
    support, records_code_quadlet.py the quadlet engine's, read only when a class is not in the first
    (a systemd unit's check never needs them)."""
    made = _GENERATED.get(key)
    if made is None and _LATER:
        _GENERATED.update(_load_generated(_LATER.pop()))
        made = _GENERATED.get(key)
    return made


def _process(cls: type, frozen: bool, eq: bool, order: bool) -> type:
    found = _collect(cls)
    key = _key(cls, found, frozen, eq, order)
    made = _generated(key)
    if made is not None:
        # The same methods, compiled ahead of time (records_code.py): only the class's defaults and
        # factories are bound here, in the order of the generated function's parameters.
        bound: list[Any] = [MISSING, object.__setattr__, FrozenInstanceError]
        for f in found:
            bound += (f.default, f.default_factory)
        methods = made(*bound)
    else:
        scope: dict[str, Any] = {
            "_MISSING": MISSING,
            "_setattr": object.__setattr__,
            "_Frozen": FrozenInstanceError,
        }
        for i, f in enumerate(found):
            scope[f"_default_{i}"] = f.default
            scope[f"_factory_{i}"] = f.default_factory
        source, names = _source(cls, found, frozen, eq, order)
        COMPILED.append((key, source, tuple(scope), cls.__module__))
        exec(compile(source, f"<unitgate.records {cls.__qualname__}>", "exec"), scope)
        methods = {name: scope[name] for name in names}
    qualname = cls.__qualname__
    for name, method in methods.items():
        method.__qualname__ = f"{qualname}.{name}"
        setattr(cls, name, method)
    if eq and not frozen and not _explicit_hash(cls):
        cls.__hash__ = None  # type: ignore[assignment]  # as `dataclasses`: mutable and compared by value
    setattr(cls, _FIELDS, tuple(found))
    if "__dataclass_fields__" not in cls.__dict__:
        setattr(cls, "__dataclass_fields__", _StandardFields())  # noqa: B010
    setattr(cls, "__match_args__", tuple(f.name for f in found))  # noqa: B010
    return cls


@dataclass_transform(field_specifiers=(field, Field))
def dataclass(
    cls: type | None = None, /, *, frozen: bool = False, eq: bool = True, order: bool = False
) -> Any:
    def wrap(c: type) -> type:
        return _process(c, frozen, eq, order)

    return wrap if cls is None else wrap(cls)


_GENERATED = _load_generated("unitgate.records_code")
_LATER = ["unitgate.records_code_quadlet"]


def _tuple_field(index: int, doc: str) -> Any:
    """Field `index`'s accessor: CPython's C one (what `collections.namedtuple` uses), else a property."""
    try:
        from _collections import _tuplegetter  # type: ignore[import-not-found]
    except ImportError:
        from _operator import itemgetter

        return property(itemgetter(index), doc=doc)
    return _tuplegetter(index, doc)


class _NamedTupleMeta(type):
    """Builds a named tuple from a class body, as `typing.NamedTuple` does, without `collections` (whose
    import is a sixth of a bare interpreter's start): fields are the annotated names in order (a value
    in the body is the field's default); everything else the body defines (methods, properties, the
    docstring) is set on the class. Construction by position or name, `_fields`, `_field_defaults`,
    `_make`, `_replace`, `_asdict`, `repr`, pickling and `match` as namedtuple's."""

    def __new__(mcls, typename: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        names = tuple(namespace.get("__annotations__", {}))
        defaults = {n: namespace[n] for n in names if n in namespace}
        arguments = ", ".join(names)
        scope: dict[str, Any] = {"_new": tuple.__new__}
        packed = arguments + "," * (len(names) == 1)
        # The constructor namedtuple writes too: one call, no *args unpacking (81 rows per unit).
        exec(f"def __new__(_cls, {arguments}):\n    return _new(_cls, ({packed}))", scope)
        constructor = scope["__new__"]
        constructor.__defaults__ = tuple(defaults.values()) or None
        constructor.__qualname__ = f"{typename}.__new__"
        body: dict[str, Any] = {
            "__slots__": (),
            "__new__": constructor,
            "_fields": names,
            "_field_defaults": defaults,
            "__match_args__": names,
            "_make": classmethod(_make),
            "_replace": _replace,
            "_asdict": _asdict,
            "__repr__": _tuple_repr,
            "__getnewargs__": _getnewargs,
            **{name: _tuple_field(i, f"Alias for field number {i}") for i, name in enumerate(names)},
        }
        body.update((k, v) for k, v in namespace.items() if k not in names and k != "__annotations__")
        return type(typename, (tuple,), body)


def _make(cls: Any, iterable: Any) -> Any:
    made: tuple[Any, ...] = tuple.__new__(cls, iterable)
    if len(made) != len(cls._fields):
        raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(made)}")
    return made


def _replace(self: Any, /, **changes: Any) -> Any:
    made = self._make([changes.pop(name, value) for name, value in zip(self._fields, self, strict=True)])
    if changes:
        raise ValueError(f"Got unexpected field names: {list(changes)!r}")
    return made


def _asdict(self: Any) -> dict[str, Any]:
    return dict(zip(self._fields, self, strict=True))


def _tuple_repr(self: Any) -> str:
    shown = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True))
    return f"{type(self).__name__}({shown})"


def _getnewargs(self: Any) -> tuple[Any, ...]:
    return tuple(self)


class _EnumMeta(type):
    """What unitgate's enums use of `enum.Enum`, built without its machinery (about a third of a
    millisecond per class, a few of which are on every hook run's path): members are the body's
    public names that are neither functions nor descriptors, each an instance of the class (a `str`
    too when the class mixes it in) with `name` and `value`; `Cls(value)`, `Cls[name]`, iteration in
    definition order, `len`, comparison by identity (or as the mixed-in type), pickling by value;
    `str()`, `format()` and `repr()` as Python 3.11's enums write them. tests/test_records.py
    compares it with `enum` on the same classes."""

    _member_map_: dict[str, Any]
    _value2member_map_: dict[Any, Any]

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if not bases:  # the base class itself
            return super().__new__(mcls, name, bases, namespace)
        members = {
            key: value
            for key, value in namespace.items()
            if not key.startswith("_") and not callable(value) and not hasattr(value, "__get__")
        }
        body = {k: v for k, v in namespace.items() if k not in members}
        cls: Any = super().__new__(mcls, name, bases, body)
        mixin = next((b for b in cls.__mro__[1:] if not isinstance(b, _EnumMeta) and b is not object), object)
        for method in ("__repr__", "__str__", "__format__", "__reduce_ex__"):
            if method not in body:  # the enum's own, not the mixed-in type's (as `enum` does)
                type.__setattr__(cls, method, _EnumBase.__dict__[method])
        by_name: dict[str, Any] = {}
        for key, value in members.items():
            member = mixin.__new__(cls, value) if mixin is not object else object.__new__(cls)  # type: ignore[call-arg]
            object.__setattr__(member, "_name_", key)
            object.__setattr__(member, "_value_", value)
            by_name[key] = member
            type.__setattr__(cls, key, member)
        cls._member_map_ = by_name
        cls._value2member_map_ = {m._value_: m for m in by_name.values()}
        return cls

    def __call__(cls, value: Any) -> Any:
        try:
            return cls._value2member_map_[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}") from None

    def __getitem__(cls, name: str) -> Any:
        return cls._member_map_[name]

    def __iter__(cls) -> Any:
        return iter(cls._member_map_.values())

    def __len__(cls) -> int:
        return len(cls._member_map_)

    def __contains__(cls, member: object) -> bool:
        return isinstance(member, cls) and member._name_ in cls._member_map_

    def __setattr__(cls, name: str, value: Any) -> None:
        if name in cls.__dict__.get("_member_map_", {}):
            raise AttributeError(f"cannot reassign member {name!r}")
        super().__setattr__(name, value)


class _EnumBase(metaclass=_EnumMeta):
    __slots__ = ()
    _name_: str
    _value_: Any

    @property
    def name(self) -> str:
        return self._name_

    @property
    def value(self) -> Any:
        return self._value_

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self._name_}: {self._value_!r}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return type(self), (self._value_,)


if TYPE_CHECKING:
    from enum import Enum
    from typing import Generic, NamedTuple, TypeVar, overload
else:
    Enum = _EnumBase  # `class C(str, Enum)` without the `enum` module's class machinery

    class Generic:
        """`typing.Generic` at run time: `class C(Generic[T])` has a plain base (the parameters are
        for type checkers)."""

        __slots__ = ()

        def __class_getitem__(cls, parameters: object) -> type:
            return cls

    def TypeVar(name: str, *constraints: object, **options: object) -> str:
        """`typing.TypeVar` at run time: only type checkers read it."""
        return name

    def overload(f: object) -> object:
        """`typing.overload` at run time: the variants are for type checkers; the last definition runs."""
        return f

    # `class C(NamedTuple): ...` without importing `typing` (several milliseconds of a hook run).
    NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {"__module__": __name__})
