"""Celery tasks of the atlas: one scan per task; the task that counts the last scan fits the correction."""

from celery import shared_task

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_item_run

from .services.calibration import atlas_run_finish
from .services.runs import atlas_item


@shared_task(name="atlas.atlas_scan")
def atlas_scan(scan_id: int, job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    job_item_run(job_id=job_id, item=str(scan_id), body=lambda: atlas_item(scan_id=scan_id, job=job))
    atlas_run_finish(job_id=job_id)
