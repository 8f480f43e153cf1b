"""Fusion of the six stations onto the liver fat paper's grid.

The grid is 370 x 224 x 174 voxels (slices x columns x rows) of 3.0 x 2.232 x 2.232 mm at full scale,
centred in-plane like station 1 and starting at station 1's head-most slice; scaled-down test archives get
a proportionally coarser grid over the same field of view. Each station is resampled by separable linear
interpolation (exact trilinear for axial slices), up to FOLD_OVER_MM of fold-over slices are dropped where
a neighbour takes over, and overlaps are blended with weights that fall linearly towards each station's
end of contribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.ukb import protocol

from .volumes import ImagingError, StationVolume

FOLD_OVER_MM = 8.0  # dropped at a station end where a neighbouring station covers the same region


@dataclass(frozen=True)
class FusedGrid:
    """Voxel centres of the fused grid; volumes on it are (z, y, x) with slice 0 head-most."""

    z: np.ndarray
    y: np.ndarray
    x: np.ndarray
    spacing: tuple[float, float, float]  # (dz, dy, dx)

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.z), len(self.y), len(self.x)

    @property
    def scale(self) -> float:
        return len(self.x) / protocol.FUSED_SHAPE[1]

    def affine_ras(self) -> np.ndarray:
        """NIfTI (x, y, z) index -> RAS mm."""
        dz, dy, dx = self.spacing
        return np.array([[-dx, 0, 0, -self.x[0]], [0, -dy, 0, -self.y[0]], [0, 0, -dz, self.z[0]], [0, 0, 0, 1.0]])


def grid_scale(stations: dict[int, StationVolume]) -> float:
    """1.0 for UK Biobank data; the voxel ratio for scaled-down synthetic archives."""
    station = next(iter(stations.values()))
    scale = station.fat.shape[2] / protocol.STATION_BY_NUMBER[station.number].columns
    return 1.0 if abs(scale - 1.0) < 0.02 else scale


def fused_grid(stations: dict[int, StationVolume]) -> FusedGrid:
    """The fused grid for these stations (station 1 anchors it; without it, the nominal layout does)."""
    scale = grid_scale(stations)
    nz, nx, ny = (max(4, round(n * scale)) for n in protocol.FUSED_SHAPE)
    dz, dx, dy = (s * n / m for s, n, m in zip(protocol.FUSED_SPACING_MM, protocol.FUSED_SHAPE, (nz, nx, ny),
                                               strict=True))
    reference = stations.get(1) or stations[min(stations)]
    z0 = _first_slice_of_station_1(stations, scale)
    x_centre = float(np.mean(reference.x))
    y_centre = float(np.mean(reference.y))
    return FusedGrid(z=z0 - dz * np.arange(nz), y=y_centre + dy * (np.arange(ny) - (ny - 1) / 2),
                     x=x_centre + dx * (np.arange(nx) - (nx - 1) / 2), spacing=(dz, dy, dx))


def _first_slice_of_station_1(stations: dict[int, StationVolume], scale: float) -> float:
    station1 = protocol.STATION_BY_NUMBER[1].scaled(scale)
    if 1 in stations:
        return float(stations[1].z[0])
    reference = stations[min(stations)]
    step = _slice_step(reference)
    top_edge = reference.z[0] + step / 2 - protocol.nominal_station_tops_mm(0.0)[reference.number]
    return float(top_edge - station1.slice_thickness_mm / 2)


def _slice_step(station: StationVolume) -> float:
    return float((station.z[0] - station.z[-1]) / (len(station.z) - 1)) if len(station.z) > 1 else 1.0


def fuse(stations: dict[int, StationVolume], grid: FusedGrid) -> tuple[np.ndarray, np.ndarray]:
    """Fat and water on ``grid`` (float32, (z, y, x)); voxels no station covers are 0."""
    if not stations:
        raise ImagingError("no station with both fat and water series to fuse")
    fused = np.zeros((2, *grid.shape), np.float32)  # fat, water
    weights = np.zeros(grid.shape, np.float32)
    for number, (top, bottom) in _valid_ranges(stations, grid.spacing[0]).items():
        inside = np.flatnonzero((grid.z <= top + 1e-6) & (grid.z >= bottom - 1e-6))
        if inside.size == 0:
            continue
        rows = slice(int(inside[0]), int(inside[-1]) + 1)  # slices are evenly spaced: a contiguous run
        z_weight = np.minimum(grid.z[rows] - bottom, top - grid.z[rows]) + 1e-3
        sampled, in_plane = resample_station(stations[number], grid, grid.z[rows])
        weight = z_weight[:, None, None] * in_plane[None]
        fused[:, rows] += weight[None] * sampled
        weights[rows] += weight
    np.divide(fused, weights[None], out=fused, where=weights[None] > 0)
    return fused[0], fused[1]


def _valid_ranges(stations: dict[int, StationVolume], grid_step: float) -> dict[int, tuple[float, float]]:
    """(top, bottom) of the slice centres each station contributes. Where a neighbour overlaps, up to
    FOLD_OVER_MM is dropped at the station's end, never so much that a gap of a grid slice opens."""
    ordered = sorted(stations.values(), key=lambda s: -s.z[0])
    ranges = {s.number: [float(s.z[0]), float(s.z[-1])] for s in ordered}
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        overlap = lower.z[0] - upper.z[-1]  # between the slice centres; negative when they do not meet
        if overlap <= 0:
            continue
        room = max(0.0, (overlap - grid_step) / 2)
        ranges[upper.number][1] += min(FOLD_OVER_MM, room)
        ranges[lower.number][0] -= min(FOLD_OVER_MM, room)
    return {number: (top, bottom) for number, (top, bottom) in ranges.items()}


def resample_station(station: StationVolume, grid: FusedGrid, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fat and water of the station at the grid's in-plane voxels and slice centres ``z`` as (2, z, y, x),
    with the in-plane mask of voxels the station covers. In-plane first: a station has fewer slices than
    the grid over the same length."""
    y_index = (grid.y - station.y0) / station.dy
    x_index = (grid.x - station.x0) / station.dx
    _, _, rows, columns = (2, *station.fat.shape)
    in_plane = ((y_index >= -0.5) & (y_index <= rows - 0.5))[:, None] & \
        ((x_index >= -0.5) & (x_index <= columns - 0.5))[None, :]
    both = np.stack([station.fat, station.water])
    both = _interpolate(both, 2, y_index)
    both = _interpolate(both, 3, x_index)
    # Fractional slice index from the real slice positions, so a missing slice shifts nothing.
    both = _interpolate(both, 1, np.interp(z, station.z[::-1], np.arange(len(station.z))[::-1]))
    return both, in_plane.astype(np.float32)


def _interpolate(volume: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    """Linear interpolation along ``axis`` at fractional ``index`` (clamped at the ends). Whole-voxel
    indices, the usual case in-plane, are a plain gather; the identity returns the input."""
    size = volume.shape[axis]
    index = np.clip(index, 0, size - 1)
    low = np.floor(index + 1e-6).astype(np.intp)
    fraction = index - low
    if np.all(np.abs(fraction) < 1e-4):
        if len(low) == size and np.array_equal(low, np.arange(size)):
            return volume
        return np.take(volume, low, axis=axis)
    high = np.minimum(low + 1, size - 1)
    shape = [1] * volume.ndim
    shape[axis] = -1
    t = fraction.astype(np.float32).reshape(shape)
    a = np.take(volume, low, axis=axis)
    return a + (np.take(volume, high, axis=axis) - a) * t
