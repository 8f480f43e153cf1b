"""Celery tasks for imports: each takes a job id, runs one service and reports through the job."""

from celery import shared_task

from ukbstudy.jobs.services import job_progress_callback, job_running

from .services.archives import scans_import_archives
from .services.fields import subjects_import_fields


@shared_task(name="subjects.import_archives")
def import_archives(job_id: int) -> None:
    with job_running(job_id=job_id) as job:
        report = scans_import_archives(paths=job.parameters["paths"], user=job.created_by,
                                       progress=job_progress_callback(job))
        job.result = report.as_dict()


@shared_task(name="subjects.import_fields")
def import_fields(job_id: int) -> None:
    with job_running(job_id=job_id) as job:
        job.result = subjects_import_fields(path=job.parameters["path"], user=job.created_by).as_dict()
