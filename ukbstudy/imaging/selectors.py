"""Reads of scans for the pages, the API and the jobs.

Every read starts from a default manager, so scans of participants who withdrew are never among the results.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import nibabel as nib
import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from nibabel.filebasedimages import ImageFileError

from ml.imaging.maps import FRACTION_KINDS, load_fraction
from ml.imaging.nifti import load_volume
from ml.imaging.slices import KINDS, Extent, SliceLayout, nifti_extent, slice_layout, station_seams
from ml.imaging.storage import StorageReport, file_size, folder_usage
from ml.imaging.volumes import ImagingError, StationVolume, load_stations
from ukbstudy.jobs.services import ItemFailed

from .models import Scan
from .services.archive_files import scan_archive_file, scan_archive_location
from .services.archives import archive_index, archive_index_path

STATION_FAT = re.compile(r"station(\d+)_fat")


class ScanVolumeMissing(LookupError):
    """The scan has no such fused volume on disk (not processed, or its files were removed meanwhile)."""


def scan_list() -> QuerySet:
    """Scans with their subject (every page and answer that shows a scan names its participant)."""
    return Scan.objects.select_related("subject", "visit")


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
        layout = slice_layout(media / scan.derived["fat"], stations)
        if stations:  # a run that kept its station volumes (and every run before they became optional)
            return layout
        return replace(layout, seams=tuple(station_seams(nifti_extent(media / scan.derived["fat"]),
                                                         _recorded_extents(scan))))
    except (OSError, ImageFileError):  # files removed by a newer run meanwhile, or damaged
        return None


def scan_station_grids(*, scan: Scan) -> dict[int, tuple[tuple[int, int, int], np.ndarray]]:
    """Shape (z, y, x) and RAS affine of each station's own grid, as the run recorded them."""
    recorded = (scan.preprocessing or {}).get("grid", {}).get("stations", {})
    return {int(n): (tuple(g["shape_zyx"]), np.array(g["affine_ras"])) for n, g in recorded.items()}


def _recorded_extents(scan: Scan) -> dict[int, Extent]:
    """Station z extents as ``slices.nifti_extent`` reads them from a station file's header."""
    return {n: Extent(top=float(affine[2, 3]), step=float(-affine[2, 2]), slices=shape[0])
            for n, (shape, affine) in scan_station_grids(scan=scan).items()}


def scan_has_volume(scan: Scan, name: str) -> bool:
    """Whether ``scan_volume`` can give ``name``: its file, or for a fraction the fat and water."""
    derived = scan.derived or {}
    return name in derived or (name in FRACTION_KINDS and "fat" in derived and "water" in derived)


def scan_volume(*, scan: Scan, name: str) -> np.ndarray:
    """A fused volume of the scan (fat, water, body_mask, ff, wf), float32 (z, y, x).

    The one reader of fractions: a run that stored ``ff.nii.gz`` (before they were dropped) is read as it
    was; newer runs store none and the fraction is computed from fat and water (``maps.load_fraction``),
    in memory, nothing written. ScanVolumeMissing when neither is there."""
    media, derived = Path(settings.MEDIA_ROOT), scan.derived or {}
    if not scan_has_volume(scan, name):
        raise ScanVolumeMissing(f"{scan} has no {name} volume (not preprocessed?)")
    try:
        if name in derived:
            return load_volume(media / derived[name])
        return load_fraction(media / derived["fat"], media / derived["water"], name)
    except (OSError, ImageFileError) as exc:  # removed by a newer run meanwhile, or damaged
        raise ScanVolumeMissing(f"{scan}: the {name} volume cannot be read ({exc})") from exc


def scan_fused_header(*, scan: Scan) -> nib.Nifti1Image:
    """The scan's fused grid (shape, affine, voxel size) from ``fat.nii.gz``'s header, no voxel read: every
    fused volume of a run, stored or computed, lies on it. ScanVolumeMissing when there is none."""
    if "fat" not in (scan.derived or {}):
        raise ScanVolumeMissing(f"{scan} has no fused volumes (not preprocessed?)")
    try:
        return nib.load(Path(settings.MEDIA_ROOT) / scan.derived["fat"])
    except (OSError, ImageFileError) as exc:
        raise ScanVolumeMissing(f"{scan}: the fused fat volume cannot be read ({exc})") from exc


def scan_station_volume(*, scan: Scan, number: int) -> StationVolume:
    """Station ``number``'s fat and water on its own grid, read from the scan's archive as preprocessing read
    them: runs keep no station volumes unless IMAGING_KEEP_STATION_VOLUMES, and the archive is kept anyway.
    ImagingError (or the archive's ArchiveFileError) when it cannot be had."""
    inventory = (scan.inventory or {}).get("stations", {})
    if str(number) not in inventory:
        raise ImagingError(f"{scan} has no station {number}")
    archive = scan_archive_file(scan=scan)
    volumes = load_stations(archive, {str(number): inventory[str(number)]}, archive_index(archive))
    if number not in volumes:
        raise ImagingError(f"station {number} of {scan} has no fat and water series")
    return volumes[number]


def scans_storage() -> StorageReport:
    """Bytes on disk under MEDIA_ROOT per kind of derived file and of archive copy, over every scan (withdrawn
    participants' scans excepted, as in every read here). Walks the run folders, opens nothing."""
    media, report = Path(settings.MEDIA_ROOT), StorageReport()
    rows = Scan.objects.only("derived", "archive_path", "archive_in_place").order_by("pk")
    for scan in rows.iterator(chunk_size=2000):
        report.scans += 1
        if folder := (scan.derived or {}).get("folder"):
            report.add_run(folder_usage(media / folder))
        archive = scan_archive_location(scan=scan)
        if scan.archive_in_place:
            report.in_place += 1
        else:
            report.archives["archive copies"] += file_size(archive)
        report.archives["archive indexes"] += file_size(archive_index_path(archive))
    return report
