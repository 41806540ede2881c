"""Which policy governs a file: the nearest `.unitgate.toml`, or `pyproject.toml` with a
`[tool.unitgate]` table, walking up from the file to the repository root; else the built-in default."""

from __future__ import annotations

import os
from pathlib import Path

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

    cwd: Path = field(default_factory=Path.cwd)
    _by_dir: dict[Path, Path | None] = field(default_factory=dict)
    _loaded: dict[Path | None, Policy] = field(default_factory=dict)
    # By directory name, before any Path is built: a run asks for thousands of files in a few directories.
    _by_name: dict[str, Policy] = field(default_factory=dict)

    def for_path(self, path: str) -> Policy:
        name = os.path.dirname(os.path.abspath(path))
        found = self._by_name.get(name)
        if found is not None:
            return found
        source = self.source_for(Path(name))
        if source not in self._loaded:
            self._loaded[source] = (
                default_policy() if source is None else load_file(source, display=self._show(source))
            )
        self._by_name[name] = self._loaded[source]
        return self._loaded[source]

    def source_for(self, directory: Path) -> Path | None:
        walked: list[Path] = []
        found: Path | None = None
        for d in (directory, *directory.parents):
            if d in self._by_dir:
                found = self._by_dir[d]
                break
            walked.append(d)
            found = _policy_in(d)
            if found is not None or (d / ".git").exists():
                break
        for d in walked:
            self._by_dir[d] = found
        return found

    def _show(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.cwd)
        except ValueError:  # another drive on Windows
            return str(path)


def _policy_in(directory: Path) -> Path | None:
    candidate = directory / POLICY_FILE
    if os.path.lexists(candidate):
        return candidate  # whatever it is: load_file refuses a FIFO, device or directory out loud
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        # Only a pyproject.toml with a [tool.unitgate] table header is a policy; any other is never
        # parsed (it is not ours to read, and parsing costs what its author wants it to cost).
        try:
            raw = read_policy_bytes(pyproject, str(pyproject))
        except PolicyError:
            return pyproject  # unreadable or too large: load_file reports it rather than skip it silently
        return pyproject if mentions_policy_table(raw) else None
    return None
