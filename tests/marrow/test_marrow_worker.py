"""Training and segmentation jobs end to end on a real Celery worker (CI: Redis and PostgreSQL; locally,
without a broker, the same flow runs in-process)."""

from __future__ import annotations

import pytest

from tests.workers import wait_for
from ukbstudy.jobs.models import Job
from ukbstudy.marrow.models import Segmentation
from ukbstudy.marrow.services.jobs import marrow_segment_start, marrow_train_start
from ukbstudy.measurements.models import Measurement, ModelVersion

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
# enough for the diaphysis to come out OK with marrow inside (80 iterations at 4 channels passed on one machine
# but gave masks spanning cortex and muscle, flagged heterogeneous, on another)
LEARNS = {"iterations": 200, "base_channels": 8, "batch_size": 4, "learning_rate": 3e-3}


def succeeded(job, timeout=300):
    job = wait_for(job, timeout)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def test_training_then_segmenting_on_the_worker_stores_bmff_with_model_version_and_job(job_worker, labelled):
    train = succeeded(marrow_train_start(config=LEARNS, regions=["diaphysis"], test_fraction=0.25))
    attention, baseline = (ModelVersion.objects.get(pk=pk) for pk in train.result["model_versions"])
    assert (attention.name, attention.is_current, baseline.name, attention.trained_by) == (
        "roi_attention_unet", True, "unet", train)
    assert set(train.result["dice"]["unet"]) == {"diaphysis"}

    segment = succeeded(marrow_segment_start(scans=labelled))
    assert segment.progress_done == len(labelled) == 4
    segmentations = Segmentation.objects.filter(job=segment, model_version=attention)
    assert segmentations.count() == len(labelled)
    for s in segmentations:
        assert (s.bmff is not None) == (s.status == "ok" and not s.flags), (s.region, s.status, s.flags, s.hints)
    measured = Measurement.objects.filter(method="segmentation")
    assert measured.count() == segmentations.filter(bmff__isnull=False).count() > 0, [
        (s.flags, s.hints) for s in segmentations]
    for m in measured:
        assert (m.job, m.model_version, m.unit) == (segment, attention, "%")
        s = segmentations.get(scan=m.scan, region=m.quantity.removeprefix("bmff_"))
        assert m.value == s.bmff and m.details["volume_voxels"] == s.volume_voxels > 0
