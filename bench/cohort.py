"""Shared by the benchmarks: the command line for a synthetic cohort, one core, and the cached cohort."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cohort_arguments(description: str) -> argparse.Namespace:
    """--subjects, --scale and --seed, then pins the process to one core (the goals are per core)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--subjects", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    return args


def cached_cohort(args: argparse.Namespace) -> Path:
    """The synthetic cohort for these arguments under bench/out/, written once (again if interrupted)."""
    from ml.synthetic import make_cohort

    cohort = ROOT / "bench" / "out" / f"cohort-n{args.subjects}-s{args.scale:g}-seed{args.seed}"
    if not (cohort / "showcase.csv").exists():
        shutil.rmtree(cohort, ignore_errors=True)
        print(f"writing {args.subjects} synthetic subjects at scale {args.scale:g} to {cohort} ...")
        started = time.perf_counter()
        make_cohort(cohort, args.subjects, seed=args.seed, scale=args.scale, repeat_fraction=0.0)
        print(f"  generated in {time.perf_counter() - started:.1f} s")
    return cohort
