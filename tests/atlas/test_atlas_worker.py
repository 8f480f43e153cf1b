"""End to end on a real Celery worker (CI: PostgreSQL and Redis; locally the tasks run in-process)."""

from __future__ import annotations

import time

import pytest

from tests.atlas.conftest import wait_for
from tests.atlas.test_atlas_runs import add_templates
from ukbstudy.atlas.services.runs import atlas_run_start
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Measurement

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_an_atlas_job_on_workers_measures_dataset_a_and_stores_corrected_values(job_worker, study,
                                                                                 erasable_qc_history):
    clean, scans = study
    add_templates(clean, scans)
    job = wait_for(atlas_run_start(scans=scans[:4]), timeout=300)
    deadline = time.monotonic() + 60  # the task that counted the last scan then fits the correction
    while "calibration" not in job.result and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress_done, job.result.get("failed", [])) == (4, [])
    assert job.result["calibration"]["n"] == 4
    assert Measurement.objects.filter(method="atlas", job=job).count() == 4
