"""The liver fat network page: model registry with cross-validation metrics, runs with loss curves; analysts
start cross-validation, training and inference, and choose the current model."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DATASETS
from ukbstudy.results.figures import figure_json

from .figures import LOSS_EVERY, loss_figure, loss_table
from .selectors import (
    POOR_R2,
    LossCurves,
    configuration_choices,
    current_model_warning,
    dataset_sizes,
    default_configuration,
    gpu_available,
    liverfat_jobs,
    loss_curves,
    model_versions,
)
from .services.registry import TASK, liverfat_model_make_current
from .services.runs import RunError, cross_validation_start, inference_start, training_start

FIELD_CHOICES = (("22402-2.0", "22402-2.0"), ("22436-2.0", "22436-2.0"),
                 ("22402-2.0,22436-2.0", "22402-2.0, else 22436-2.0"))
FIELDS = tuple(value for value, _ in FIELD_CHOICES)


def _loss_panel(found: LossCurves) -> dict:
    """The loss figure and its table, or (no finished run with losses) neither: the notes say why."""
    if not found.curves:
        return {"key": "loss", "figure": None, "table": None, "notes": found.notes}
    source = [f"cross-validation job {found.cross_validation.pk}"] if found.cross_validation else []
    source += [f"training job {found.training.pk}"] if found.training else []
    title = f"Training loss (mean of every {LOSS_EVERY} iterations): {' and '.join(source)}"
    return {"key": "loss", "figure": figure_json(loss_figure(found.curves, title)),
            "table": loss_table(found.curves, "Loss at the start and end of each run"), "notes": found.notes}


@permission_required("measurements.view_modelversion", raise_exception=True)
def overview(request):
    field = request.GET.get("field") if request.GET.get("field") in FIELDS else DEFAULT_REFERENCE_FIELD
    jobs = liverfat_jobs()
    versions = list(model_versions())
    return render(request, "liverfat/overview.html", {
        "versions": versions, "warning": current_model_warning(versions), "poor_r2": POOR_R2, "jobs": jobs,
        "sizes": dataset_sizes(field), "field": field, "fields": FIELD_CHOICES,
        "configs": configuration_choices(), "gpu": gpu_available(), "datasets": DATASETS,
        "loss_panel": _loss_panel(loss_curves(jobs)),
        "can_run": request.user.has_perm("jobs.add_job"),
        "can_choose": request.user.has_perm("measurements.change_modelversion")})


@require_POST
@permission_required("jobs.add_job", raise_exception=True)
def start(request, action: str):
    config = request.POST.get("config") or default_configuration()
    field = request.POST.get("field", DEFAULT_REFERENCE_FIELD)
    try:
        if field not in FIELDS:
            raise RunError(f"unknown reference field {field!r}")
        if action == "cv":
            job = cross_validation_start(config=config, field=field, folds=int(request.POST.get("folds", 10)),
                                         user=request.user)
        elif action == "train":
            job = training_start(config=config, field=field, user=request.user)
        else:
            job = inference_start(dataset=request.POST.get("dataset", "B"), field=field, user=request.user)
    except (RunError, ValueError) as exc:
        messages.error(request, str(exc))
        return redirect("liverfat:overview")
    messages.success(request, f"Job {job.pk} queued: follow it here or on the jobs page.")
    return redirect("liverfat:overview")


@require_POST
@permission_required("measurements.change_modelversion", raise_exception=True)
def make_current(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk, task=TASK)
    try:
        liverfat_model_make_current(model_version=version)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version.name} {version.version} is now the current model.")
    return redirect("liverfat:overview")
