"""Reads of scans for the pages, the API and the jobs.

Every read starts from a default manager, so scans of participants who withdrew are never among the results.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet
from nibabel.filebasedimages import ImageFileError

from ml.imaging.slices import KINDS, SliceLayout, slice_layout
from ukbstudy.jobs.services import ItemFailed

from .models import Scan

STATION_FAT = re.compile(r"station(\d+)_fat")


def scan_list() -> QuerySet:
    """Scans with their subject (every page and answer that shows a scan names its participant)."""
    return Scan.objects.select_related("subject")


def scan_get(*, pk: int) -> Scan | None:
    return scan_list().filter(pk=pk).first()


def scans_pending_processing() -> QuerySet:
    """Scans not processed yet: imported, being processed or failed (the jobs page's pending scans)."""
    return Scan.objects.exclude(processing_state=Scan.State.PROCESSED)


def scan_of_item(item: str) -> Scan:
    """The scan an item of a fanned-out job names; ItemFailed when it is gone or its participant withdrew."""
    scan = scan_list().filter(pk=int(item)).first()
    if scan is None:
        raise ItemFailed(f"scan {item} no longer exists or its participant has withdrawn")
    return scan


def scan_slice_layout(*, scan: Scan) -> SliceLayout | None:
    """The coronal slices of the scan's fused volumes (how many, pixel size) and where its stations meet,
    read from the NIfTI headers; None when the scan has no fused fat and water volumes (not processed)."""
    if not all(kind in scan.derived for kind in KINDS):
        return None
    media = Path(settings.MEDIA_ROOT)
    stations = {int(match[1]): media / path for name, path in scan.derived.items()
                if (match := STATION_FAT.fullmatch(name))}
    try:
        return slice_layout(media / scan.derived["fat"], stations)
    except (OSError, ImageFileError):  # files removed by a newer run meanwhile, or damaged
        return None
