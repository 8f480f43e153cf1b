"""Preprocessing against one read of the archive: preprocess time / (dcmread + pixel decode of every member).

    .venv/bin/python bench/bench_preprocess_ratio.py --subjects 6 [--scale 1.0] [--seed 2024] [--profile]

For each archive of the cached synthetic cohort, in one process on one core and interleaved per archive
(so load on a shared machine hits both alike): (a) the baseline, opening the zip and running
pydicom.dcmread and ``pixel_array`` on every DICOM member (all series: one full read of the archive); (b)
ml.imaging.pipeline.preprocess_archive into a temporary folder, after an untimed inventory as the importer
makes it, once with each volume compression ("small", the default, and "fast"; ml/imaging/nifti.py). Prints
per-archive and median seconds, the ratio for each (goal <= 1.0) and the median time per stage.
Wall-clock seconds are the figures; CPU seconds of the process are printed beside them, because on a shared
machine another process on the same core inflates the wall clock, not the CPU time.
``--profile`` then runs pyinstrument on one archive's preprocess and prints the top of its call tree.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from cohort import cached_cohort, cohort_arguments  # bench/cohort.py: a script's folder is on its path

GOAL = 1.0


def read_every_member(archive: Path) -> int:
    """The baseline: every DICOM member of the archive read by pydicom and its pixels decoded."""
    import pydicom

    decoded = 0
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if name.lower().startswith("manifest"):
                continue
            decoded += pydicom.dcmread(io.BytesIO(zipped.read(name))).pixel_array.size
    return decoded


COMPRESSIONS = ("small", "fast")


def preprocess_once(archive: Path, inventory, compression: str = "small"
                    ) -> tuple[tuple[float, float], dict[str, float], float]:
    """((wall, CPU) seconds, timings per stage, MB written) of one preprocess_archive run into a temporary
    folder."""
    from ml.imaging.pipeline import preprocess_archive

    with tempfile.TemporaryDirectory() as out:
        started = _clocks()
        result = preprocess_archive(archive, inventory.stations_json()["stations"], inventory.deviations_json(),
                                    Path(out), inventory.series_members(), compression=compression)
        seconds = _since(started)
        written = sum(f.stat().st_size for f in Path(out).iterdir()) / 1e6
    return seconds, result.timings, written


def measure(archives: list[Path]) -> dict:
    from ml.ukb.inventory import inventory_archive

    rows = {c: [] for c in COMPRESSIONS}
    stages = {c: {} for c in COMPRESSIONS}
    for number, archive in enumerate(archives):
        inventory = inventory_archive(archive)
        # Alternate which one runs first, so a cache warmed by the others favours none.
        order = COMPRESSIONS if number % 2 == 0 else COMPRESSIONS[::-1]
        runs = {}
        if number % 2 == 0:
            baseline = _timed(read_every_member, archive)
        for compression in order:
            runs[compression] = preprocess_once(archive, inventory, compression)
        if number % 2 == 1:
            baseline = _timed(read_every_member, archive)
        for compression, (seconds, timings, written) in runs.items():
            rows[compression].append({"archive": archive.name, "baseline": baseline, "preprocess": seconds,
                                      "mb": written})
            for stage, value in timings.items():
                stages[compression].setdefault(stage, []).append(value)
            print(f"  {archive.name:<24} {compression:<5} baseline {baseline[0]:5.2f} s (CPU {baseline[1]:5.2f})   "
                  f"preprocess {seconds[0]:5.2f} s (CPU {seconds[1]:5.2f})   ratio {seconds[0] / baseline[0]:4.2f} "
                  f"(CPU {seconds[1] / baseline[1]:4.2f})   {written:4.1f} MB written", flush=True)
    return {"rows": rows, "stages": stages}


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clocks()
    return wall - started[0], cpu - started[1]


def _timed(function, *args) -> tuple[float, float]:
    started = _clocks()
    function(*args)
    return _since(started)


def report(measured: dict) -> None:
    for compression in COMPRESSIONS:
        rows = measured["rows"][compression]
        print(f"\ncompression {compression!r}: {statistics.mean(r['mb'] for r in rows):.1f} MB written per scan")
        report_one(rows, measured["stages"][compression])


def report_one(rows: list[dict], stages: dict) -> None:
    for clock, name in ((0, "wall clock"), (1, "CPU time")):
        baseline = statistics.median(r["baseline"][clock] for r in rows)
        preprocess = statistics.median(r["preprocess"][clock] for r in rows)
        ratio = statistics.median(r["preprocess"][clock] / r["baseline"][clock] for r in rows)
        print(f"{name}: median baseline {baseline:.2f} s, preprocess {preprocess:.2f} s per archive; ratio of "
              f"medians {preprocess / baseline:.2f}, median ratio {ratio:.2f} (goal <= {GOAL:.1f}: "
              f"{'met' if ratio <= GOAL else 'not met'})")
    preprocess = statistics.median(r["preprocess"][0] for r in rows)
    print("median per stage (wall clock, share of the median preprocess):")
    for stage, values in stages.items():
        median = statistics.median(values)
        print(f"  {stage:<14} {median:6.3f} s  {100 * median / preprocess:4.0f} %")


def profile(archive: Path) -> None:
    from pyinstrument import Profiler

    from ml.ukb.inventory import inventory_archive

    inventory = inventory_archive(archive)
    profiler = Profiler(interval=0.001)
    profiler.start()
    preprocess_once(archive, inventory)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))


def main() -> None:
    profiling = "--profile" in sys.argv
    if profiling:
        sys.argv.remove("--profile")  # cohort_arguments knows only the cohort's options
    args = cohort_arguments(__doc__.splitlines()[0])
    cohort = cached_cohort(args)
    archives = sorted((cohort / "archives").glob("*.zip"))
    print(f"{len(archives)} archives at scale {args.scale:g}, one core")
    report(measure(archives))
    if profiling:
        profile(archives[0])


if __name__ == "__main__":
    main()
