"""Import benchmark: subjects per minute for import_ukb on full-scale archives, pinned to one core.

    .venv/bin/python bench/bench_import.py [--subjects 10] [--scale 1.0]

Writes a synthetic cohort once (cached in bench/out/), imports it into a fresh SQLite database in a
temporary folder (or into the empty database that DATABASE_URL names), and prints seconds per subject and
subjects per minute, with the time spent reading and checking the DICOM files shown separately.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from cohort import cached_cohort, cohort_arguments  # bench/cohort.py: a script's folder is on its path


def main() -> None:
    args = cohort_arguments(__doc__.splitlines()[0])
    archives = sorted((cached_cohort(args) / "archives").glob("*.zip"))

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
    from ukbstudy.imaging.models import Scan
    from ukbstudy.imaging.services.archives import import_limits, scans_import_archives

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
