"""Without a broker, a server's jobs run in one background thread: a start returns at once, the job runs after."""

import threading

import pytest
from django.conf import settings

from ukbstudy.jobs import background
from ukbstudy.jobs.models import Job
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.showcase.services.jobs import import_fields_start

eager_only = pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER,
                                reason="with a broker the workers run the jobs (tests/jobs/test_import_jobs.py)")


@pytest.fixture
def in_background():
    assert background.enable()
    yield
    background.drain()
    background.disable()


def test_without_the_thread_a_call_runs_at_once_in_the_caller():
    ran = []
    background.submit(lambda: ran.append(threading.current_thread().name))
    assert ran == [threading.current_thread().name]


def test_calls_run_in_order_in_one_other_thread(in_background):
    ran, release = [], threading.Event()
    background.submit(release.wait)  # holds the thread until the caller has gone on
    for i in range(3):
        background.submit(lambda i=i: ran.append((i, threading.current_thread().name)))
    assert ran == []  # the caller was not kept waiting
    release.set()
    background.drain()
    assert ran == [(0, "ukbstudy-jobs"), (1, "ukbstudy-jobs"), (2, "ukbstudy-jobs")]


def test_a_failing_call_is_logged_and_the_thread_goes_on(in_background, caplog):
    ran = []
    background.submit(lambda: 1 / 0)
    background.submit(lambda: ran.append(1))
    background.drain()
    assert ran == [1] and "background job task failed" in caplog.text


def test_inside_inline_this_threads_calls_run_here(in_background):
    ran = []
    with background.inline():
        background.submit(lambda: ran.append(threading.current_thread().name))
    assert ran == [threading.current_thread().name]


def test_with_a_broker_the_thread_is_never_started(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert background.enable() is False and not background.enabled()


def test_the_setting_turns_the_thread_off(settings):
    settings.JOBS_IN_SERVER_THREAD = False
    assert background.enable() is False and not background.enabled()


@eager_only
@pytest.mark.django_db(transaction=True)
def test_a_job_started_without_a_broker_is_queued_and_then_runs_in_the_thread(in_background, tmp_path):
    path = tmp_path / "basket.csv"
    path.write_text("eid,31-0.0,21003-2.0,22402-2.0\n1000001,0,63,3.4\n")
    release = threading.Event()
    background.submit(release.wait)  # the thread is busy: the new job must wait its turn
    job = import_fields_start(path=path)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and not ReferenceValue.objects.exists()
    release.set()
    background.drain()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert ReferenceValue.objects.get(subject__eid=1000001).value == 3.4
