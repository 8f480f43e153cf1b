"""Starting training and segmentation as background jobs (for the pages and the command), and the job
bodies their tasks run (see ``ukbstudy.jobs.services`` for the convention)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings

from ml.marrow.regions import REGION_NAMES, region_of
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_of_item
from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_device_set, job_fan_out, job_progress_callback, job_start
from ukbstudy.measurements.models import ModelVersion

from .segmenting import scan_segment
from .training import DEFAULT_TEST_FRACTION, TASK, marrow_models_train

TRAIN_TASK = "marrow.train"
SEGMENT_TASK = "marrow.segment_item"  # (job_id, scan_id); "marrow.segment_scan" took three arguments


class NoModel(ValueError):
    pass


def marrow_train_start(*, config: dict | None = None, regions: Sequence[str] = REGION_NAMES,
                       test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0, user=None) -> Job:
    for region in regions:
        region_of(region)  # unknown names fail here, not in the worker
    parameters = {"task": TASK, "config": config or {}, "regions": list(regions), "test_fraction": test_fraction,
                  "seed": seed}
    return job_start(kind=Job.Kind.TRAIN, task=TRAIN_TASK, parameters=parameters, user=user)


def marrow_train_run(job: Job) -> dict:
    job_device_set(job=job, device="cuda" if _torch().cuda.is_available() else "cpu")
    p = job.parameters
    versions = marrow_models_train(config=p.get("config"), regions=p["regions"], test_fraction=p["test_fraction"],
                                   seed=p.get("seed", 0), job=job, progress=job_progress_callback(job))
    return {"model_versions": [v.pk for v in versions],
            "dice": {v.name: {r: d["mean"] for r, d in v.metrics["dice"].items()} for v in versions}}


def current_segmentation_model() -> ModelVersion:
    model_version = ModelVersion.objects.filter(task=TASK, is_current=True).first()
    if model_version is None:
        raise NoModel("no current bone marrow segmentation model: train one first (`manage.py marrow train`)")
    return model_version


def marrow_segment_start(*, scans: Iterable[Scan], model_version: ModelVersion | None = None, user=None) -> Job:
    """One job, one task per scan (all four regions of a scan in one task)."""
    model_version = model_version or current_segmentation_model()
    scan_ids = [scan.pk for scan in scans]
    return job_fan_out(kind=Job.Kind.SEGMENT, task=SEGMENT_TASK, items=scan_ids, user=user,
                       parameters={"scans": len(set(scan_ids)), "model_version": model_version.pk})


def marrow_segment_item(job: Job, item: str) -> str:
    _torch()
    model_version = ModelVersion.objects.get(pk=job.parameters["model_version"])
    segmentations = scan_segment(scan=scan_of_item(item), model_version=model_version, job=job)
    return ", ".join(f"{s.region} {s.status}" for s in segmentations)


def _torch():
    """torch, with the configured number of CPU threads."""
    import torch

    if settings.TORCH_NUM_THREADS:
        torch.set_num_threads(settings.TORCH_NUM_THREADS)
    return torch
