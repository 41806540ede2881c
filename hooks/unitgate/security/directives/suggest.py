"""'Did you mean' for a key the release does not know: a misspelling, or a key in the wrong section."""

from __future__ import annotations

from unitgate.memo import cache
from unitgate.security.releases import Release


@cache
def _keys_by_section(release: Release) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for name in release.known_keys():
        section, _, key = name.partition(".")
        grouped.setdefault(section, []).append(key)
    return {section: tuple(names) for section, names in grouped.items()}


def did_you_mean(release: Release, section: str, key: str) -> str:
    """' (did you mean ProtectSystem=?)' for a misspelt key; where a known key sits in another section,
    which one. Only computed for unknown keys, so it costs nothing for a unit systemd can read."""
    import difflib  # only on this rare path: keeps start-up lean

    by_section = _keys_by_section(release)
    elsewhere = [
        s for s in ("Unit", "Service", "Install", *sorted(by_section)) if key in by_section.get(s, ())
    ]
    if elsewhere:
        return f" ({key}= belongs in [{elsewhere[0]}])"
    close = difflib.get_close_matches(key, by_section.get(section, ()), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}=?)" if close else ""
