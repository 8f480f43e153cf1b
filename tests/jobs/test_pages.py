"""The jobs page: progress, queue position, errors; analysts start and cancel, viewers only look."""

import pytest
from django.test import Client

from tests.factories import make_scan
from ukbstudy.accounts.services import user_create
from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_create

pytestmark = pytest.mark.django_db


def client_for(role):
    client = Client()
    client.force_login(user_create(username=role, password="pw-long-enough-1", role=role))
    return client


def test_the_page_shows_progress_queue_position_and_failures():
    first, second = job_create(kind=Job.Kind.PREPROCESS), job_create(kind=Job.Kind.PREPROCESS)
    running = job_create(kind=Job.Kind.IMPORT_ARCHIVES)
    Job.objects.filter(pk=running.pk).update(status="running", progress_done=3, progress_total=8,
                                             result={"failed": [{"item": "17", "reason": "station 2 F broken"}]})
    page = client_for("viewer").get("/jobs/").content.decode()
    assert '<progress max="8" value="3">' in page and "station 2 F broken" in page
    assert "queued (#1 in queue)" in page and "queued (#2 in queue)" in page
    assert "Cancel</button>" not in page  # viewers only look
    status = client_for("rater").get("/jobs/status.json").json()["jobs"]
    assert [(j["id"], j["queue_position"]) for j in status] == [(running.pk, None), (second.pk, 2), (first.pk, 1)]


def test_an_analyst_cancels_a_queued_job_and_a_viewer_may_not():
    job = job_create(kind=Job.Kind.PREPROCESS)
    assert client_for("viewer").post(f"/jobs/{job.pk}/cancel/").status_code == 403
    assert client_for("analyst").post(f"/jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_an_analyst_starts_preprocessing_of_pending_scans(django_capture_on_commit_callbacks):
    make_scan(processing_state="imported")
    analyst = client_for("analyst")
    assert client_for("rater").post("/scans/preprocess-pending/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        assert analyst.post("/scans/preprocess-pending/").status_code == 302
    job = Job.objects.get(kind=Job.Kind.PREPROCESS)
    assert (job.progress_total, job.created_by.username) == (1, "analyst")
