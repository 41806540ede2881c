"""systemd specifiers (`%t`, `%h`, `%N`, ...) as the service manager will expand them in the service
quadlet generates, so a host path is judged as the container will see it.

quadlet copies `%` specifiers into ExecStart= untouched; systemd expands them when it starts the
service, for the manager that runs it: the system manager for rootful quadlets (directories under
`/`, user root), a user's manager for rootless ones (XDG directories under the user's home, the
user's runtime directory). Values that depend on the machine (`%H`, `%m`, `%b`, ...) stay as written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecifierContext:
    """Who runs the generated service, and its name."""

    rootless: bool
    service: str  # the generated unit's name without `.service`, e.g. `web` or `app@1`
    home: str = "/root"  # the manager's user's home (rootful: /root)
    uid: str = "0"
    user: str = "root"

    @staticmethod
    def for_manager(
        rootless: bool, service: str, home: str | None = None, uid: str | None = None
    ) -> SpecifierContext:
        """Rootful: root's system manager. Rootless: a user manager; the home and uid default to
        placeholders under /home and /run/user, which is where they would be on the host."""
        if not rootless:
            return SpecifierContext(False, service)
        h = home or "/home/USER"
        return SpecifierContext(True, service, h, uid or "UID", h.rstrip("/").rsplit("/", 1)[-1] or "USER")


# systemd.unit(5) "Specifiers": directories for the system manager, and for a user manager (relative
# to the user's home, or the runtime directory).
SYSTEM_DIRS: dict[str, str] = {
    "t": "/run",
    "E": "/etc",
    "S": "/var/lib",
    "C": "/var/cache",
    "L": "/var/log",
    "T": "/tmp",
    "V": "/var/tmp",
}
USER_DIRS: dict[str, str] = {
    "t": "{runtime}",
    "E": "{home}/.config",
    "S": "{home}/.local/state",
    "C": "{home}/.cache",
    "L": "{home}/.local/state/log",
    "T": "/tmp",
    "V": "/var/tmp",
}


def _unit_names(service: str) -> dict[str, str]:
    prefix, _, instance = service.partition("@")
    return {
        "n": service + ".service",
        "N": service,
        "p": prefix,
        "P": prefix,
        "i": instance,
        "I": instance,
        "j": prefix.rsplit("-", 1)[-1],
        "J": prefix.rsplit("-", 1)[-1],
        "f": "/" + (instance or prefix),
    }


def table(ctx: SpecifierContext) -> dict[str, str]:
    """Specifier letter -> expansion for this manager and unit."""
    out = _unit_names(ctx.service)
    runtime = f"/run/user/{ctx.uid}"
    for k, v in (USER_DIRS if ctx.rootless else SYSTEM_DIRS).items():
        out[k] = v.format(home=ctx.home, runtime=runtime)
    out.update({"h": ctx.home, "U": ctx.uid, "u": ctx.user, "%": "%"})
    return out


def expand(text: str, ctx: SpecifierContext) -> str:
    """Expand the specifiers systemd would; unknown or machine-dependent ones stay as written."""
    if "%" not in text:
        return text
    values = table(ctx)
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%" and i + 1 < len(text) and text[i + 1] in values:
            out.append(values[text[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)
