"""Bone marrow pages: Dice report (baseline beside attention model), status counts, the review list where a
rater assigns failure causes, and buttons for analysts to start training and segmentation jobs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ukbstudy.measurements.selectors.datasets import processed_scans

from .models import CAUSE_CHOICES, Segmentation
from .selectors import (
    current_model_version,
    dice_report,
    manual_counts,
    segmentation_of_scan,
    segmentations_to_review,
    status_counts,
    suggested_cause,
)
from .services.jobs import NoModel, marrow_segment_start, marrow_train_start
from .services.overlays import OverlayUnavailable, segmentation_overlay_png
from .services.review import InvalidCause, segmentation_cause_assign

REVIEW_LIMIT = 200


@permission_required("marrow.view_segmentation", raise_exception=True)
def overview(request):
    model_version = current_model_version()
    review = list(segmentations_to_review(model_version)[:REVIEW_LIMIT]) if model_version else []
    counts = status_counts(model_version) if model_version else []
    for segmentation in review:
        segmentation.suggestion = segmentation.failure_cause or suggested_cause(segmentation)
    return render(request, "marrow/overview.html", {
        "model_version": model_version, "report": dice_report(model_version), "manual": manual_counts(),
        "counts": counts, "segmented": sum(row["total"] for row in counts), "review": review,
        "causes": CAUSE_CHOICES, "can_rate": request.user.has_perm("marrow.change_segmentation"),
        "can_run": request.user.has_perm("jobs.add_job")})


@login_required
@permission_required(("marrow.view_segmentation", "imaging.view_scan"), raise_exception=True)
def overlay(request, scan_pk: int, region: str):
    """The current model's mask of ``region`` over the scan's fat-fraction slab, as a small PNG."""
    segmentation = segmentation_of_scan(scan_pk=scan_pk, region=region)
    if segmentation is None:
        raise Http404("no segmentation of this region of this scan by the current model")
    try:
        body = segmentation_overlay_png(segmentation=segmentation)
    except OverlayUnavailable as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(body, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


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
