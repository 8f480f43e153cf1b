"""Bone marrow pages: Dice report (baseline beside attention model), status counts, the review list where a
rater assigns failure causes, and buttons for analysts to start training and segmentation jobs."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ukbstudy.measurements.selectors.datasets import processed_scans

from .models import CAUSE_CHOICES, Segmentation
from .selectors import (
    current_model_version,
    dice_report,
    manual_counts,
    segmentations_to_review,
    status_counts,
    suggested_cause,
)
from .services.jobs import NoModel, marrow_segment_start, marrow_train_start
from .services.review import InvalidCause, segmentation_cause_assign

REVIEW_LIMIT = 200


@permission_required("marrow.view_segmentation", raise_exception=True)
def overview(request):
    model_version = current_model_version()
    review = list(segmentations_to_review(model_version)[:REVIEW_LIMIT]) if model_version else []
    for segmentation in review:
        segmentation.suggestion = segmentation.failure_cause or suggested_cause(segmentation)
    return render(request, "marrow/overview.html", {
        "model_version": model_version, "report": dice_report(model_version), "manual": manual_counts(),
        "counts": status_counts(model_version) if model_version else [], "review": review,
        "causes": CAUSE_CHOICES, "can_rate": request.user.has_perm("marrow.change_segmentation"),
        "can_run": request.user.has_perm("jobs.add_job")})


@require_POST
@permission_required("marrow.change_segmentation", raise_exception=True)
def assign_cause(request, pk: int):
    segmentation = get_object_or_404(Segmentation, pk=pk)
    try:
        segmentation_cause_assign(segmentation=segmentation, cause=request.POST.get("cause", ""),
                                  note=request.POST.get("note", ""), user=request.user)
    except InvalidCause as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cause recorded for {segmentation.get_region_display()} of "
                                  f"{segmentation.scan.subject.eid}.")
    return redirect("marrow:overview")


@require_POST
@permission_required("jobs.add_job", raise_exception=True)
def start_training(request):
    job = marrow_train_start(user=request.user)
    messages.success(request, f"Job {job.pk}: training both networks for the four regions.")
    return redirect("jobs:list")


@require_POST
@permission_required("jobs.add_job", raise_exception=True)
def start_segmentation(request):
    try:
        job = marrow_segment_start(scans=processed_scans(), user=request.user)
    except NoModel as exc:
        messages.error(request, str(exc))
        return redirect("marrow:overview")
    messages.success(request, f"Job {job.pk}: segmenting {job.progress_total} scan(s).")
    return redirect("jobs:list")
