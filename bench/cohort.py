"""Shared by the benchmarks: the command line for a synthetic cohort, one core, and the cached cohort."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
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
    """The synthetic cohort for these arguments under bench/out/, written once (again if interrupted or made by
    another generator version)."""
    from ml.synthetic import make_cohort
    from ml.synthetic.tables import GENERATOR_VERSION

    name = f"cohort-n{args.subjects}-s{args.scale:g}-seed{args.seed}-g{GENERATOR_VERSION}"
    cohort = ROOT / "bench" / "out" / name
    if not (cohort / "showcase.csv").exists():
        shutil.rmtree(cohort, ignore_errors=True)
        print(f"writing {args.subjects} synthetic subjects at scale {args.scale:g} to {cohort} ...")
        started = time.perf_counter()
        make_cohort(cohort, args.subjects, seed=args.seed, scale=args.scale, repeat_fraction=0.0)
        print(f"  generated in {time.perf_counter() - started:.1f} s")
    return cohort


def demo_pipeline(study: Path, demo_arguments: list[str], summary: dict) -> dict:
    """``manage.py demo --no-serve`` with ``demo_arguments`` on a new study in ``study`` (SQLite, jobs
    in-process), once per study folder: ``pipeline.json`` keeps ``summary``, the run's time and each step's."""
    record = study / "pipeline.json"
    if record.exists():
        return json.loads(record.read_text())
    study.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "manage.py", "demo", "--no-serve", *demo_arguments]
    print(f"running {' '.join(command)} (log: {study / 'pipeline.log'}) ...", flush=True)
    started = time.perf_counter()
    with (study / "pipeline.log").open("w") as log:
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, "UKBSTUDY_DATA_DIR": str(study)}, stdout=log,
                              stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"the pipeline failed (exit {done.returncode}): see {study / 'pipeline.log'}")
    steps = dict(re.findall(r"^\((\w+): (\d+) s\)$", (study / "pipeline.log").read_text(), re.MULTILINE))
    result = {**summary, "seconds": round(seconds), "steps_s": {name: int(s) for name, s in steps.items()}}
    record.write_text(json.dumps(result, indent=2) + "\n")
    return result
