"""Derived images of a scan and slices of its fused volumes, handed out only to users who may view scans
(media is never public), and starting the preprocessing of the scans not processed yet."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from .models import Scan
from .selectors import scan_get, scan_slice_layout, scans_pending_processing
from .services.jobs import preprocess_start
from .services.slices import SliceUnavailable, scan_slice_png

IMAGE_NAMES = ("qc_water_coronal", "qc_fat_coronal", "qc_water_sagittal", "qc_fat_sagittal", "network_input")
CAPTIONS = {
    "qc_water_coronal": "Water, coronal (mean projection)",
    "qc_fat_coronal": "Fat, coronal (mean projection)",
    "qc_water_sagittal": "Water, sagittal (mean projection)",
    "qc_fat_sagittal": "Fat, sagittal (mean projection)",
    "network_input": "Network input: fat fraction 0-50 %, coronal | sagittal slice",
}


def scan_image_urls(scan: Scan) -> list[tuple[str, str]]:
    """(name, URL) of the scan's QC images; the URL names the processing run, so a new run is never served
    from a browser's cache of the old one."""
    version = scan.derived.get("folder", "").rsplit("/", 1)[-1]
    return [(name, reverse("imaging:scan-image", args=(scan.pk, name)) + f"?v={version}")
            for name in IMAGE_NAMES if name in scan.derived]


def scan_figures(scan: Scan) -> list[dict]:
    """The scan's QC images for a page: name, URL, caption and, where the pixels are not square
    millimetres (the network input), the width / height the image has in millimetres."""
    return [{"name": name, "url": url, "caption": CAPTIONS[name],
             "aspect": _network_input_aspect(scan) if name == "network_input" else ""}
            for name, url in scan_image_urls(scan)]


def _network_input_aspect(scan: Scan) -> str:
    """The network input's true width / height: its coronal part has x columns, its sagittal part y
    columns, and its rows are fused slices (``ml.imaging.network_input``)."""
    grid, used = scan.preprocessing.get("grid", {}), scan.preprocessing.get("network_input", {})
    try:
        dz, dy, dx = grid["spacing_zyx_mm"]
        width = grid["shape_zyx"][2] * dx + used["sagittal_rows"] * dy
        return f"{width:.1f} / {used['slices'] * dz:.1f}"
    except (KeyError, TypeError, ValueError):
        return ""


def scan_slice_viewer(scan: Scan) -> dict | None:
    """What the QC page's slice viewer needs: the tile URL pattern, the slice count, the slice it opens on
    (the network input's coronal slice, through the body's centre) and the station seams."""
    layout = scan_slice_layout(scan=scan)
    if layout is None or layout.count == 0:
        return None
    version = scan.derived.get("folder", "").rsplit("/", 1)[-1]
    first = reverse("imaging:scan-slice", args=(scan.pk, "fat", 0))
    centre = scan.preprocessing.get("network_input", {}).get("coronal_row", layout.count // 2)
    start = min(max(int(centre), 0), layout.count - 1)
    tiles = first.replace("/fat/0.png", "/{kind}/{index}.png") + f"?v={version}"
    return {"tiles": tiles, "first": tiles.replace("{kind}", "fat").replace("{index}", str(start)),
            "count": layout.count, "start": start, "seams": layout.seams}


@login_required
@permission_required("imaging.view_scan", raise_exception=True)
def scan_slice(request, pk: int, kind: str, index: int):
    """One coronal slice of the scan's fused fat or water volume as a PNG (the QC viewer's tiles)."""
    scan = scan_get(pk=pk)
    if scan is None:
        raise Http404("no such scan")
    try:
        body = scan_slice_png(scan=scan, kind=kind, index=index)
    except (SliceUnavailable, FileNotFoundError) as exc:  # not processed, or its run folder replaced meanwhile
        raise Http404(str(exc)) from None
    response = HttpResponse(body, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


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
