"""Results pages and measurement export on a large cohort written straight to the database.

    .venv/bin/python bench/bench_results.py [--subjects 100000] [--repeats 20] [--reuse]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_results .venv/bin/python bench/bench_results.py

Without DATABASE_URL it builds a fresh SQLite file under bench/out/ (``--reuse`` keeps one filled before).
With CACHE_URL and CELERY_BROKER_URL (a shared cache and workers) a page whose data changed is served as last
computed while a worker refreshes it; the bench then reports that request's time too (no worker needs to run).
Fills subjects, processed scans, QC decisions over a year (about 4 % failed, with reasons), liver reference
values (22402 for 15 %, 22436 for 10 %), a network liver value and four segmentation marrow values per subject
(500,000 measurement rows for 100,000 subjects), atlas values for 1,000, and DXA spine BMD, all with
``bulk_create``. Then times, through Django's test client (server time: view, statistics, figures, template),
the cohort dashboard and the method comparison page: the first request on an empty cache ("cold": it computes
the page's parts and caches them) and p50 / p95 over ``--repeats`` requests after it (unchanged data: parts come
from the cache, keyed on the data's fingerprint, ukbstudy/results/cache.py), and the long CSV
export at growing row counts: seconds and peak Python memory (tracemalloc, measured in a separate pass so
its overhead does not inflate the time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUANTITIES = ("liver_ff", "bmff_spine", "bmff_femoral_head", "bmff_total_hip", "bmff_diaphysis")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20, help="Requests timed per page.")
    parser.add_argument("--reuse", action="store_true", help="Keep the SQLite file filled by an earlier run.")
    parser.add_argument("--only", choices=("pages", "export"), help="Run one part only.")
    args = parser.parse_args()
    database = ROOT / "bench" / "out" / f"results-n{args.subjects}.sqlite3"
    if "DATABASE_URL" not in os.environ:
        database.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            database.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")  # the test client's host name
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from ukbstudy.subjects.models import Subject

    if not Subject.all_objects.exists():
        fill(args.subjects)
    elif not args.reuse:
        sys.exit("the database already holds subjects: point DATABASE_URL at an empty database")
    if args.only != "export":
        pages(args.repeats)
    if args.only != "pages":
        export()


def fill(n: int) -> None:
    import numpy as np
    from django.db import transaction

    from ukbstudy.accounts.services import user_create
    from ukbstudy.imaging.models import Scan
    from ukbstudy.subjects.models import ImportBatch, Subject, Visit

    started = time.perf_counter()
    rng = np.random.default_rng(8)
    rater = user_create(username="bench-rater", password="bench-password-1", role="rater")
    with transaction.atomic():
        batch = ImportBatch.objects.create(kind=ImportBatch.Kind.ARCHIVES, source="bench")
        age, bmi = rng.integers(45, 82, n), rng.normal(27, 4.5, n)
        Subject.all_objects.bulk_create([
            Subject(eid=1_000_000 + i, sex="FM"[i % 2]) for i in range(n)], batch_size=5000)
        subjects = list(Subject.all_objects.order_by("eid").values_list("pk", flat=True))
        Visit.all_objects.bulk_create([
            Visit(subject_id=pk, instance=2, centre=11025 + i % 4, age=float(age[i]), bmi=float(bmi[i]),
                  height_cm=float(rng.normal(170, 9))) for i, pk in enumerate(subjects)], batch_size=5000)
        visits = list(Visit.all_objects.order_by("subject__eid").values_list("pk", flat=True))
        Scan.all_objects.bulk_create([
            Scan(subject_id=pk, visit_id=visit, instance=2, archive_sha256=f"{i:064x}", archive_path="a",
                 archive_name="a.zip",
                 archive_bytes=1, n_series=24, n_files=1328, import_batch=batch, processing_state="processed",
                 qc_raters=1) for i, (pk, visit) in enumerate(zip(subjects, visits, strict=True))], batch_size=5000)
        scans = list(Scan.all_objects.order_by("subject__eid").values_list("pk", flat=True))
        _qc(scans, rater, rng)
        _values(subjects, scans, batch, rng)
    print(f"filled {n:,} subjects in {time.perf_counter() - started:.0f} s")


def _qc(scans: list[int], rater, rng) -> None:
    from datetime import UTC, datetime, timedelta

    from ukbstudy.qc.models import QCDecision

    reasons = ("water_fat_swap", "noise", "metal", "positioning", "other_artefact")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    days, failed = rng.integers(0, 365, len(scans)), rng.random(len(scans)) < 0.036
    QCDecision.objects.bulk_create([
        QCDecision(scan_id=pk, rater=rater, decided_at=start + timedelta(days=int(days[i])),
                   verdict="fail" if failed[i] else "pass", reason=reasons[i % 5] if failed[i] else "")
        for i, pk in enumerate(scans)], batch_size=5000)


def _values(subjects: list[int], scans: list[int], batch, rng) -> None:
    from ukbstudy.measurements.models import Measurement
    from ukbstudy.showcase.models import CovariateValue, ReferenceValue

    n = len(subjects)
    truth = rng.gamma(1.5, 3.0, n)
    ReferenceValue.objects.bulk_create(
        [ReferenceValue(subject_id=subjects[i], field="22402-2.0", value=float(truth[i] + rng.normal(0, 0.3)),
                        import_batch=batch) for i in range(0, n, 7)]
        + [ReferenceValue(subject_id=subjects[i], field="22436-2.0", value=float(truth[i] + rng.normal(0, 0.3)),
                          import_batch=batch) for i in range(3, n, 10)], batch_size=5000)
    network = truth + rng.normal(0, 0.8, n)
    rows = [Measurement(subject_id=s, scan_id=c, quantity="liver_ff", method="network", value=float(v))
            for s, c, v in zip(subjects, scans, network, strict=True)]
    rows += [Measurement(subject_id=subjects[i], scan_id=scans[i], quantity="liver_ff", method="atlas",
                         value=float(truth[i] + rng.normal(0.3, 1.2))) for i in range(0, n, max(1, n // 1000))]
    Measurement.objects.bulk_create(rows, batch_size=5000)
    for quantity in QUANTITIES[1:]:
        marrow = rng.normal(60, 9, n)
        Measurement.objects.bulk_create([
            Measurement(subject_id=s, scan_id=c, quantity=quantity, method="segmentation", value=float(v))
            for s, c, v in zip(subjects, scans, marrow, strict=True)], batch_size=5000)
    CovariateValue.objects.bulk_create([
        CovariateValue(subject_id=s, field="23204-2.0", value=float(v), import_batch=batch)
        for s, v in zip(subjects, rng.normal(1.1, 0.15, n), strict=True)], batch_size=5000)


def pages(repeats: int) -> None:
    from django.core.cache import cache
    from django.test import Client

    from ukbstudy.accounts.services import user_create
    from ukbstudy.measurements.models import Measurement
    from ukbstudy.subjects.models import Subject

    print(f"{Subject.objects.count():,} subjects, {Measurement.objects.count():,} measurements")
    client = Client()
    client.force_login(user_create(username=f"viewer-{time.time_ns()}", password="bench-password-1", role="viewer"))
    cases = {
        "dashboard (reference 22402 by age band)": ("/results/", {}),
        "dashboard (network liver FF by centre)": ("/results/", {"column": "network", "grouping": "centre"}),
        "comparison, dataset A: reference vs network": ("/results/compare/", {}),
        "comparison, dataset all: network vs atlas": ("/results/compare/", {"a": "atlas", "b": "network",
                                                                           "dataset": "all"}),
        "outlier queue, dataset A, top 20": ("/results/outliers/", {}),
    }
    for url, query in cases.values():
        assert client.get(url, query).status_code == 200  # warm the process: imports, database file, templates
    for name, (url, query) in cases.items():
        cache.clear()  # the first request computes the page and fills the results cache: timed as "cold"
        started = time.perf_counter()
        assert client.get(url, query).status_code == 200
        cold = 1000 * (time.perf_counter() - started)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(url, query)
            times.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200 and b"Plotly" in response.content or b"outliers" in response.content
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        changed = _after_a_change(client, url, query)
        print(f"{name}: cold {cold:.0f} ms, then p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, "
              f"{len(response.content) / 1e6:.2f} MB; first request after a new measurement: {changed}")


def _after_a_change(client, url: str, query: dict) -> str:
    """One request after a measurement is added (and removed again): computed in the request, or, with a shared
    cache and workers (CACHE_URL, CELERY_BROKER_URL), served as last computed while a worker refreshes it."""
    from ukbstudy.measurements.models import Measurement

    row = Measurement.all_objects.order_by("pk").first()
    added = Measurement.all_objects.create(subject_id=row.subject_id, scan_id=row.scan_id, quantity=row.quantity,
                                           method="manual", value=1.0)
    started = time.perf_counter()
    response = client.get(url, query)
    elapsed = 1000 * (time.perf_counter() - started)
    added.delete()
    how = "served as last computed, refresh queued" if b'id="stale"' in response.content else "computed"
    return f"{elapsed:.0f} ms ({how})"


def export() -> None:
    from ukbstudy.measurements.selectors.exports import ExportFilters
    from ukbstudy.measurements.services import export_csv

    for count in range(1, len(QUANTITIES) + 1):
        filters = ExportFilters(quantities=list(QUANTITIES[:count]))
        started = time.perf_counter()
        lines = sum(piece.count("\r\n") for piece in export_csv(format="long", filters=filters, channel="command"))
        seconds = time.perf_counter() - started
        tracemalloc.start()
        for _ in export_csv(format="long", filters=filters, channel="command"):
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"long CSV export, {lines - 1:,} rows: {seconds:.1f} s ({(lines - 1) / seconds:,.0f} rows/s), "
              f"peak Python memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
