"""How hard the synthetic cohort is: the realism report (``ml.synthetic.realism``) beside the papers' figures.

.venv/bin/python bench/bench_realism.py --subjects 6 --scale 1.0 [--seed 2024] [--folder DIR]

Reuses (or writes once) the cached cohort under bench/out/ (``cohort-n{N}-s{S}-seed{SEED}-g{VERSION}``, the
generator's version), or measures the cohort in --folder; prints one table (figure | synthetic | published |
note) and writes realism.json into the cohort folder. One core, no database.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from cohort import cached_cohort


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--folder", type=Path, help="Measure this cohort folder instead of the cached one.")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from ml.synthetic.realism import cohort_report

    folder = args.folder or cached_cohort(args)
    started = time.perf_counter()
    report = cohort_report(folder)
    path = report.write_json(folder / "realism.json")
    print(report.table())
    print(f"measured in {time.perf_counter() - started:.1f} s; figures per visit in {path}")


if __name__ == "__main__":
    main()
