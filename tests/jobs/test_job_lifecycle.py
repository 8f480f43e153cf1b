"""Job records: claimed once, cancellable, and never rerun once finished."""

import pytest

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_create, job_progress, job_request_cancel, run_job

pytestmark = pytest.mark.django_db


def test_a_job_runs_once_and_a_redelivered_task_does_nothing():
    job = job_create(kind=Job.Kind.IMPORT_FIELDS)
    calls = []
    assert run_job(job_id=job.pk, body=calls.append).status == Job.Status.SUCCEEDED
    assert run_job(job_id=job.pk, body=calls.append) is None
    assert len(calls) == 1


def test_a_job_cancelled_while_queued_never_starts():
    job = job_create(kind=Job.Kind.IMPORT_FIELDS)
    job_request_cancel(job=job)
    assert run_job(job_id=job.pk, body=lambda j: pytest.fail("must not run")) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_a_running_job_stops_at_its_next_progress_report_after_a_cancel():
    job = job_create(kind=Job.Kind.IMPORT_ARCHIVES)

    def body(running):
        job_progress(job=running, done=1, total=3)
        job_request_cancel(job=running)
        job_progress(job=running, done=2, total=3)
        pytest.fail("progress after a cancel must raise")

    finished = run_job(job_id=job.pk, body=body)
    assert (finished.status, finished.progress_done, finished.error) == (Job.Status.CANCELLED, 2, "Cancelled by user.")


def test_a_failing_body_records_the_error_and_raises():
    job = job_create(kind=Job.Kind.IMPORT_FIELDS)

    def body(running):
        raise ValueError("bad input in row 3")

    with pytest.raises(ValueError):
        run_job(job_id=job.pk, body=body)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "ValueError: bad input in row 3" in job.error
    assert job.finished_at >= job.started_at



def test_a_fanned_out_job_counts_each_item_once_however_often_it_is_delivered():
    from ukbstudy.jobs.services import job_item_run

    job = job_create(kind=Job.Kind.PREPROCESS)
    Job.objects.filter(pk=job.pk).update(progress_total=3)
    runs = []

    def body(item):
        return lambda: (runs.append(item) or (item != "2", "broken" if item == "2" else ""))

    for item in ("1", "1", "2", "2"):  # tasks redelivered after their worker died
        job_item_run(job_id=job.pk, item=item, body=body(item))
    job.refresh_from_db()
    assert (job.status, job.progress_done, runs) == (Job.Status.RUNNING, 2, ["1", "2"])
    job_item_run(job_id=job.pk, item="3", body=body("3"))
    job.refresh_from_db()
    assert (job.status, job.progress_done) == (Job.Status.SUCCEEDED, 3)
    assert job.result["failed"] == [{"item": "2", "reason": "broken"}]


def test_items_of_a_cancelled_job_are_skipped_and_the_job_ends_cancelled():
    from ukbstudy.jobs.services import job_item_run

    job = job_create(kind=Job.Kind.PREPROCESS)
    Job.objects.filter(pk=job.pk).update(progress_total=2)
    job_item_run(job_id=job.pk, item="1", body=lambda: (True, ""))
    job_request_cancel(job=job)
    job_item_run(job_id=job.pk, item="2", body=lambda: pytest.fail("must not run"))
    job.refresh_from_db()
    assert (job.status, job.result.get("skipped")) == (Job.Status.CANCELLED, 1)
