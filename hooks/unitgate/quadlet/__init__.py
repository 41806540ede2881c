"""Podman quadlet files: parser, drop-ins and the container posture score (model `quadlet-1`).

Reference behaviour: podman 5.4.2's quadlet generator.
"""

from unitgate.quadlet.dropins import quadlet_targets
from unitgate.quadlet.engine import (
    QuadletInspection,
    analyze_container,
    command_line,
    generated_service,
    inspect_container,
)
from unitgate.quadlet.score import MODEL

__all__ = [
    "MODEL",
    "QuadletInspection",
    "analyze_container",
    "command_line",
    "generated_service",
    "inspect_container",
    "quadlet_targets",
]
