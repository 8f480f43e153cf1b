"""Celery tasks for bone marrow segmentation: primary keys in, one job body run through ``jobs``."""

from celery import shared_task

from ukbstudy.jobs.services import job_item_run, run_job

from .services.jobs import SEGMENT_TASK, TRAIN_TASK, marrow_segment_item, marrow_train_run


@shared_task(name=TRAIN_TASK)
def train_models(job_id: int) -> None:
    run_job(job_id=job_id, body=marrow_train_run)


@shared_task(name=SEGMENT_TASK)
def segment_scan(job_id: int, scan_id: int) -> None:
    job_item_run(job_id=job_id, item=scan_id, body=marrow_segment_item)
