"""The gate: hold each changed unit against its policy (`unitgate check`).

Modules, each importing only from those above it in this list:
values (the engine's merged unit; policy values read by the engine's parsers) -> exposure (scores
without some checks, fix advice) -> load (load-state findings) -> units (unit rules) ->
container_values -> container_advice (container exposure) -> containers (container rules) -> run (one
run) -> command (the `unitgate check` subcommand; the one spelling of an error that stops a run) ->
fix, baseline_cmd (the `fix` and `baseline` subcommands).
See docs/architecture.md.
"""

from __future__ import annotations

from unitgate.gate.load import NOT_SUPPORTED
from unitgate.gate.run import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Result, check, evaluate

__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "NOT_SUPPORTED", "Result", "check", "evaluate"]
