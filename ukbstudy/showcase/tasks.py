"""Celery tasks for basket imports: primary keys in, one job body run through ``jobs``."""

from celery import shared_task

from ukbstudy.jobs.services import run_job

from .services.jobs import IMPORT_FIELDS_TASK, import_fields_run


@shared_task(name=IMPORT_FIELDS_TASK)
def import_fields(job_id: int) -> None:
    run_job(job_id=job_id, body=import_fields_run)
