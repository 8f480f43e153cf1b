"""Starting imports and preprocessing as background jobs (for the web app, the API and the commands)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_create, job_enqueue

from ..models import Scan
from ..tasks import import_archives, import_fields, preprocess_scan


def import_archives_start(*, paths: list[str | Path], user=None) -> Job:
    with transaction.atomic():
        job = job_create(kind=Job.Kind.IMPORT_ARCHIVES, parameters={"paths": [str(p) for p in paths]}, user=user)
        job_enqueue(job=job, task=import_archives)
    return job


def import_fields_start(*, path: str | Path, user=None) -> Job:
    with transaction.atomic():
        job = job_create(kind=Job.Kind.IMPORT_FIELDS, parameters={"path": str(path)}, user=user)
        job_enqueue(job=job, task=import_fields)
    return job


def preprocess_start(*, scans: Iterable[Scan], user=None) -> Job:
    """One job, one task per scan: workers share the cohort and the job counts what is done and failed."""
    scan_ids = sorted({scan.pk for scan in scans})  # each scan shows "processing" once its task starts
    with transaction.atomic():
        job = job_create(kind=Job.Kind.PREPROCESS, parameters={"scans": len(scan_ids)}, user=user)
        job.progress_total = len(scan_ids)
        if not scan_ids:
            job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
        job.save(update_fields=["progress_total", "status", "finished_at"])
        transaction.on_commit(lambda: _send_preprocess_tasks(job.pk, scan_ids))
    return job


def _send_preprocess_tasks(job_id: int, scan_ids: list[int]) -> None:
    for scan_id in scan_ids:
        preprocess_scan.apply_async(args=(scan_id, job_id), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
