"""Starting imports as background jobs (for the web app and API; the commands run them directly)."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_create, job_enqueue

from ..tasks import import_archives, import_fields


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
