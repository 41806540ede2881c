"""Shrink a disagreeing case: python -m tests.differential.minimise --seed S --case I [--case J ...]

Greedily drops files, then single lines, as long as systemd-analyze and unitgate still disagree in
the same way (the same set of differing rows, or the same load-state disagreement). Prints the
minimal files and both verdicts.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

from .generator import Case, generate
from .harness import Outcome, compare, run_systemd, run_unitgate, systemd_analyze

_counter = itertools.count()


def _outcome(case: Case, tmp: Path, analyzer: str) -> Outcome:
    root = tmp / f"m{next(_counter)}"  # never reuse a directory: unitgate caches listings by path
    root.mkdir()
    case.write(root)
    sd, ug = run_systemd(root, case.unit_name, analyzer), run_unitgate(root, case)
    return Outcome(case, sd, ug, compare(sd, ug))


def signature(o: Outcome) -> frozenset[str]:
    return frozenset(p.split(":", 1)[0] for p in o.problems)


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    eol = b"\r\n" if b"\r\n" in data else b"\r" if b"\r" in data and b"\n" not in data else b"\n"
    return data.split(eol), eol


def minimise(case: Case, tmp: Path, analyzer: str) -> Outcome:
    first = _outcome(case, tmp, analyzer)
    want = signature(first)
    if not want:
        return first
    best = first

    def still(candidate: Case) -> bool:
        nonlocal best
        o = _outcome(candidate, tmp, analyzer)
        if o.problems and signature(o) == want:
            best = o
            return True
        return False

    cur = case
    for rel in sorted({*cur.files, *cur.links}):  # whole files (never the unit file itself)
        if rel == cur.unit_file:
            continue
        trial = Case(cur.seed, cur.index, cur.unit_file, dict(cur.files), dict(cur.links), cur.note)
        trial.files.pop(rel, None)
        trial.links.pop(rel, None)
        if still(trial):
            cur = trial
    changed = True
    while changed:  # single lines, until nothing more can go
        changed = False
        for rel in sorted(cur.files):
            lines, eol = _split(cur.files[rel])
            i = 0
            while i < len(lines):
                trial_lines = lines[:i] + lines[i + 1 :]
                trial = Case(cur.seed, cur.index, cur.unit_file, dict(cur.files), dict(cur.links), cur.note)
                trial.files[rel] = eol.join(trial_lines)
                if trial.files[rel] and still(trial):
                    cur, lines, changed = trial, trial_lines, True
                else:
                    i += 1
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.differential.minimise", description=__doc__)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--case", type=int, action="append", required=True)
    ns = ap.parse_args(argv)
    analyzer = systemd_analyze()
    if analyzer is None:
        print("systemd-analyze is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="unitgate-min-") as tmp:
        for index in ns.case:
            o = minimise(generate(ns.seed, index), Path(tmp), analyzer)
            print(o.report() if o.problems else f"seed {ns.seed} case {index}: no disagreement", end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
