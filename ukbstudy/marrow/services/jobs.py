"""Starting training and segmentation as background jobs (for the pages and the command)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ml.marrow.regions import REGION_NAMES, region_of
from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_create, job_enqueue
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.subjects.models import Scan

from ..tasks import segment_scan, train_models
from .training import DEFAULT_TEST_FRACTION, TASK


class NoModel(ValueError):
    pass


def marrow_train_start(*, config: dict | None = None, regions: Sequence[str] = REGION_NAMES,
                       test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0, user=None) -> Job:
    for region in regions:
        region_of(region)  # unknown names fail here, not in the worker
    parameters = {"task": TASK, "config": config or {}, "regions": list(regions), "test_fraction": test_fraction,
                  "seed": seed}
    with transaction.atomic():
        job = job_create(kind=Job.Kind.TRAIN, parameters=parameters, user=user)
        job_enqueue(job=job, task=train_models)
    return job


def current_segmentation_model() -> ModelVersion:
    model_version = ModelVersion.objects.filter(task=TASK, is_current=True).first()
    if model_version is None:
        raise NoModel("no current bone marrow segmentation model: train one first (`manage.py marrow train`)")
    return model_version


def marrow_segment_start(*, scans: Iterable[Scan], model_version: ModelVersion | None = None, user=None) -> Job:
    """One job, one task per scan (all four regions of a scan in one task)."""
    model_version = model_version or current_segmentation_model()
    scan_ids = sorted({scan.pk for scan in scans})
    with transaction.atomic():
        job = job_create(kind=Job.Kind.SEGMENT, parameters={"scans": len(scan_ids), "model_version": model_version.pk},
                         user=user)
        job.progress_total = len(scan_ids)
        if not scan_ids:
            job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
        job.save(update_fields=["progress_total", "status", "finished_at"])
        transaction.on_commit(lambda: _send(job.pk, model_version.pk, scan_ids))
    return job


def _send(job_id: int, model_version_id: int, scan_ids: list[int]) -> None:
    for scan_id in scan_ids:
        segment_scan.apply_async(args=(scan_id, model_version_id, job_id), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
