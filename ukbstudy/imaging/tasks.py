"""Celery tasks for the archive import and preprocessing: primary keys in, one job body run through ``jobs``."""

from celery import shared_task

from ukbstudy.jobs.services import job_item_run, run_job

from .services.jobs import (
    IMPORT_ARCHIVES_TASK,
    PREPROCESS_TASK,
    import_archives_run,
    preprocess_item,
)


@shared_task(name=IMPORT_ARCHIVES_TASK)
def import_archives(job_id: int) -> None:
    run_job(job_id=job_id, body=import_archives_run)


@shared_task(name=PREPROCESS_TASK)
def preprocess_scan(job_id: int, scan_id: int) -> None:
    job_item_run(job_id=job_id, item=scan_id, body=preprocess_item)
