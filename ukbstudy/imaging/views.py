"""Derived images of a scan, handed out only to users who may view scans (media is never public), and
starting the preprocessing of the scans not processed yet."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from .models import Scan
from .selectors import scan_get, scans_pending_processing
from .services.jobs import preprocess_start

IMAGE_NAMES = ("qc_water_coronal", "qc_fat_coronal", "qc_water_sagittal", "qc_fat_sagittal", "network_input")


def scan_image_urls(scan: Scan) -> list[tuple[str, str]]:
    """(name, URL) of the scan's QC images; the URL names the processing run, so a new run is never served
    from a browser's cache of the old one."""
    version = scan.derived.get("folder", "").rsplit("/", 1)[-1]
    return [(name, reverse("imaging:scan-image", args=(scan.pk, name)) + f"?v={version}")
            for name in IMAGE_NAMES if name in scan.derived]


@login_required
@permission_required("imaging.view_scan", raise_exception=True)
def scan_image(request, pk: int, name: str):
    scan = scan_get(pk=pk)
    if scan is None:
        raise Http404("no such scan")
    if name not in IMAGE_NAMES or name not in scan.derived:
        raise Http404("no such image for this scan")
    path = (Path(settings.MEDIA_ROOT) / scan.derived[name]).resolve()
    if not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve()) or not path.is_file():
        raise Http404("image not found")
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@permission_required("jobs.add_job", raise_exception=True)
def preprocess_pending(request):
    job = preprocess_start(scans=scans_pending_processing(), user=request.user)
    messages.success(request, f"Job {job.pk}: preprocessing {job.progress_total} scan(s).")
    return redirect("jobs:list")
