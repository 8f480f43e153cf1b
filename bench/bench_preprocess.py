"""Preprocessing benchmark: seconds per subject from DICOM zip to every derived file, on one core.

    .venv/bin/python bench/bench_preprocess.py [--subjects 10] [--scale 1.0] [--keep-station-volumes]

Uses the synthetic cohort cached by bench_import.py (written if missing), inventories each archive as the
importer does (not timed), then times ml.imaging.pipeline.preprocess_archive and prints the mean per stage,
and the derived bytes per subject by kind of file (``ml.imaging.storage``; the goal: 20 MB at full scale).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from cohort import cached_cohort, cohort_arguments  # bench/cohort.py: a script's folder is on its path

KEEP_STATIONS = "--keep-station-volumes"


def main() -> None:
    keep_stations = KEEP_STATIONS in sys.argv  # also write the stations' own volumes, as before they were optional
    if keep_stations:
        sys.argv.remove(KEEP_STATIONS)
    args = cohort_arguments(__doc__.splitlines()[0])
    from ml.imaging.pipeline import preprocess_archive
    from ml.imaging.storage import folder_usage
    from ml.ukb.inventory import inventory_archive

    cohort = cached_cohort(args)
    stages: dict[str, list[float]] = {}
    totals, usage, sizes = [], Counter(), []
    for archive in sorted((cohort / "archives").glob("*.zip")):
        inventory = inventory_archive(archive)
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = preprocess_archive(archive, inventory.stations_json()["stations"], inventory.deviations_json(),
                                        Path(out), inventory.series_members(), keep_station_volumes=keep_stations)
            totals.append(time.perf_counter() - started)
            folder = folder_usage(Path(out))
            usage.update(folder)
            sizes.append(sum(folder.values()) / 1e6)
        for stage, seconds in result.timings.items():
            stages.setdefault(stage, []).append(seconds)
    print(f"{len(totals)} subjects at scale {args.scale:g}, grid {result.grid['shape_zyx']} (z, y, x), one core"
          f"{', station volumes kept' if keep_stations else ''}")
    print(f"preprocess: {statistics.mean(totals):.2f} s per subject (median {statistics.median(totals):.2f} s, "
          f"{statistics.mean(sizes):.2f} MB of derived files, {min(sizes):.2f}-{max(sizes):.2f} MB)")
    for stage, seconds in stages.items():
        print(f"  {stage:<14} {statistics.mean(seconds):.3f} s")
    print_bytes(usage, len(totals))


def print_bytes(usage: Counter, subjects: int) -> None:
    """Mean derived bytes per subject, by kind of file."""
    print("derived bytes per subject (mean)")
    for kind, total in usage.most_common():
        print(f"  {kind:<22} {total / subjects / 1e6:8.3f} MB")


if __name__ == "__main__":
    main()
