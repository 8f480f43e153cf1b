"""Preprocessing benchmark: seconds per subject from DICOM zip to every derived file, on one core.

    .venv/bin/python bench/bench_preprocess.py [--subjects 10] [--scale 1.0]

Uses the synthetic cohort cached by bench_import.py (written if missing), inventories each archive as the
importer does (not timed), then times ml.imaging.pipeline.preprocess_archive and prints the mean per stage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from ml.imaging.pipeline import preprocess_archive
    from ml.synthetic import make_cohort
    from ml.ukb.inventory import inventory_archive

    cohort = ROOT / "bench" / "out" / f"cohort-n{args.subjects}-s{args.scale:g}-seed{args.seed}"
    if not (cohort / "showcase.csv").exists():
        shutil.rmtree(cohort, ignore_errors=True)
        print(f"writing {args.subjects} synthetic subjects at scale {args.scale:g} to {cohort} ...")
        make_cohort(cohort, args.subjects, seed=args.seed, scale=args.scale, repeat_fraction=0.0)
    stages: dict[str, list[float]] = {}
    totals, sizes = [], []
    for archive in sorted((cohort / "archives").glob("*.zip")):
        inventory = inventory_archive(archive)
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = preprocess_archive(archive, inventory.stations_json()["stations"], inventory.deviations_json(),
                                        Path(out), inventory.series_members())
            totals.append(time.perf_counter() - started)
            sizes.append(sum(f.stat().st_size for f in Path(out).iterdir()) / 1e6)
        for stage, seconds in result.timings.items():
            stages.setdefault(stage, []).append(seconds)
    print(f"{len(totals)} subjects at scale {args.scale:g}, grid {result.grid['shape_zyx']} (z, y, x), one core")
    print(f"preprocess: {statistics.mean(totals):.2f} s per subject (median {statistics.median(totals):.2f} s, "
          f"{statistics.mean(sizes):.0f} MB of derived files)")
    for stage, seconds in stages.items():
        print(f"  {stage:<14} {statistics.mean(seconds):.3f} s")


if __name__ == "__main__":
    main()
