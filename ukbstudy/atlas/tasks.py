"""Celery tasks of the atlas: one scan per task; the task that counts the last scan fits the correction."""

from celery import shared_task

from ukbstudy.jobs.services import job_item_run

from .services.calibration import atlas_run_finish
from .services.runs import ATLAS_SCAN_TASK, atlas_item


@shared_task(name=ATLAS_SCAN_TASK)
def atlas_scan(job_id: int, scan_id: int) -> None:
    job_item_run(job_id=job_id, item=scan_id, body=atlas_item, after_last=("calibration", atlas_run_finish))
