"""Coronal slices of the fused fat and water volumes for the QC viewer, and where the stations meet.

A fused NIfTI (uint16, stored (x, y, z)) becomes one uint8 *stack* of coronal slices, (y, z, x): slice
``j`` is ``stack[j]``, rows head to foot and columns as in the QC projections (``qc_images``), so a slice
and a projection line up. The 8 bits span 0 to the volume's STACK_PERCENTILE: wider than the projections'
window, because the viewer's window/level narrows it. One slice is then a small PNG resampled to square
millimetres (``qc_images.png_bytes``).

Seams are the slice rows where one station hands over to the next: the middle of the overlap of their
slice centres, read from the NIfTI headers alone (no voxel is decompressed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from .qc_images import png_bytes

KINDS = ("fat", "water")  # the fused volumes the viewer shows
STACK_PERCENTILE = 99.9
SAMPLE_VOXELS = 200_000  # the percentile is taken on about this many voxels, evenly spread: the same value, faster


@dataclass(frozen=True)
class Extent:
    """Slice centres of a volume along z (mm, head-most first) and the step between them."""

    top: float
    step: float
    slices: int

    @property
    def bottom(self) -> float:
        return self.top - self.step * (self.slices - 1)


@dataclass(frozen=True)
class Seam:
    upper: int  # station numbers
    lower: int
    row: float  # fused slice row (0 = head-most slice centre)
    position: float  # fraction of the image height from its top edge


@dataclass(frozen=True)
class SliceLayout:
    count: int  # coronal slices (y)
    rows: int  # slices of the fused volume (z): the height of a coronal slice
    columns: int  # x
    pixel_mm: tuple[float, float]  # (row, column) size of a coronal slice's pixel
    seams: tuple[Seam, ...]


def coronal_stack(volume_xyz: np.ndarray, percentile: float = STACK_PERCENTILE) -> np.ndarray:
    """uint8 (y, z, x) coronal slices of an (x, y, z) volume, 0 to its ``percentile`` mapped to 0-255."""
    step = max(1, int((volume_xyz.size / SAMPLE_VOXELS) ** (1 / 3)))
    sample = volume_xyz[::step, ::step, ::step]
    top = float(np.percentile(sample, percentile)) if sample.size else 0.0
    if top <= 0:
        return np.zeros((volume_xyz.shape[1], volume_xyz.shape[2], volume_xyz.shape[0]), np.uint8)
    coronal = volume_xyz.transpose(1, 2, 0)  # (y, z, x), a view
    if volume_xyz.dtype in (np.uint8, np.uint16):
        # A look-up table: one gather instead of float temporaries the size of the volume.
        lut = np.round(np.clip(np.arange(np.iinfo(volume_xyz.dtype).max + 1) / top, 0, 1) * 255).astype(np.uint8)
        return np.ascontiguousarray(lut[coronal])
    return np.ascontiguousarray(np.round(np.clip(coronal / top, 0, 1) * 255).astype(np.uint8))


def read_stack(path: Path) -> np.ndarray:
    """The coronal stack of a fused NIfTI (fat.nii.gz or water.nii.gz)."""
    return coronal_stack(np.asanyarray(nib.load(path).dataobj))


def slice_png(stack: np.ndarray, index: int, pixel_mm: tuple[float, float]) -> bytes:
    """Coronal slice ``index`` of ``stack`` as a PNG of square-millimetre pixels."""
    return png_bytes(np.ascontiguousarray(stack[index]), pixel_mm)


def nifti_extent(path: Path) -> Extent:
    """z extent of a NIfTI written by ``nifti.save_volume`` (z is the third axis, stepping downwards)."""
    image = nib.load(path)
    affine = image.affine
    return Extent(top=float(affine[2, 3]), step=float(-affine[2, 2]), slices=int(image.shape[2]))


def station_seams(grid: Extent, stations: dict[int, Extent]) -> list[Seam]:
    """Where each station meets the next one down, on the fused grid (overlapping or not)."""
    ordered = sorted(stations.items(), key=lambda item: -item[1].top)
    seams = []
    for (upper, above), (lower, below) in zip(ordered, ordered[1:], strict=False):
        z = (above.bottom + below.top) / 2
        row = (grid.top - z) / grid.step
        if -0.5 <= row <= grid.slices - 0.5:
            seams.append(Seam(upper, lower, round(row, 2), round((row + 0.5) / grid.slices, 4)))
    return seams


def slice_layout(fused: Path, stations: dict[int, Path]) -> SliceLayout:
    """The coronal slices of the fused volume at ``fused`` and its seams, from headers only."""
    image = nib.load(fused)
    columns, count, rows = (int(n) for n in image.shape[:3])
    dx, _, dz = (float(s) for s in image.header.get_zooms()[:3])
    seams = station_seams(nifti_extent(fused), {n: nifti_extent(p) for n, p in stations.items()})
    return SliceLayout(count=count, rows=rows, columns=columns, pixel_mm=(dz, dx), seams=tuple(seams))
