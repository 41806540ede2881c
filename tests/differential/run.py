"""Run many differential cases and summarise:
python -m tests.differential.run --cases 5000 --seed 7 [--model systemd-257]

Each disagreeing case is written to OUT/seed-S-case-I/ (the generated root plus report.txt), so it can
be inspected, minimised and rerun with `--case I`. Exit status 1 if any case disagrees.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .generator import generate
from .harness import ANALYZER_ENV, run_cases, systemd_analyze


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.differential.run", description=__doc__)
    ap.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    ap.add_argument("--start", type=int, default=0, help="first case index (default 0)")
    ap.add_argument("--case", type=int, action="append", help="run only this case index (repeatable)")
    ap.add_argument("--out", type=Path, default=Path("differential-failures"), help="where to write failures")
    ap.add_argument("--jobs", type=int, default=None, help="parallel systemd-analyze calls")
    ap.add_argument("--model", default="systemd-252", choices=sorted(ANALYZER_ENV), help="scoring model")
    ap.add_argument("--warnings", type=int, default=0, help="list this many kinds of warning mismatches")
    ap.add_argument("--show", type=int, default=3, help="print this many full failure reports (default 3)")
    ns = ap.parse_args(argv)

    if systemd_analyze(ns.model) is None:
        print(f"no systemd-analyze for {ns.model} (set ${ANALYZER_ENV[ns.model]})", file=sys.stderr)
        return 2
    indices = ns.case or range(ns.start, ns.start + ns.cases)
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    warning_kinds: Counter[str] = Counter()
    shown = 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="unitgate-diff-") as tmp:
        outcomes = run_cases((generate(ns.seed, i) for i in indices), Path(tmp), ns.jobs, ns.model)
        for o in outcomes:
            counts["cases"] += 1
            if not o.systemd.loaded:
                counts["systemd refusals"] += 1
            if o.warnings:
                counts["warning mismatches"] += 1
                for w in o.warnings:
                    warning_kinds[_warning_kind(w)] += 1
            if o.agree:
                counts["agree"] += 1
                continue
            counts["disagree"] += 1
            for p in o.problems:
                kinds[p.split(":", 1)[0]] += 1
            dest = ns.out / f"seed-{o.case.seed}-case-{o.case.index}"
            if dest.exists():
                shutil.rmtree(dest)
            o.case.write(dest / "root")
            (dest / "report.txt").write_text(o.report() + "\n")
            if shown < ns.show:
                print(o.report(), end="\n\n")
                shown += 1
    elapsed = time.monotonic() - t0
    print(
        f"{ns.model} seed {ns.seed}: {counts['cases']} cases, {counts['agree']} agree, "
        f"{counts['disagree']} disagree, "
        f"{counts['systemd refusals']} refused by systemd-analyze ({elapsed:.1f}s)"
    )
    same = counts["cases"] - counts["warning mismatches"]
    print(f"warnings: {same} of {counts['cases']} cases warn on the same lines")
    if ns.warnings and warning_kinds:
        print("lines only one side warns about, by message:")
        for kind, n in warning_kinds.most_common(ns.warnings):
            print(f"  {n:6d}  {kind}")
    if kinds:
        print("disagreements by kind:")
        for kind, n in kinds.most_common():
            print(f"  {n:6d}  {kind}")
        print(f"details: {ns.out}/")
    return 1 if counts["disagree"] else 0


def _warning_kind(line: str) -> str:
    """A mismatch reduced to its side and the start of its message (values masked)."""
    side, _, rest = line.partition(": ")
    message = rest.split(": ", 1)[-1]
    masked = re.sub(r"[='].*", "…", message)[:70]
    return f"{side}: {masked}"


if __name__ == "__main__":
    sys.exit(main())
