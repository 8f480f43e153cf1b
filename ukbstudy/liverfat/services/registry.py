"""The model registry for the liver fat network: versions, checkpoints, the current model."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ukbstudy.measurements.models import ModelVersion

TASK = ModelVersion.Task.LIVER_FF
KIND_KEY = "kind"  # config[KIND_KEY]: "cross_validation" (out-of-fold predictions) or "trained" (a checkpoint)


def git_revision() -> str:
    """The code revision a model was trained with: $GIT_REVISION, else the checkout's HEAD, else ''."""
    if os.environ.get("GIT_REVISION"):
        return os.environ["GIT_REVISION"][:40]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()[:40] if out.returncode == 0 else ""


def checkpoint_relative_path(version: str) -> str:
    return f"models/{TASK}/{version}/model.pt"


def checkpoint_absolute_path(model_version: ModelVersion) -> Path:
    if not model_version.checkpoint_path:
        raise ValueError(f"model version {model_version} has no checkpoint (a cross-validation run?)")
    return Path(settings.MEDIA_ROOT) / model_version.checkpoint_path


def current_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(task=TASK, is_current=True).first()


def model_version_make_current(*, model_version: ModelVersion) -> ModelVersion:
    """Mark a trained version current (the one inference uses by default); exactly one is current per task."""
    if model_version.task != TASK or not model_version.checkpoint_path:
        raise ValueError(f"{model_version} is not a trained liver fat model with a checkpoint")
    with transaction.atomic():
        ModelVersion.objects.select_for_update().filter(task=TASK, is_current=True).exclude(
            pk=model_version.pk).update(is_current=False)
        ModelVersion.objects.filter(pk=model_version.pk).update(is_current=True)
    model_version.is_current = True
    return model_version


def matching_cross_validation(*, config: dict, data_fingerprint: str) -> ModelVersion | None:
    """The newest cross-validation of the same configuration on the same data: its metrics describe a model
    trained on all of that data."""
    runs = ModelVersion.objects.filter(task=TASK, config__kind="cross_validation", data_fingerprint=data_fingerprint)
    return next((run for run in runs.order_by("-created_at") if run.config.get("train") == config), None)
