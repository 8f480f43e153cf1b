"""Real Celery worker processes for the tests that need them (see tests/jobs/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection


def start_worker(*, queue: str, media_root: Path, log: Path, extra_env: dict | None = None) -> subprocess.Popen:
    """``celery worker`` (solo pool) on ``queue``, pointed at the test database and MEDIA_ROOT."""
    db = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "UKBSTUDY_MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "ukbstudy.settings.test",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TORCH_NUM_THREADS": "1",  # tiny test networks; and no fight for cores with the test process
    } | (extra_env or {})
    out = log.open("a")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ukbstudy", "worker", "--pool=solo", "-Q", queue,
         "-n", f"{queue}-{time.monotonic_ns()}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        env=env, stdout=out, stderr=subprocess.STDOUT, cwd=Path(settings.BASE_DIR))


def stop_worker(process: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM: the running task finishes), a kill if that takes longer than 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(job, timeout: float = 90.0):
    """Poll the job row until it has finished (or the timeout passes) and return it fresh."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout} s")
