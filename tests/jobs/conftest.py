"""A real Celery worker process for the tests that need one.

With ``CELERY_BROKER_URL`` set (CI: Redis) and a server database (CI: PostgreSQL), ``job_worker`` starts
``celery worker`` in a separate process on a private queue, pointed at the test database and the test's
MEDIA_ROOT, exactly as a deployment runs it. Without a broker (a laptop) tasks run in-process (eager),
which exercises the same task and job code without the transport.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection


@pytest.fixture
def job_worker(media_root, tmp_path, settings):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    if connection.vendor == "sqlite":
        pytest.skip("a worker process cannot share an in-memory SQLite test database; use DATABASE_URL")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue  # a private queue: nothing left over from other runs
    db = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "UKBSTUDY_MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "ukbstudy.settings.test",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ukbstudy", "worker", "--pool=solo", "-Q", queue,
             "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=Path(settings.BASE_DIR))
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        print(log.read_text()[-4000:])


def wait_for(job, timeout: float = 90.0):
    """Poll the job row until it has finished (or the timeout passes) and return it fresh."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout} s")
