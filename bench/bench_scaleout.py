"""Scale-out benchmark: import and preprocess a cohort through real Celery workers on PostgreSQL and Redis.

    .venv/bin/python bench/bench_scaleout.py [--subjects 12] [--scale 1.0] [--workers 1 2]

For each worker count W: a new PostgreSQL database (``bench_scaleout_w<W>``, dropped first, migrated) and a
new media root, W ``celery worker`` processes (solo pool, each pinned to its own core where there are that
many), then what a lab does from the jobs page: the archive import job (one task), and the preprocessing
job (one task per scan, shared by the workers). Prints per W the import and preprocessing wall times, scans
per hour, and the scaling efficiency (rate with W workers / (W x rate with the fewest)); then the projection
to 100,000 scans on a 32-core server, one worker process per core, at the measured per-worker rate and
efficiency. Needs PostgreSQL (``BENCH_PG``, default postgres://postgres@127.0.0.1:5432) and a broker
(``CELERY_BROKER_URL``, default redis://127.0.0.1:6379/0). Workers on several machines share the database,
the broker and the media root (README: "Running with PostgreSQL, Redis and several workers").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: the Django side of one run
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(Path(args.drive))))
        return
    from cohort import cached_cohort

    archives = cached_cohort(args) / "archives"
    runs = {}
    for workers in args.workers:
        runs[workers] = one_run(archives, workers)
        print(f"W={workers}: import {runs[workers]['import_s']:.1f} s, preprocess {runs[workers]['preprocess_s']:.1f} s"
              f" for {runs[workers]['scans']} scans")
    report(runs)


def one_run(archives: Path, workers: int) -> dict:
    database = f"bench_scaleout_w{workers}"
    subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={PG}/postgres", database], check=True)
    subprocess.run(["createdb", f"--maintenance-db={PG}/postgres", database], check=True)
    with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp:
        env = os.environ | {
            "DATABASE_URL": f"{PG}/{database}", "CELERY_BROKER_URL": BROKER, "UKBSTUDY_MEDIA_ROOT": f"{tmp}/media",
            "UKBSTUDY_DATA_DIR": tmp, "DJANGO_SETTINGS_MODULE": "ukbstudy.settings.local",
            "CELERY_TASK_DEFAULT_QUEUE": f"scaleout-{os.getpid()}-{workers}", "TORCH_NUM_THREADS": "1",
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        processes = [start_worker(env, i, Path(tmp)) for i in range(workers)]
        try:
            time.sleep(5)  # the workers connect and declare the queue
            driven = subprocess.run([sys.executable, __file__, "--drive", str(archives)], cwd=ROOT, env=env,
                                    capture_output=True, text=True)
            if driven.returncode:
                sys.exit(f"the run with {workers} worker(s) failed:\n{driven.stderr[-4000:]}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
        result = json.loads(driven.stdout.strip().splitlines()[-1])
    subprocess.run(["dropdb", f"--maintenance-db={PG}/postgres", database], check=True)
    return result


def start_worker(env: dict, index: int, tmp: Path) -> subprocess.Popen:
    cores = sorted(os.sched_getaffinity(0))
    core = {cores[index % len(cores)]}

    def pin() -> None:
        os.sched_setaffinity(0, core)

    log = (tmp / f"worker{index}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ukbstudy", "worker", "--pool=solo",
         "-Q", env["CELERY_TASK_DEFAULT_QUEUE"], "-n", f"scaleout{index}-{os.getpid()}@%h",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin)


def drive(archives: Path) -> dict:
    """Start the import job, then the preprocessing job; wait for each."""
    import django

    django.setup()
    from ukbstudy.imaging.models import Scan
    from ukbstudy.imaging.services.jobs import import_archives_start, preprocess_start

    started = time.perf_counter()
    wait(import_archives_start(paths=[archives]))
    imported = time.perf_counter()
    job = wait(preprocess_start(scans=Scan.objects.all()))
    done = time.perf_counter()
    processed = Scan.objects.filter(processing_state="processed").count()
    return {"scans": Scan.objects.count(), "processed": processed, "import_s": imported - started,
            "preprocess_s": done - imported, "job_status": job.status}


def wait(job, timeout: float = 6 * 3600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.5)
    raise SystemExit(f"job {job.pk} still {job.status} after {timeout:.0f} s")


def report(runs: dict) -> None:
    """Rates per worker with the fewest workers; each stage's efficiency with more; the 32-core projection."""
    fewest, most = min(runs), max(runs)
    base = {stage: runs[fewest]["scans"] / runs[fewest][f"{stage}_s"] / fewest for stage in ("import", "preprocess")}
    print("\nworkers  import s  scans/hour  efficiency  preprocess s  scans/hour  efficiency")
    efficiency = {}
    for workers, run in sorted(runs.items()):
        cells = []
        for stage in ("import", "preprocess"):
            rate = run["scans"] / run[f"{stage}_s"]
            efficiency[stage] = rate / (workers * base[stage])
            cells.append(f"{run[f'{stage}_s']:8.1f}  {rate * 3600:10.0f}  {efficiency[stage]:10.2f}")
        print(f"{workers:7d}  " + "  ".join(cells))
    hours = {stage: 100_000 / (32 * base[stage] * efficiency[stage]) / 3600 for stage in base}
    print(f"\nprojection for 100,000 scans on a 32-core server, one worker process per core, at the per-worker rates "
          f"above and the efficiencies measured with {most}: import {hours['import']:.1f} h, preprocessing "
          f"{hours['preprocess']:.1f} h, {hours['import'] + hours['preprocess']:.1f} h in all (disk and database "
          "throughput at that scale not measured here)")
    failed = {w: r for w, r in runs.items() if r["processed"] != r["scans"] or r["job_status"] != "succeeded"}
    if failed:
        print(f"NOTE: not every scan was processed: {failed}")


if __name__ == "__main__":
    shutil.which("createdb") or sys.exit("needs PostgreSQL's createdb/dropdb on the PATH")
    main()
