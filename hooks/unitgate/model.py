"""Values shared by every stage: where a setting came from, and what went wrong where."""

from __future__ import annotations

from unitgate.records import Enum, dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: `line` is 1-based; 0 means the file as a whole."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class Severity(str, Enum):
    """How bad a diagnostic is.

    ERROR: systemd (or quadlet) would refuse the unit, or unitgate cannot read it.
    WARNING: systemd would warn and ignore the line; the unit still loads.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Diagnostic:
    """A message about an input file, tied to the line it concerns."""

    location: Location
    message: str
    severity: Severity = Severity.WARNING
    code: str = "UG000"

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message}"


@dataclass(frozen=True)
class Assignment:
    """One `Key=value` line after continuation joining, with the place it was written."""

    section: str
    key: str
    value: str
    location: Location


class SelectionError(Exception):
    """The files to check cannot be determined (no git, unknown REF, unreadable list): exit 2."""


class UnitInputError(Exception):
    """Input that cannot be analysed at all (unreadable path, bad unit name...)."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message
