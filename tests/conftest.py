"""Shared fixtures: a private MEDIA_ROOT per test, users, and small synthetic cohorts (session-scoped)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes archives and derived files into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
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
    """For transactional tests that record QC decisions: the append-only triggers would stop the test
    database from being emptied afterwards, so they are dropped at teardown; the flush's post_migrate
    signal installs them again."""
    yield
    from django.db import connection

    from ukbstudy.qc.triggers import remove_append_only_triggers

    remove_append_only_triggers(connection)
