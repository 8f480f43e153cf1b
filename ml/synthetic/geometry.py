"""Voxel grids of the synthetic archives and their NIfTI affines.

Conventions shared by every module of the generator:

- Patient coordinates are DICOM LPS millimetres: x grows to the patient's left, y posterior, z to the
  head. z = 0 is the nominal head-most edge of station 1. The body is fixed in these coordinates; the
  table offset of a visit moves the stations, not the body.
- A station is a slab of ``slices`` slices of thickness t stacked downwards from its top edge: slice k
  (0-based) is centred at z = top - (k + 0.5) t, so slice 0 is the head-most one.
- In-plane, column i sits at x = x0 + i dx and row j at y = y0 + j dy (the DICOM row direction is +x and
  the column direction +y); the field of view is centred on x = 0 and on y = ``y_centre``.
- In-memory volumes are NumPy arrays indexed (slice, row, column) = (z, y, x) with slice 0 head-most,
  so ``volume[k]`` is the DICOM pixel array of slice k.
- NIfTI files store the transposed volume, indexed (column, row, slice) = (i, j, k), with an affine
  that maps (i, j, k) to RAS millimetres (LPS with x and y negated); voxel (0, 0, 0) is the first pixel
  of the head-most slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.ukb.protocol import FUSED_SHAPE, FUSED_SPACING_MM, IN_PLANE_SPACING_MM, STATION_BY_NUMBER

Box = tuple[slice, slice, slice]


@dataclass(frozen=True)
class Grid:
    """Voxel centres of an axial grid: x per column, y per row, z per slice (head first, decreasing)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    spacing: tuple[float, float, float]  # (dz, dy, dx), all positive

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape of a volume on this grid: (slices, rows, columns)."""
        return len(self.z), len(self.y), len(self.x)

    def sub(self, box: Box) -> Grid:
        """The part of the grid selected by ``box`` (index ranges in (z, y, x) order)."""
        return Grid(self.x[box[2]], self.y[box[1]], self.z[box[0]], self.spacing)

    def box(self, lo: tuple[float, float, float], hi: tuple[float, float, float]) -> Box | None:
        """Index ranges of the voxel centres inside the millimetre box [lo, hi] (x, y, z); None if empty."""
        xs = _index_range(self.x, lo[0], hi[0])
        ys = _index_range(self.y, lo[1], hi[1])
        zs = _index_range(self.z, lo[2], hi[2])
        if xs is None or ys is None or zs is None:
            return None
        return zs, ys, xs

    def affine_ras(self) -> np.ndarray:
        """Affine from NIfTI (column, row, slice) indices to RAS millimetres."""
        dz, dy, dx = self.spacing
        return np.array([[-dx, 0.0, 0.0, -self.x[0]],
                         [0.0, -dy, 0.0, -self.y[0]],
                         [0.0, 0.0, -dz, self.z[0]],
                         [0.0, 0.0, 0.0, 1.0]])


def _index_range(centres: np.ndarray, lo: float, hi: float) -> slice | None:
    """Contiguous index range of the (monotonic) centres inside [lo, hi]."""
    inside = np.flatnonzero((centres >= lo) & (centres <= hi))
    if inside.size == 0:
        return None
    return slice(int(inside[0]), int(inside[-1]) + 1)


def _axis(count: int, spacing: float, centre: float) -> np.ndarray:
    """Voxel centres of ``count`` voxels of ``spacing`` centred on ``centre``."""
    return centre + (np.arange(count) - (count - 1) / 2) * spacing


def station_grid(number: int, scale: float, top_z: float, y_centre: float = 0.0) -> Grid:
    """The voxel grid of a station whose top edge is at ``top_z``.

    Scaling keeps the field of view: ``scale`` times as many voxels, each 1/``scale`` as large.
    """
    nominal = STATION_BY_NUMBER[number]
    spec = nominal.scaled(scale)
    dx = IN_PLANE_SPACING_MM * nominal.columns / spec.columns
    dy = IN_PLANE_SPACING_MM * nominal.rows / spec.rows
    dz = spec.slice_thickness_mm
    z = top_z - (np.arange(spec.slices) + 0.5) * dz
    return Grid(_axis(spec.columns, dx, 0.0), _axis(spec.rows, dy, y_centre), z, (dz, dy, dx))


def fused_grid(scale: float, station1_top_z: float, y_centre: float = 0.0) -> Grid:
    """The fused neck-to-knee grid of the liver fat paper, starting at station 1's head-most slice.

    In-plane it is centred like station 1 (x on 0, y on ``y_centre``); FUSED_SHAPE is (z, x, y).
    """
    nz, nx, ny = (max(4, round(n * scale)) for n in FUSED_SHAPE)
    dz, dx, dy = (s * n / m for s, n, m in zip(FUSED_SPACING_MM, FUSED_SHAPE, (nz, nx, ny), strict=True))
    station1 = STATION_BY_NUMBER[1].scaled(scale)
    z0 = station1_top_z - station1.slice_thickness_mm / 2
    z = z0 - np.arange(nz) * dz
    return Grid(_axis(nx, dx, 0.0), _axis(ny, dy, y_centre), z, (dz, dy, dx))
