"""`unitgate baseline [PATH...]`: record every current finding and exposure (gate/baseline.py)."""

from __future__ import annotations

import os
import sys

from unitgate import escape
from unitgate.gate.baseline import FILE_NAME, exposures_of, record, repository_root, unit_files
from unitgate.gate.command import input_error
from unitgate.gate.run import check
from unitgate.model import UnitInputError
from unitgate.policy import PolicyError

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the hook's path does not import `typing`
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    """`unitgate baseline [PATH...]`: record every current finding and exposure."""
    root = repository_root()
    paths = list(ns.paths) or unit_files(root)
    where = ns.output or os.path.join(root, FILE_NAME)
    if not paths:
        print("unitgate: no unit files to record", file=sys.stderr)
        return 0
    try:
        result = check(paths, policy_file=ns.policy, grouped=False)
    except (PolicyError, UnitInputError) as exc:
        return input_error(exc)
    if result.errors:  # a missing path or a broken policy: nothing half-done
        for error in result.errors:
            print(f"unitgate: {escape.text(error)}", file=sys.stderr)
        return 2
    exposures = exposures_of(result.info.units)
    checked = [(a, exposures.get((a.unit, a.path))) for a, _ in result.checked]
    units, count, dropped = record(where, checked, result.findings)
    stale = f"; dropped {dropped} stale entr{'y' if dropped == 1 else 'ies'}" if dropped else ""
    print(
        f"Recorded {count} finding{'' if count == 1 else 's'} in {units} unit{'' if units == 1 else 's'} "
        f"to {os.path.relpath(where)}{stale}. `unitgate check` now fails only on new findings and on "
        "exposures above the recorded ones."
    )
    return 0
