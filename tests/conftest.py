"""Shared fixtures: a private MEDIA_ROOT per test, users, and small synthetic cohorts (session-scoped)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from tests.workers import start_worker, stop_worker


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes archives and derived files into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMAGING_VIEWER_CACHE_ROOT = tmp_path / "viewer-cache"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def celery_in_process(request, settings):
    """Tasks run in-process unless a test asks for a real worker (``job_worker``), even when the run has a
    broker configured (CI): otherwise a test would wait for a worker that is not there."""
    if "job_worker" in request.fixturenames:
        yield
        return
    from ukbstudy.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def rater(django_user_model):
    return django_user_model.objects.create_user("rater", password="rater-password-123")


@pytest.fixture
def other_rater(django_user_model):
    return django_user_model.objects.create_user("rater2", password="rater-password-456")


@pytest.fixture
def erasable_qc_history(transactional_db):
    """For transactional tests that record QC decisions or outlier verdicts: on SQLite the append-only
    triggers would stop the test database from being emptied afterwards (its flush deletes rows), so they
    are dropped at teardown; the flush's post_migrate signal installs them again. (PostgreSQL's flush
    truncates, which the test settings allow: ``ukbstudy.allow_truncate``.)"""
    yield
    from django.db import connection

    from ukbstudy.audit.triggers import remove_all

    remove_all(connection)


# A real Celery worker process (CI: Redis and PostgreSQL) for the tests that need one: ``job_worker``
# starts ``celery worker`` on a private queue, pointed at the test database and the test's MEDIA_ROOT, as a
# deployment runs it. Without a broker (a laptop) tasks run in-process and ``job_worker`` is None.
@pytest.fixture
def private_queue(settings):
    """A queue of the test's own (nothing left over from other runs), or a skip where no worker can run."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    if connection.vendor == "sqlite":
        pytest.skip("a worker process cannot share an in-memory SQLite test database; use DATABASE_URL")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    return queue


@pytest.fixture
def job_worker(private_queue, media_root, tmp_path):
    if private_queue is None:
        yield None
        return
    log = tmp_path / "worker.log"
    process = start_worker(queue=private_queue, media_root=media_root, log=log)
    try:
        yield process
    finally:
        stop_worker(process)
        print(log.read_text()[-4000:])
