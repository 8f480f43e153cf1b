"""Import benchmark: subjects per minute for import_ukb on full-scale archives, pinned to one core.

    .venv/bin/python bench/bench_import.py [--subjects 10] [--scale 1.0]

Writes a synthetic cohort once (cached in bench/out/), imports it into a fresh SQLite database in a
temporary folder (or into the empty database that DATABASE_URL names), and prints seconds per subject and
subjects per minute, with the time spent reading and checking the DICOM files shown separately.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the goal says

    from ml.synthetic import make_cohort

    cohort = ROOT / "bench" / "out" / f"cohort-n{args.subjects}-s{args.scale:g}-seed{args.seed}"
    if not (cohort / "showcase.csv").exists():
        shutil.rmtree(cohort, ignore_errors=True)  # an interrupted earlier run
        print(f"writing {args.subjects} synthetic subjects at scale {args.scale:g} to {cohort} ...")
        started = time.perf_counter()
        make_cohort(cohort, args.subjects, seed=args.seed, scale=args.scale, repeat_fraction=0.0)
        print(f"  generated in {time.perf_counter() - started:.1f} s")
    archives = sorted((cohort / "archives").glob("*.zip"))

    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["UKBSTUDY_DATA_DIR"] = data_dir
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        report_import(archives)


def report_import(archives: list[Path]) -> None:
    from django.conf import settings

    from ml.ukb.inventory import inventory_archive
    from ukbstudy.subjects.models import Scan
    from ukbstudy.subjects.services.archives import import_limits, scans_import_archives

    if Scan.all_objects.exists():
        sys.exit("the database already holds scans: point DATABASE_URL at an empty database")

    megabytes = sum(p.stat().st_size for p in archives) / 1e6
    started = time.perf_counter()
    report = scans_import_archives(paths=archives)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for path in archives:
        inventory_archive(path, import_limits())
    inventory_seconds = time.perf_counter() - started
    n = len(archives)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
          f"{n} archives, {megabytes / n:.1f} MB each; outcome {report.counts}")
    print(f"import_ukb: {seconds / n:.2f} s per subject = {60 * n / seconds:.1f} subjects/min on one core "
          f"(of which reading and checking DICOM: {inventory_seconds / n:.2f} s)")


if __name__ == "__main__":
    main()
