"""Celery tasks for the archive import and preprocessing: primary keys in, one job body run through ``jobs``."""

from celery import shared_task

from ukbstudy.jobs.services import job_item_run

from .services.jobs import (
    IMPORT_ARCHIVE_TASK,
    PREPROCESS_TASK,
    import_archive_item,
    import_archives_counts,
    preprocess_item,
)


@shared_task(name=IMPORT_ARCHIVE_TASK)
def import_archive(job_id: int, item: str) -> None:
    job_item_run(job_id=job_id, item=item, body=import_archive_item, after_last=("counts", import_archives_counts))


@shared_task(name=PREPROCESS_TASK)
def preprocess_scan(job_id: int, scan_id: int) -> None:
    job_item_run(job_id=job_id, item=scan_id, body=preprocess_item)
