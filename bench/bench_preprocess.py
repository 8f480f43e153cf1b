"""Preprocessing benchmark: seconds per subject from DICOM zip to every derived file, on one core.

    .venv/bin/python bench/bench_preprocess.py [--subjects 10] [--scale 1.0]

Uses the synthetic cohort cached by bench_import.py (written if missing), inventories each archive as the
importer does (not timed), then times ml.imaging.pipeline.preprocess_archive and prints the mean per stage.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from cohort import cached_cohort, cohort_arguments  # bench/cohort.py: a script's folder is on its path


def main() -> None:
    args = cohort_arguments(__doc__.splitlines()[0])
    from ml.imaging.pipeline import preprocess_archive
    from ml.ukb.inventory import inventory_archive

    cohort = cached_cohort(args)
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
