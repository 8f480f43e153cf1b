"""A scan's slabs as the marrow networks see them: the stations on their own grids.

A run keeps the station volumes (``station2_fat.nii.gz`` ...) only with IMAGING_KEEP_STATION_VOLUMES (every
run before it was a setting kept them); otherwise a slab is read from the scan's archive, as preprocessing
read it, and its grid is the one the run recorded. Either way the values are the same: the archive's
whole-number pixels, which the station files store exactly.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from django.conf import settings

from ml.imaging.volumes import ImagingError
from ml.marrow.io import load_slab
from ml.marrow.regions import Region
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_station_grids, scan_station_volume
from ukbstudy.imaging.services.archive_files import ArchiveFileError, scan_archive_file


class SlabMissing(ValueError):
    pass


def _station_files(scan: Scan, station: int) -> tuple[Path, Path] | None:
    derived = scan.derived or {}
    names = (f"station{station}_fat", f"station{station}_water")
    if not all(n in derived for n in names):
        return None
    media = Path(settings.MEDIA_ROOT)
    return media / derived[names[0]], media / derived[names[1]]


def _processed(scan: Scan, station: int) -> None:
    if scan.processing_state != Scan.State.PROCESSED:
        raise SlabMissing(f"scan {scan} has no preprocessed station {station} (state {scan.processing_state})")


def slab_paths(scan: Scan, station: int) -> tuple[Path, Path]:
    """The files the slab is read from, for cache keys (a rewrite of either changes them): the station's fat
    and water volumes, or the scan's archive twice when the run did not keep them."""
    _processed(scan, station)
    files = _station_files(scan, station)
    if files is not None:
        return files
    if station not in scan_station_grids(scan=scan):
        raise SlabMissing(f"scan {scan} has no station {station}")
    try:
        archive = scan_archive_file(scan=scan)
    except ArchiveFileError as exc:
        raise SlabMissing(str(exc)) from None
    return archive, archive


def scan_slab(scan: Scan, region: Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fat, water (z, y, x) and affine of the slab ``region`` lives in."""
    _processed(scan, region.station)
    files = _station_files(scan, region.station)
    if files is not None:
        return load_slab(*files)
    try:
        station = scan_station_volume(scan=scan, number=region.station)
    except (ImagingError, ArchiveFileError) as exc:
        raise SlabMissing(f"scan {scan}: station {region.station} cannot be read ({exc})") from None
    return station.fat, station.water, station.affine_ras()


def slab_grid(scan: Scan, region: Region) -> tuple[tuple[int, int, int], np.ndarray]:
    """Shape (z, y, x) and affine of the slab, from the station file's header or the run's record."""
    _processed(scan, region.station)
    files = _station_files(scan, region.station)
    if files is not None:
        image = nib.load(files[0])
        return tuple(reversed(image.shape[:3])), image.affine
    grids = scan_station_grids(scan=scan)
    if region.station not in grids:
        raise SlabMissing(f"scan {scan} has no station {region.station}")
    return grids[region.station]


def voxel_ml(affine: np.ndarray) -> float:
    return float(abs(np.linalg.det(affine[:3, :3]))) / 1000.0
