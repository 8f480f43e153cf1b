"""Derived images of a scan, handed out only to users who may view scans (media is never public)."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404
from django.urls import reverse

from .models import Scan
from .selectors import scan_get

IMAGE_NAMES = ("qc_water_coronal", "qc_fat_coronal", "qc_water_sagittal", "qc_fat_sagittal", "network_input")


def scan_image_urls(scan: Scan) -> list[tuple[str, str]]:
    """(name, URL) of the scan's QC images; the URL names the processing run, so a new run is never served
    from a browser's cache of the old one."""
    version = scan.derived.get("folder", "").rsplit("/", 1)[-1]
    return [(name, reverse("subjects:scan-image", args=(scan.pk, name)) + f"?v={version}")
            for name in IMAGE_NAMES if name in scan.derived]


@login_required
@permission_required("subjects.view_scan", raise_exception=True)
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
