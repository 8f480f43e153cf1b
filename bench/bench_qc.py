"""QC queue benchmark: server time for "record decision and fetch next scan" on a large cohort.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_qc .venv/bin/python bench/bench_qc.py [--subjects 100000]

Fills an empty database with subjects and processed scans (rows only; every scan shares one set of
images), a third of them already rated by other raters, then times through Django's test client what a
rater's browser does per scan: POST the decision (redirect to the queue), GET the queue (redirect to the
next scan, which it locks), GET that scan's page. Prints p50/p95 and the number of SQL queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=300, help="Decisions timed.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")  # the test client's host name
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rater = fill(args.subjects)
    measure(rater, args.decisions)


def fill(n: int):
    from django.db import connection

    from ukbstudy.accounts.services import user_create
    from ukbstudy.imaging.models import Scan
    from ukbstudy.qc.models import QCDecision
    from ukbstudy.subjects.models import ImportBatch, Subject, Visit

    if Subject.all_objects.exists():
        sys.exit("the database already holds subjects: point DATABASE_URL at an empty database")
    started = time.perf_counter()
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.ARCHIVES, source="bench")
    Subject.all_objects.bulk_create([Subject(eid=1_000_000 + i, sex="FM"[i % 2]) for i in range(n)], batch_size=5000)
    subjects = list(Subject.all_objects.order_by("eid").values_list("pk", flat=True))
    Visit.all_objects.bulk_create([Visit(subject_id=pk, instance=2, centre=11025 + i % 3)
                                   for i, pk in enumerate(subjects)], batch_size=5000)
    visits = dict(Visit.all_objects.values_list("subject_id", "pk"))
    derived = {"folder": "derived/shared", **{k: f"derived/shared/{k}.png" for k in (
        "qc_water_coronal", "qc_fat_coronal", "qc_water_sagittal", "qc_fat_sagittal", "network_input")}}
    Scan.all_objects.bulk_create([
        Scan(subject_id=pk, visit_id=visits[pk], instance=2, archive_sha256=f"{i:064x}", archive_path="a",
             archive_name="a.zip", archive_bytes=1, n_series=24, n_files=1328, import_batch=batch,
             processing_state="processed", hint_rank=0 if i % 50 == 0 else 3, derived=derived,
             qc_raters=1 if i % 3 == 0 else 0)
        for i, pk in enumerate(subjects)], batch_size=5000)
    other = user_create(username="other", password="bench-password-1", role="rater")
    rated = Scan.all_objects.filter(qc_raters=1).values_list("pk", flat=True)
    with connection.cursor():
        QCDecision.objects.bulk_create([QCDecision(scan_id=pk, rater=other, verdict="pass") for pk in rated],
                                       batch_size=5000)
    print(f"filled {n} subjects and scans, {len(rated)} already rated, in {time.perf_counter() - started:.0f} s")
    return user_create(username="rater", password="bench-password-1", role="rater")


def measure(rater, decisions: int) -> None:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(rater)
    page = client.get("/qc/", follow=True)
    times, queries = [], []
    for _ in range(decisions):
        scan_path = page.redirect_chain[-1][0] if page.redirect_chain else page.request["PATH_INFO"]
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            page = client.post(scan_path + "decide/", {"verdict": "pass"}, follow=True)
            times.append(1000 * (time.perf_counter() - started))
        assert page.status_code == 200 and "scan-title" in page.content.decode(), page.status_code
        queries.append(len(captured))
        reset_queries()
    times.sort()
    vendor = connection.vendor
    print(f"{vendor}: record decision and fetch next scan over {decisions} decisions: "
          f"p50 {statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times)) - 1]:.1f} ms, "
          f"max {times[-1]:.1f} ms; SQL queries per step {min(queries)}-{max(queries)}")


if __name__ == "__main__":
    main()
