"""Which policy governs a file: the nearest `.unitgate.toml`, or `pyproject.toml` with a
`[tool.unitgate]` table, walking up from the file to the repository root; else the built-in default."""

from __future__ import annotations

import os

from unitgate.policy import (
    POLICY_FILE,
    Policy,
    PolicyError,
    default_policy,
    load_file,
    mentions_policy_table,
    read_policy_bytes,
)
from unitgate.records import dataclass, field


@dataclass
class Finder:
    """Finds the policy for each checked file: the nearest .unitgate.toml or [tool.unitgate] in a
    pyproject.toml, walking up from the file to the repository root (a directory holding .git);
    else the built-in default. Results are cached per directory and per policy file."""

    cwd: str = field(default_factory=os.getcwd)
    _by_dir: dict[str, str | None] = field(default_factory=dict)  # absolute directory -> its policy file
    _loaded: dict[str | None, Policy] = field(default_factory=dict)

    def for_path(self, path: str) -> Policy:
        source = self.source_for(os.path.dirname(os.path.abspath(path)))
        if source not in self._loaded:
            self._loaded[source] = (
                default_policy() if source is None else load_file(source, display=self._show(source))
            )
        return self._loaded[source]

    def source_for(self, directory: str) -> str | None:
        """The policy file governing the files in `directory` (an absolute, normalised path)."""
        walked: list[str] = []
        found: str | None = None
        d = directory
        while True:
            if d in self._by_dir:
                found = self._by_dir[d]
                break
            walked.append(d)
            found = _policy_in(d)
            parent = os.path.dirname(d)
            if found is not None or os.path.exists(os.path.join(d, ".git")) or parent == d:
                break
            d = parent
        for d in walked:
            self._by_dir[d] = found
        return found

    def _show(self, path: str) -> str:
        try:
            return os.path.relpath(path, self.cwd)
        except ValueError:  # another drive on Windows
            return path


def _policy_in(directory: str) -> str | None:
    candidate = os.path.join(directory, POLICY_FILE)
    if os.path.lexists(candidate):
        return candidate  # whatever it is: load_file refuses a FIFO, device or directory out loud
    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject):
        # Only a pyproject.toml with a [tool.unitgate] table header is a policy; any other is never
        # parsed (it is not ours to read, and parsing costs what its author wants it to cost).
        try:
            raw = read_policy_bytes(pyproject, pyproject)
        except PolicyError:
            return pyproject  # unreadable or too large: load_file reports it rather than skip it silently
        return pyproject if mentions_policy_table(raw) else None
    return None
