"""Job records: claimed once, cancellable, and never rerun once finished."""

import pytest

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import ItemFailed, job_create, job_progress, job_request_cancel, run_job

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

    def body(running, item):
        runs.append(item)
        if item == "2":
            raise ItemFailed("broken")
        return "fine"

    for item in ("1", "1", "2", "2"):  # tasks redelivered after their worker died
        job_item_run(job_id=job.pk, item=item, body=body)
    job.refresh_from_db()
    assert (job.status, job.progress_done, runs) == (Job.Status.RUNNING, 2, ["1", "2"])
    job_item_run(job_id=job.pk, item="3", body=body)
    job.refresh_from_db()
    assert (job.status, job.progress_done) == (Job.Status.SUCCEEDED, 3)
    assert job.result["failed"] == [{"item": "2", "reason": "broken"}]


def test_items_of_a_cancelled_job_are_skipped_and_the_job_ends_cancelled():
    from ukbstudy.jobs.services import job_item_run

    job = job_create(kind=Job.Kind.PREPROCESS)
    Job.objects.filter(pk=job.pk).update(progress_total=2)
    job_item_run(job_id=job.pk, item="1", body=lambda running, item: "")
    job_request_cancel(job=job)
    job_item_run(job_id=job.pk, item="2", body=lambda running, item: pytest.fail("must not run"))
    job.refresh_from_db()
    assert (job.status, job.result.get("skipped")) == (Job.Status.CANCELLED, 1)


def test_a_job_body_returns_the_result_that_the_job_keeps():
    job = job_create(kind=Job.Kind.IMPORT_FIELDS)
    finished = run_job(job_id=job.pk, body=lambda running: {"rows": 3})
    job.refresh_from_db()
    assert finished.result == job.result == {"rows": 3}


def test_the_step_after_the_last_item_runs_once_however_many_deliveries_follow():
    from ukbstudy.jobs.services import job_item_run

    job = job_create(kind=Job.Kind.ATLAS)
    Job.objects.filter(pk=job.pk).update(progress_total=2)
    calls = []

    def finish(running):
        calls.append(running.pk)
        return {"fitted": True}

    for item in ("1", "2", "2", "1"):
        job_item_run(job_id=job.pk, item=item, body=lambda running, item: "", after_last=("calibration", finish))
    job.refresh_from_db()
    assert (job.status, job.result["calibration"], calls) == (Job.Status.SUCCEEDED, {"fitted": True}, [job.pk])


def test_a_failing_step_after_the_last_item_fails_the_job_with_its_reason():
    from ukbstudy.jobs.services import JobStepFailed, job_item_run

    job = job_create(kind=Job.Kind.ATLAS)
    Job.objects.filter(pk=job.pk).update(progress_total=1)

    def finish(running):
        raise JobStepFailed("2 subjects in dataset A", context="correction failed")

    job_item_run(job_id=job.pk, item="1", body=lambda running, item: "", after_last=("calibration", finish))
    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.FAILED, "correction failed: 2 subjects in dataset A")
    assert job.result["calibration"] == {"error": "2 subjects in dataset A"}


def test_a_fan_out_over_nothing_has_succeeded_at_once_and_queues_nothing(monkeypatch):
    from ukbstudy.jobs import services

    sent = []
    monkeypatch.setattr(services, "_send_items", lambda *args: sent.append(args))
    job = services.job_fan_out(kind=Job.Kind.PREPROCESS, task="imaging.preprocess_scan", items=[])
    assert (job.status, job.progress_total) == (Job.Status.SUCCEEDED, 0)
    assert job.finished_at is not None


def test_a_fan_out_queues_each_distinct_item_once_in_order(monkeypatch, django_capture_on_commit_callbacks):
    from ukbstudy.jobs import services

    sent = []
    monkeypatch.setattr(services, "_send_items", lambda task, job_id, items: sent.append((task, job_id, items)))
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_fan_out(kind=Job.Kind.PREPROCESS, task="imaging.preprocess_scan", items=[3, 1, 3])
    assert job.progress_total == 2
    assert sent == [("imaging.preprocess_scan", job.pk, [1, 3])]
