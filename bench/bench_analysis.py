"""Benchmark the statistics engine: agreement on 100,000 pairs and a 6-model regression sequence.

    .venv/bin/python bench/bench_analysis.py [--subjects 100000] [--repeat 5] [--all-cores]

Prints the best of ``--repeat`` wall-clock timings per task (goal: each under 1 s) on synthetic data shaped
like the papers' (liver fat in % FF with a 5.5 threshold; BMD against BMFF, sex and adiposity). Runs pinned
to one core with single-threaded BLAS unless ``--all-cores`` is given, so figures compare across machines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

if "--all-cores" not in sys.argv:  # before NumPy starts its BLAS threads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import agreement, model_sequence  # noqa: E402

GOAL_S = 1.0
MODELS = [
    ["bmff_spine", "sex"],
    ["bmff_spine", "sex", "bmi"],
    ["bmff_spine", "sex", "bmi", "legs_fat"],
    ["bmff_spine", "sex", "bmi", "legs_fat", "vat_mass"],
    ["bmff_spine", "sex", "bmi", "legs_fat", "android_fat"],
    ["bmff_spine", "sex", "bmi", "legs_fat", "vat_mass", "android_fat"],
]


def liver_pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reference liver FF (skewed, % FF) and a network estimate with noise; 1 % missing references."""
    reference = rng.gamma(1.5, 3.0, n)
    network = reference + rng.normal(0.0, 1.1, n)
    reference[rng.random(n) < 0.01] = np.nan
    return reference, network


def cohort(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """BMD spine driven by BMFF, sex, BMI and adiposity, as in the BMFF paper's Table 5."""
    male = rng.random(n) < 0.4
    frame = pd.DataFrame({
        "sex": np.where(male, "M", "F"),
        "bmff_spine": rng.normal(55.0, 8.0, n),
        "bmi": rng.normal(23.0, 1.5, n),
        "legs_fat": np.where(male, 21.0, 36.0) + rng.normal(0.0, 4.0, n),
        "vat_mass": rng.gamma(2.0, 0.4, n),
        "android_fat": rng.normal(32.0, 6.0, n),
    })
    frame["bmd_spine"] = (1.2 - 0.005 * frame.bmff_spine + 0.05 * male + 0.02 * frame.bmi
                          - 0.006 * frame.legs_fat + 0.04 * frame.vat_mass + rng.normal(0.0, 0.12, n))
    return frame


def best_of(task: Callable[[], object], repeat: int) -> float:
    """Best wall-clock time in seconds over ``repeat`` runs (after one warm-up run)."""
    task()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        task()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core / one BLAS thread")
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    reference, network = liver_pairs(args.subjects, rng)
    frame = cohort(args.subjects, rng)
    tasks = {
        f"agreement, {args.subjects:,} pairs": lambda: agreement(reference, network),
        f"6-model regression sequence, {args.subjects:,} subjects": lambda: model_sequence(
            frame, "bmd_spine", MODELS),
    }
    failed = False
    for name, task in tasks.items():
        seconds = best_of(task, args.repeat)
        verdict = "ok" if seconds < GOAL_S else "SLOWER THAN GOAL"
        failed |= seconds >= GOAL_S
        print(f"{name}: {seconds * 1000:.1f} ms (best of {args.repeat}; goal < {GOAL_S:g} s) {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
