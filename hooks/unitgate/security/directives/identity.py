"""Who the unit runs as and where: users and groups, root and working directories, other paths."""

from __future__ import annotations

from unitgate.model import Assignment, Diagnostic
from unitgate.security.directives.state import (
    NOTICE,
    OK,
    Handler,
    Outcome,
    UnitState,
    collapse_slashes,
    fatal,
    is_normalized,
    path_problem,
    reject,
    warn,
)
from unitgate.security.words import Extract, SpecifierError, UnitContext, WordError, split_words

NOBODY = "nobody"


def _parse_uid(text: str) -> bool:
    """parse_uid(): a decimal uid without sign or leading zeros, excluding the two invalid ids."""
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0") or len(text) > 10:
        return False  # more than 10 digits: above 2**32 (and more than int() converts, at thousands)
    uid = int(text)
    return uid < 2**32 - 1 and uid != 65535


def valid_user_name_relaxed(name: str) -> bool:
    """valid_user_group_name(…, ALLOW_NUMERIC|RELAX): systemd's lenient user/group name rule."""
    if not name:
        return False
    if _parse_uid(name):
        return True
    if name.startswith(" ") or name.endswith(" "):
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name) or ":" in name or "/" in name:
        return False
    if name.isascii() and name.isdigit():
        return False
    if name.startswith("-") and name[1:].isascii() and name[1:].isdigit():
        return False
    return name not in (".", "..")


def user_or_group(attr: str) -> Handler:
    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        if not a.value:
            setattr(state, attr, None)
            state.touch(attr, a.location)
            return OK
        try:
            name = ctx.expand(a.value)
        except SpecifierError as exc:
            return fatal(a, str(exc))
        if not valid_user_name_relaxed(name):
            return fatal(a, "invalid user/group name or numeric ID")
        setattr(state, attr, name)
        state.touch(attr, a.location)
        if attr == "user" and name == NOBODY:
            return warn(a, "the 'nobody' user should not run services", NOTICE, ignored=False)
        return OK

    return handle


def supplementary_groups(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    if not a.value:
        state.supplementary_groups = []
        state.touch("supplementary_groups", a.location)
        return OK
    try:
        words = split_words(a.value)
    except WordError:
        return fatal(a, "invalid syntax")
    for word in words:
        try:
            name = ctx.expand(word)
        except SpecifierError as exc:
            return fatal(a, str(exc))
        if not valid_user_name_relaxed(name):
            return fatal(a, f"invalid group name '{name}'")
        state.supplementary_groups.append(name)
        state.touch("supplementary_groups", a.location)
    return OK


def root_path(attr: str | None) -> Handler:
    """RootDirectory=/RootImage=/RootVerity=: config_parse_unit_path_printf with fatal errors."""

    def handle(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
        try:
            path = ctx.expand(a.value)
        except SpecifierError as exc:
            return fatal(a, str(exc))
        problem = path_problem(path) if path else None
        if problem is not None:
            return fatal(a, problem)
        if attr is not None:
            setattr(state, attr, collapse_slashes(path) if path else None)
            state.touch(attr, a.location)
        return OK

    return handle


def working_directory(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """A "-" prefix turns every error into a warning; "~" (the home directory) is always fine."""
    value, ignore = (a.value[1:], True) if a.value.startswith("-") else (a.value, False)
    if not a.value or value == "~":
        state.working_directory, state.working_directory_home = None, value == "~"
        state.touch("working_directory", a.location)
        return OK
    if not value:  # "-" alone: an empty path, which is not absolute
        return warn(a, "path is not absolute, ignored")
    try:
        path = ctx.expand(value)
    except SpecifierError as exc:
        return reject(a, str(exc), ignore)
    problem = path_problem(path)
    if problem is None:
        state.working_directory, state.working_directory_home = collapse_slashes(path), False
        state.touch("working_directory", a.location)
        return OK
    return reject(a, problem, ignore)


def pid_file(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """Relative paths live under /run; a path with ".." stops the load (state "error")."""
    if not a.value:
        return OK
    try:
        path = ctx.expand(a.value)
    except SpecifierError as exc:
        return warn(a, f"{exc}, ignored")
    if not path.startswith("/"):
        path = "/run/" + path
    if not is_normalized(path):
        refusal = fatal(a, "path is not normalized")
        return Outcome(refusal.diagnostics, fatal=True, error=True)
    if path.startswith("/var/run/") and state.release.has("var_run_notice"):
        message = f"{path} is below the legacy /var/run/; systemd reads it as /run/{path[9:]}"
        return warn(a, message, NOTICE, ignored=False)
    return OK


def security_label(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """SELinuxContext=/AppArmorProfile=/SmackProcessLabel=: a bad specifier is fatal without "-"."""
    value, ignore = (a.value[1:], True) if a.value.startswith("-") else (a.value, False)
    try:
        ctx.expand(value)
    except SpecifierError as exc:
        return reject(a, str(exc), ignore)
    return OK


def mount_images(state: UnitState, a: Assignment, ctx: UnitContext) -> Outcome:
    """MountImages=SOURCE:DEST[:OPTIONS]...: only complete, absolute pairs count as images."""
    if not a.value:
        state.mount_images = False
        state.touch("mount_images", a.location)
        return OK
    try:
        tuples = split_words(a.value, Extract.UNQUOTE)
    except WordError:
        return warn(a, "invalid syntax, ignored")
    diags: list[Diagnostic] = []
    for item in tuples:
        source, _, rest = item.partition(":")
        dest = rest.partition(":")[0]
        try:
            source, dest = ctx.expand(source.removeprefix("-")), ctx.expand(dest)
        except SpecifierError as exc:
            diags += warn(a, f"{exc}, ignored").diagnostics
            continue
        if not source.startswith("/") or not dest.startswith("/"):
            diags += warn(a, f"'{item}' needs an absolute source and destination, ignored").diagnostics
            continue
        state.mount_images = True
        state.touch("mount_images", a.location)
    return Outcome(tuple(diags))
