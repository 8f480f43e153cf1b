"""The model registry for the liver fat network: versions, checkpoints, the current model."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.services import model_version_make_current

TASK = ModelVersion.Task.LIVER_FF_REGRESSION
KIND_KEY = "kind"  # config[KIND_KEY]: "cross_validation" (out-of-fold predictions) or "trained" (a checkpoint)


def checkpoint_relative_path(version: str) -> str:
    return f"models/{TASK}/{version}/model.pt"


def checkpoint_absolute_path(model_version: ModelVersion) -> Path:
    if not model_version.checkpoint_path:
        raise ValueError(f"model version {model_version} has no checkpoint (a cross-validation run?)")
    return Path(settings.MEDIA_ROOT) / model_version.checkpoint_path


def current_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(task=TASK, is_current=True).first()


def liverfat_model_make_current(*, model_version: ModelVersion) -> ModelVersion:
    """Mark a trained version current (the one inference uses by default); refuses one without a checkpoint."""
    if model_version.task != TASK or not model_version.checkpoint_path:
        raise ValueError(f"{model_version} is not a trained liver fat model with a checkpoint")
    return model_version_make_current(model_version=model_version)


def matching_cross_validation(*, config: dict, data_fingerprint: str) -> ModelVersion | None:
    """The newest cross-validation of the same configuration on the same data: its metrics describe a model
    trained on all of that data."""
    runs = ModelVersion.objects.filter(task=TASK, config__kind="cross_validation", data_fingerprint=data_fingerprint)
    return next((run for run in runs.order_by("-created_at") if run.config.get("train") == config), None)
