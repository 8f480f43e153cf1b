"""A scan's slabs as the marrow networks see them (the preprocessing's station volumes)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from django.conf import settings

from ml.marrow.io import load_slab
from ml.marrow.regions import Region
from ukbstudy.imaging.models import Scan


class SlabMissing(ValueError):
    pass


def slab_paths(scan: Scan, station: int) -> tuple[Path, Path]:
    derived = scan.derived or {}
    names = (f"station{station}_fat", f"station{station}_water")
    if scan.processing_state != Scan.State.PROCESSED or not all(n in derived for n in names):
        raise SlabMissing(f"scan {scan} has no preprocessed station {station} (state {scan.processing_state})")
    media = Path(settings.MEDIA_ROOT)
    return media / derived[names[0]], media / derived[names[1]]


def scan_slab(scan: Scan, region: Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fat, water (z, y, x) and affine of the slab ``region`` lives in."""
    return load_slab(*slab_paths(scan, region.station))


def slab_grid(scan: Scan, region: Region) -> tuple[tuple[int, int, int], np.ndarray]:
    """Shape (z, y, x) and affine of the slab, read from the header only."""
    image = nib.load(slab_paths(scan, region.station)[0])
    return tuple(reversed(image.shape[:3])), image.affine


def voxel_ml(affine: np.ndarray) -> float:
    return float(abs(np.linalg.det(affine[:3, :3]))) / 1000.0
