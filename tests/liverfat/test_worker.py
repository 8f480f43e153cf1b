"""The liver fat jobs through a real Celery worker (CI: Redis and PostgreSQL), including a worker killed
mid-inference. Without a broker the flow runs in-process and the kill test is skipped."""

import os
import signal
import time

import numpy as np
import pytest

from tests.liverfat.conftest import TINY, make_study
from tests.workers import start_worker, stop_worker, wait_for
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat.models import FoldAssignment
from ukbstudy.liverfat.services.registry import current_model_version
from ukbstudy.liverfat.services.runs import cross_validation_start, inference_start, training_start
from ukbstudy.measurements.models import Measurement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasable_qc_history")]


def succeeded(job, timeout=300):
    job = wait_for(job, timeout)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def test_cross_validation_training_and_inference_through_the_worker(job_worker, media_root, rater):
    study = make_study(media_root, rater, n=24, n_reference=16)
    cv = succeeded(cross_validation_start(config="quick", overrides=TINY, folds=4))
    train = succeeded(training_start(config="quick", overrides=TINY))
    infer = succeeded(inference_start(chunk_size=3))
    version = current_model_version()
    assert version.pk == train.result["model_version"] and version.metrics["cross_validation"] == f"cv-job{cv.pk}"
    losses = train.metrics["loss"]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    out_of_fold = Measurement.objects.filter(job=cv)
    assert out_of_fold.count() == 16 == FoldAssignment.objects.filter(job=cv).count()
    inferred = Measurement.objects.filter(job=infer, model_version=version)
    assert {m.scan_id for m in inferred} == {scan.pk for scan in study.without_reference}
    assert all(m.method == "network" and m.quantity == "liver_ff" for m in inferred)


def test_a_worker_killed_mid_inference_loses_and_duplicates_nothing(job_worker, private_queue, media_root, rater,
                                                                    tmp_path):
    if job_worker is None:
        pytest.skip("needs a real worker (CELERY_BROKER_URL and DATABASE_URL)")
    study = make_study(media_root, rater, n=100, n_reference=20)
    succeeded(training_start(config="quick", overrides=TINY))
    version = current_model_version()
    job = inference_start(chunk_size=1)
    written = Measurement.objects.filter(model_version=version)
    deadline = time.monotonic() + 120
    while written.count() < 3:
        assert time.monotonic() < deadline, "inference never started"
        time.sleep(0.002)
    os.kill(job_worker.pid, signal.SIGSTOP)  # freeze it at once, then kill it as a lost machine would die
    before = written.count()
    os.kill(job_worker.pid, signal.SIGKILL)
    job_worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and 3 <= before < 80, (job.status, before)

    log = tmp_path / "second-worker.log"
    second = start_worker(queue=private_queue, media_root=media_root, log=log,
                          extra_env={"CELERY_VISIBILITY_TIMEOUT": "2"})  # redeliver the dead worker's task soon
    try:
        job = succeeded(job, timeout=180)
    finally:
        stop_worker(second)
        print(log.read_text()[-3000:])
    scans = list(written.values_list("scan_id", flat=True))
    assert len(scans) == len(set(scans)) == 80
    assert set(scans) == {scan.pk for scan in study.without_reference}
    assert job.result["already_inferred"] == before and job.result["inferred_now"] == 80 - before
