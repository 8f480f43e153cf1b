"""Celery tasks for imports: each takes a job id, runs one service and reports through the job."""

from celery import shared_task

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_item_run, job_progress_callback, run_job

from .models import Scan
from .services.archives import scans_import_archives
from .services.fields import subjects_import_fields
from .services.preprocessing import scan_preprocess


@shared_task(name="subjects.import_archives")
def import_archives(job_id: int) -> None:
    def body(job: Job) -> None:
        report = scans_import_archives(paths=job.parameters["paths"], user=job.created_by,
                                       progress=job_progress_callback(job))
        job.result = report.as_dict()

    run_job(job_id=job_id, body=body)


@shared_task(name="subjects.import_fields")
def import_fields(job_id: int) -> None:
    def body(job: Job) -> None:
        job.result = subjects_import_fields(path=job.parameters["path"], user=job.created_by).as_dict()

    run_job(job_id=job_id, body=body)


@shared_task(name="subjects.preprocess_scan")
def preprocess_scan(scan_id: int, job_id: int) -> None:
    def body() -> tuple[bool, str]:
        scan = Scan.objects.select_related("subject").filter(pk=scan_id).first()
        if scan is None:
            return False, f"scan {scan_id} no longer exists or its participant has withdrawn"
        outcome = scan_preprocess(scan=scan)
        return outcome.ok, outcome.reason

    job_item_run(job_id=job_id, item=str(scan_id), body=body)
