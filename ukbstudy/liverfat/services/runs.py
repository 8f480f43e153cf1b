"""Cross-validation, training and inference of the liver fat network as jobs.

Each ``*_start`` records a Job with its parameters and queues its Celery task; each ``*_run`` is the body a
task runs through ``run_job``. Results are written so that a job that does not succeed leaves nothing:

- cross-validation and training write their model version, fold assignments and out-of-fold measurements
  in one transaction at the end (a redelivered task finds them and stops);
- inference commits chunk by chunk (so a worker killed mid-way loses nothing: the redelivered task resumes
  with the scans that have no value from this model version yet, and the unique constraint rules out
  duplicates), and a failed or cancelled inference removes the values it wrote.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis.comparison import agreement
from analysis.validation import AnalysisError
from ml.liverfat import (
    TrainConfig,
    config_named,
    cross_validate,
    device_name,
    fold_assignment,
    load_checkpoint,
    pick_device,
    predict,
    save_checkpoint,
    train_regressor,
)
from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.jobs.services import job_device_set, job_metrics_set, job_progress, job_progress_callback, job_start
from ukbstudy.measurements.models import Measurement, Method, ModelVersion, Quantity
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DATASETS, dataset_scans
from ukbstudy.measurements.services import (
    code_revision,
    measurements_discard_of_job,
    measurements_record_bulk,
    model_version_record,
)

from ..models import FoldAssignment
from .inputs import InputError, data_fingerprint, load_inputs, reference_values
from .registry import (
    TASK,
    checkpoint_absolute_path,
    checkpoint_relative_path,
    current_model_version,
    matching_cross_validation,
)

DEFAULT_FOLDS = 10
DEFAULT_CHUNK = 256
CROSS_VALIDATE_TASK = "liverfat.cross_validate"
TRAIN_TASK = "liverfat.train"
INFER_TASK = "liverfat.infer"


class RunError(ValueError):
    """A run cannot start or go on (no data, no model); the message says what to do."""


def _train_config(parameters: dict):
    return config_named(parameters.get("config", "quick"), **parameters.get("overrides", {}))


def _job_device(job: Job) -> torch.device:
    """The device the settings ask for (CPU threads set too), recorded on the job."""
    if settings.TORCH_NUM_THREADS:
        torch.set_num_threads(settings.TORCH_NUM_THREADS)
    device = pick_device(settings.LIVERFAT_DEVICE)
    job_device_set(job=job, device=device_name(device))
    return device


# Starting -------------------------------------------------------------------------------------------------------


def cross_validation_start(*, config: str = "quick", overrides: dict | None = None,
                           field: str = DEFAULT_REFERENCE_FIELD, folds: int = DEFAULT_FOLDS, seed: int = 0,
                           user=None) -> Job:
    config_named(config, **(overrides or {}))  # refuse a bad configuration before queueing
    parameters = {"task": TASK, "config": config, "overrides": overrides or {}, "field": field, "folds": folds,
                  "seed": seed}
    return job_start(kind=Job.Kind.CROSS_VALIDATE, task=CROSS_VALIDATE_TASK, parameters=parameters, user=user)


def training_start(*, config: str = "quick", overrides: dict | None = None, field: str = DEFAULT_REFERENCE_FIELD,
                   make_current: bool = True, user=None) -> Job:
    config_named(config, **(overrides or {}))
    parameters = {"task": TASK, "config": config, "overrides": overrides or {}, "field": field,
                  "make_current": make_current}
    return job_start(kind=Job.Kind.TRAIN, task=TRAIN_TASK, parameters=parameters, user=user)


def inference_start(*, model_version: ModelVersion | None = None, dataset: str | None = "B",
                    scan_ids: list[int] | None = None, field: str = DEFAULT_REFERENCE_FIELD,
                    chunk_size: int = DEFAULT_CHUNK, user=None) -> Job:
    """Infer with ``model_version`` (default: the current one, resolved now) on a dataset or on given scans."""
    model_version = model_version or current_model_version()
    if model_version is None or not model_version.checkpoint_path:
        raise RunError("no trained liver fat model: train one first (python manage.py liverfat train)")
    if scan_ids is None and dataset not in DATASETS:
        raise RunError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    parameters = {"task": TASK, "model_version": model_version.pk,
                  "dataset": None if scan_ids is not None else dataset,
                  "scan_ids": sorted(scan_ids) if scan_ids is not None else None,
                  "field": field, "chunk_size": chunk_size}
    return job_start(kind=Job.Kind.INFER, task=INFER_TASK, parameters=parameters, user=user)


# Cross-validation and training -------------------------------------------------------------------------------

def _dataset_a(field: str) -> tuple[list[Scan], np.ndarray]:
    scans = list(dataset_scans("A", field=field))
    if len(scans) < 2:
        raise RunError(f"dataset A has {len(scans)} scans (QC-passed, processed, with a value in {field}); "
                       "record visual QC and import reference values first")
    return scans, reference_values(scans, field)


def _agreement_metrics(reference: np.ndarray, predicted: np.ndarray) -> dict:
    try:
        result = agreement(reference, predicted, reference_name="reference", test_name=Method.NETWORK)
    except AnalysisError as exc:
        return {"error": str(exc)}
    return {key: (None if isinstance(value, float) and not np.isfinite(value) else value)
            for key, value in result.as_dict().items()}


def _rounded(values) -> list[float]:
    return [float(f"{value:.5g}") for value in values]


def _stored_earlier(job: Job) -> dict | None:
    """The result of an earlier delivery of this task that stored the run's model version (then it only
    reports it), else None."""
    version = ModelVersion.objects.filter(trained_by=job).first()
    if version is None:
        return None
    return {"model_version": version.pk, "n": version.config.get("n"), "metrics": version.metrics}


def _training_set(job: Job) -> tuple[TrainConfig, list[Scan], np.ndarray]:
    """The run's configuration, dataset A's scans and their reference values."""
    scans, targets = _dataset_a(job.parameters["field"])
    return _train_config(job.parameters), scans, targets


def _inputs_and_device(job: Job, scans: list[Scan]) -> tuple[np.ndarray, torch.device]:
    """The scans' network inputs (decoded only once the run's checks have passed) and the device."""
    return load_inputs(scans), _job_device(job)


def cross_validation_run(job: Job) -> dict:
    return _stored_earlier(job) or _cross_validation(job)


def _cross_validation(job: Job) -> dict:
    parameters = job.parameters
    config, scans, targets = _training_set(job)
    folds = fold_assignment(len(scans), int(parameters["folds"]), int(parameters["seed"]))
    images, device = _inputs_and_device(job, scans)
    result = cross_validate(images, targets, folds, config, device=device, progress=job_progress_callback(job))
    metrics = _agreement_metrics(targets, result.predictions)
    fingerprint = data_fingerprint(scans, targets)
    with transaction.atomic():
        version = model_version_record(
            task=TASK, name=f"resnet{config.depth}", version=f"cv-job{job.pk}", data_fingerprint=fingerprint,
            trained_by=job, metrics=metrics,
            config={"kind": "cross_validation", "train": config.as_dict(), "field": parameters["field"],
                    "folds": int(parameters["folds"]), "seed": int(parameters["seed"]), "n": len(scans)})
        FoldAssignment.objects.bulk_create(FoldAssignment(job=job, scan=scan, fold=int(fold))
                                           for scan, fold in zip(scans, folds, strict=True))
        measurements_record_bulk(
            values=((scan, value, {"dataset": "A", "fold": int(fold), "out_of_fold": True})
                    for scan, fold, value in zip(scans, folds, result.predictions, strict=True)),
            quantity=Quantity.LIVER_FF, method=Method.NETWORK, model_version=version, job=job)
        job_metrics_set(job=job, metrics={"loss": [_rounded(curve) for curve in result.losses]})
    return {"model_version": version.pk, "n": len(scans), "metrics": metrics,
            "seconds": round(result.seconds, 1), "images_per_second": round(result.images_per_second, 1)}


def training_run(job: Job) -> dict:
    return _stored_earlier(job) or _training(job)


def _training(job: Job) -> dict:
    parameters = job.parameters
    config, scans, targets = _training_set(job)
    images, device = _inputs_and_device(job, scans)
    trained = train_regressor(images, targets, config, device=device, progress=job_progress_callback(job))
    fingerprint = data_fingerprint(scans, targets)
    revision = code_revision()
    version_name = f"job{job.pk}"
    relative = checkpoint_relative_path(version_name)
    save_checkpoint(settings.MEDIA_ROOT / relative, trained, data_fingerprint=fingerprint, git_revision=revision,
                    extra={"field": parameters["field"], "n": len(scans), "job": job.pk})
    cv = matching_cross_validation(config=config.as_dict(), data_fingerprint=fingerprint)
    metrics = {**cv.metrics, "cross_validation": cv.version} if cv else {}
    with transaction.atomic():
        version = model_version_record(
            task=TASK, name=f"resnet{config.depth}", version=version_name, checkpoint_path=relative,
            data_fingerprint=fingerprint, git_revision=revision, trained_by=job, metrics=metrics,
            config={"kind": "trained", "train": config.as_dict(), "field": parameters["field"], "n": len(scans),
                    "target_mean": trained.target_mean, "target_std": trained.target_std},
            make_current=parameters.get("make_current", True))
        job_metrics_set(job=job, metrics={"loss": _rounded(trained.losses)})
    return {"model_version": version.pk, "n": len(scans), "final_loss": _rounded(trained.losses[-20:]),
            "seconds": round(trained.seconds, 1), "images_per_second": round(trained.images_per_second, 1),
            "cross_validation": cv.version if cv else None}


# Inference ---------------------------------------------------------------------------------------------------------

def _inference_scans(parameters: dict):
    if parameters.get("scan_ids") is not None:
        return Scan.objects.filter(pk__in=parameters["scan_ids"]).select_related("subject").order_by("subject__eid")
    return dataset_scans(parameters["dataset"], field=parameters.get("field", DEFAULT_REFERENCE_FIELD))


def inference_run(job: Job) -> dict:
    version = ModelVersion.objects.get(pk=job.parameters["model_version"])
    try:
        return _infer(job, version)
    except BaseException:
        measurements_discard_of_job(job=job)  # a job that does not succeed leaves nothing
        raise


def _infer(job: Job, version: ModelVersion) -> dict:
    device = _job_device(job)
    trained, _ = load_checkpoint(checkpoint_absolute_path(version), device=device)
    done_ids = set(Measurement.all_objects.filter(model_version=version, quantity=Quantity.LIVER_FF,
                                                  method=Method.NETWORK).values_list("scan_id", flat=True))
    scans = list(_inference_scans(job.parameters))
    todo = [scan for scan in scans if scan.pk not in done_ids]
    total = len(scans)
    chunk = max(1, int(job.parameters.get("chunk_size", DEFAULT_CHUNK)))
    dataset = job.parameters.get("dataset") or "scans"
    already = total - len(todo)
    started = time.perf_counter()
    job_progress(job=job, done=already, total=total, message=f"{already} of {total} already inferred")
    for start in range(0, len(todo), chunk):
        part = todo[start:start + chunk]
        values = predict(trained, load_inputs(part), device=device)
        rows = [(scan, value, {"dataset": dataset}) for scan, value in zip(part, values, strict=True)]
        measurements_record_bulk(values=rows, quantity=Quantity.LIVER_FF, method=Method.NETWORK,
                                 model_version=version, job=job, ignore_conflicts=True)
        done = already + start + len(part)
        job_progress(job=job, done=done, total=total, message=f"{done} of {total} scans inferred")
    seconds = time.perf_counter() - started
    per_minute = round(len(todo) / seconds * 60, 1) if todo and seconds > 0 else None
    return {"model_version": version.pk, "scans": total, "inferred_now": len(todo), "already_inferred": already,
            "seconds": round(seconds, 2), "subjects_per_minute": per_minute, "finished": timezone.now().isoformat()}


__all__ = ["DEFAULT_FOLDS", "InputError", "RunError", "cross_validation_run", "cross_validation_start",
           "inference_run", "inference_start", "training_run", "training_start"]
