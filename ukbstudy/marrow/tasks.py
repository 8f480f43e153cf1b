"""Celery tasks for bone marrow segmentation: each takes primary keys, runs one service, reports via the job."""

from celery import shared_task
from django.conf import settings

from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_item_run, job_progress_callback, run_job
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.subjects.models import Scan

from .services.segmenting import scan_segment
from .services.training import marrow_models_train


@shared_task(name="marrow.train")
def train_models(job_id: int) -> None:
    def body(job: Job) -> None:
        _threads()
        p = job.parameters
        versions = marrow_models_train(config=p.get("config"), regions=p["regions"], test_fraction=p["test_fraction"],
                                       seed=p.get("seed", 0), job=job, progress=job_progress_callback(job))
        job.result = {"model_versions": [v.pk for v in versions],
                      "dice": {v.name: {r: d["mean"] for r, d in v.metrics["dice"].items()} for v in versions}}

    run_job(job_id=job_id, body=body, device="cuda" if _cuda() else "cpu")


@shared_task(name="marrow.segment_scan")
def segment_scan(scan_id: int, model_version_id: int, job_id: int) -> None:
    def body() -> tuple[bool, str]:
        _threads()
        scan = Scan.objects.select_related("subject").filter(pk=scan_id).first()
        if scan is None:
            return False, f"scan {scan_id} no longer exists or its participant has withdrawn"
        segmentations = scan_segment(scan=scan, model_version=ModelVersion.objects.get(pk=model_version_id),
                                     job=Job.objects.get(pk=job_id))
        return True, ", ".join(f"{s.region} {s.status}" for s in segmentations)

    job_item_run(job_id=job_id, item=str(scan_id), body=body)


def _threads() -> None:
    if settings.TORCH_NUM_THREADS:
        import torch

        torch.set_num_threads(settings.TORCH_NUM_THREADS)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
