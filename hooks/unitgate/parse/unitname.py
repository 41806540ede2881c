"""Unit names: validity, templates, instances and dash prefixes (systemd's unit-name.c rules)."""

from __future__ import annotations

from unitgate.memo import lru_cache

UNIT_TYPES = (
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
)
UNIT_NAME_MAX = 256  # names must be shorter than this
_VALID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\")
_VALID_WITH_AT = _VALID | {"@"}

# Templates given directly are analysed as this instance, as `systemd-analyze security --offline` does.
DEFAULT_INSTANCE = "i"


def split_type(name: str) -> tuple[str, str]:
    """("foo@bar", "service") for "foo@bar.service"."""
    stem, _, suffix = name.rpartition(".")
    return stem, suffix


def is_valid(name: str) -> bool:
    """A plain, template or instance unit name."""
    return kind(name) is not None


@lru_cache(maxsize=8192)
def kind(name: str) -> str | None:
    """ "plain", "template", "instance", or None for an invalid unit name."""
    if not name or len(name) >= UNIT_NAME_MAX:
        return None
    stem, suffix = split_type(name)
    if not stem or suffix not in UNIT_TYPES:
        return None
    if not _VALID_WITH_AT.issuperset(stem):
        return None
    at = stem.find("@")
    if at == 0:
        return None
    if at < 0:
        return "plain"
    return "template" if at == len(stem) - 1 else "instance"


def template_of(name: str) -> str:
    """foo@bar.service -> foo@.service."""
    stem, suffix = split_type(name)
    return f"{stem[: stem.index('@') + 1]}.{suffix}"


def instance_of(name: str) -> str | None:
    stem, _ = split_type(name)
    at = stem.find("@")
    return None if at < 0 else stem[at + 1 :]


def prefix_of(name: str) -> str:
    """The part before "@" (or the whole stem)."""
    stem, _ = split_type(name)
    return stem.split("@", 1)[0]


def with_instance(template: str, instance: str) -> str:
    stem, suffix = split_type(template)
    return f"{stem}{instance}.{suffix}"


def dash_parent(name: str) -> str | None:
    """The next "foo-.service" drop-in name systemd searches above `name`, or None.

    "foo-bar-baz@x.service" -> "foo-bar-@x.service"; a trailing dash is chopped once before
    searching ("foo-.service" -> None, "a--b.service" -> "a--.service" -> "a-.service").
    """
    prefix = prefix_of(name)
    chopped = False
    while True:
        dash = prefix.rfind("-")
        if dash <= 0:  # no dash, or a leading one: done
            return None
        if dash + 1 < len(prefix) or chopped:
            prefix = prefix[: dash + 1]
            break
        prefix = prefix[:dash]
        chopped = True
    if not prefix or any(c not in _VALID for c in prefix):
        return None
    _, suffix = split_type(name)
    if kind(name) == "instance":
        return f"{prefix}@{instance_of(name)}.{suffix}"
    return f"{prefix}.{suffix}"  # templates lose their "@" here, as in unit_file_find_dirs()


@lru_cache(maxsize=8192)
def dropin_dir_names(name: str) -> tuple[str, ...]:
    """Drop-in directory stems for one name in one search directory, most specific first.

    Mirrors unit_file_find_dirs(): the name itself, then (for an instance) its template and the
    template's dash prefixes, then the name's own dash prefixes, recursively.
    """
    out: tuple[str, ...] = (name,)
    if kind(name) == "instance":
        out += dropin_dir_names(template_of(name))
    parent = dash_parent(name)
    if parent is not None:
        out += dropin_dir_names(parent)
    return out
