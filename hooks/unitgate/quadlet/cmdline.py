"""One argument of the generated podman command line, tied to the quadlet line that produced it.

Its own module so the posture reader (which only reads arguments) does not depend on the converter."""

from __future__ import annotations

from dataclasses import dataclass

from unitgate.model import Location


@dataclass(frozen=True)
class Arg:
    """One podman argument and the quadlet line that produced it (line 0: quadlet's own)."""

    text: str
    location: Location
