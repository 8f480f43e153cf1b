"""Starting a basket import as a background job (for the API and the commands), and the job body its
task runs (see ``ukbstudy.jobs.services`` for the convention)."""

from __future__ import annotations

from pathlib import Path

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_start

from .fields import showcase_import_fields

IMPORT_FIELDS_TASK = "showcase.import_fields"  # the task's registered name (``tasks.py``)


def import_fields_start(*, path: str | Path, user=None) -> Job:
    return job_start(kind=Job.Kind.IMPORT_FIELDS, task=IMPORT_FIELDS_TASK, parameters={"path": str(path)},
                     user=user)


def import_fields_run(job: Job) -> dict:
    return showcase_import_fields(path=job.parameters["path"], user=job.created_by).as_dict()
