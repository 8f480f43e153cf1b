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
    """Fat and water on ``grid`` (float32, (z, y, x)); voxels no station covers are 0.

    Each grid slice is made from the station slices around it, one slice at a time, so every temporary is a
    slice in cache and the two output volumes are written once: a slice one station covers is its sample,
    a slice in an overlap the weighted mean of the stations' samples (weights fall linearly towards each
    station's end of contribution)."""
    if not stations:
        raise ImagingError("no station with both fat and water series to fuse")
    fat, water = np.zeros(grid.shape, np.float32), np.zeros(grid.shape, np.float32)
    contributions = [c for c in (_contribution(stations[number], grid, top, bottom)
                                 for number, (top, bottom) in _valid_ranges(stations, grid.spacing[0]).items())
                     if c is not None]
    covering = np.zeros(len(grid.z), np.intp)  # stations contributing to each grid slice
    for contribution in contributions:
        covering[contribution.rows] += 1
    shared = np.flatnonzero(covering > 1)
    weights = np.zeros((len(shared), *grid.shape[1:]), np.float32)  # only the overlaps need a weight sum
    slot = {int(row): k for k, row in enumerate(shared)}
    for contribution in contributions:
        _add_contribution(contribution, (fat, water), weights, slot, covering)
    for k, row in enumerate(shared):
        for volume in (fat, water):
            np.divide(volume[row], weights[k], out=volume[row], where=weights[k] > 0)
    return fat, water


@dataclass
class _Contribution:
    """What one station gives the fused grid: the grid slices ``rows`` with their blending weights, the
    in-plane rectangle of grid voxels it covers, and its fat and water sampled in-plane at that rectangle
    (only the station slices that the rows need: ``first`` is the station slice of ``planes[:, 0]``)."""

    rows: slice
    z_weight: np.ndarray
    in_plane: tuple[slice, slice]
    planes: tuple[np.ndarray, np.ndarray]
    first: int
    z: _AxisSteps


def _contribution(station: StationVolume, grid: FusedGrid, top: float, bottom: float) -> _Contribution | None:
    inside = np.flatnonzero((grid.z <= top + 1e-6) & (grid.z >= bottom - 1e-6))
    if inside.size == 0:
        return None
    rows = slice(int(inside[0]), int(inside[-1]) + 1)  # slices are evenly spaced: a contiguous run
    z_weight = np.minimum(grid.z[rows] - bottom, top - grid.z[rows]) + 1e-3
    steps = _z_steps(station, grid.z[rows])
    (ys, y_index), (xs, x_index) = _covered(grid.y, station.y0, station.dy, station.fat.shape[1]), \
        _covered(grid.x, station.x0, station.dx, station.fat.shape[2])
    first, last = int(steps.low.min()), int(steps.high.max()) + 1
    planes = tuple(_interpolate(_interpolate(volume[first:last], 1, y_index), 2, x_index)
                   for volume in (station.fat, station.water))
    return _Contribution(rows, z_weight, (ys, xs), planes, first, steps)


def _covered(grid_axis: np.ndarray, origin: float, step: float, size: int) -> tuple[slice, np.ndarray]:
    """The run of grid voxels along one in-plane axis that lie on a station's pixels (within half a pixel
    of its first and last), and their fractional pixel indices."""
    index = (grid_axis - origin) / step
    on = np.flatnonzero((index >= -0.5) & (index <= size - 0.5))
    run = slice(int(on[0]), int(on[-1]) + 1) if on.size else slice(0, 0)
    return run, index[run]


def _add_contribution(contribution: _Contribution, volumes: tuple[np.ndarray, np.ndarray], weights: np.ndarray,
                      slot: dict[int, int], covering: np.ndarray) -> None:
    ys, xs = contribution.in_plane
    if ys.stop <= ys.start or xs.stop <= xs.start:
        return
    scratch = np.empty((ys.stop - ys.start, xs.stop - xs.start), np.float32)
    for k, row in enumerate(range(contribution.rows.start, contribution.rows.stop)):
        for volume, planes in zip(volumes, contribution.planes, strict=True):
            target = volume[row, ys, xs]
            if covering[row] == 1:
                _z_step(planes, contribution.z, k, contribution.first, out=target)
                continue
            _z_step(planes, contribution.z, k, contribution.first, out=scratch)
            weight = contribution.z_weight[k]  # float64: the products are summed in double, as before
            np.add(target, weight * scratch, out=target)
        if covering[row] > 1:
            weights[slot[row], ys, xs] += contribution.z_weight[k]


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
    with the in-plane mask of voxels the station covers (outside it, the station's edge values). In-plane
    first, and only on the station slices that ``z`` falls between."""
    y_index = (grid.y - station.y0) / station.dy
    x_index = (grid.x - station.x0) / station.dx
    _, _, rows, columns = (2, *station.fat.shape)
    in_plane = ((y_index >= -0.5) & (y_index <= rows - 0.5))[:, None] & \
        ((x_index >= -0.5) & (x_index <= columns - 0.5))[None, :]
    both = np.empty((2, len(z), len(grid.y), len(grid.x)), np.float32)
    if not len(z):
        return both, in_plane.astype(np.float32)
    steps = _z_steps(station, z)
    first, last = int(steps.low.min()), int(steps.high.max()) + 1
    for out, volume in zip(both, (station.fat, station.water), strict=True):
        planes = _interpolate(_interpolate(volume[first:last], 1, y_index), 2, x_index)
        for k in range(len(z)):
            _z_step(planes, steps, k, first, out=out[k])
    return both, in_plane.astype(np.float32)


@dataclass(frozen=True)
class _AxisSteps:
    """Linear interpolation at fractional indices along one axis: the neighbours ``low`` and ``high``, the
    float32 fraction ``t`` between them, and whether every index is a whole voxel (a plain copy)."""

    low: np.ndarray
    high: np.ndarray
    t: np.ndarray
    whole: bool


def _axis_steps(index: np.ndarray, size: int) -> _AxisSteps:
    """Steps for ``index`` (clamped at the ends) along an axis of ``size`` voxels."""
    index = np.clip(index, 0, size - 1)
    low = np.floor(index + 1e-6).astype(np.intp)
    fraction = index - low
    return _AxisSteps(low, np.minimum(low + 1, size - 1), fraction.astype(np.float32),
                      bool(np.all(np.abs(fraction) < 1e-4)))


def _z_steps(station: StationVolume, z: np.ndarray) -> _AxisSteps:
    """Fractional slice index from the real slice positions, so a missing slice shifts nothing."""
    index = np.interp(z, station.z[::-1], np.arange(len(station.z))[::-1])
    return _axis_steps(index, len(station.z))


def _z_step(planes: np.ndarray, steps: _AxisSteps, k: int, first: int, out: np.ndarray) -> None:
    """Grid slice ``k`` from ``planes`` (station slices from ``first`` on, already sampled in-plane) into
    ``out``: a + (b - a) t in float32, or a copy of a when every index along z is whole."""
    a = planes[steps.low[k] - first]
    if steps.whole:
        out[...] = a
        return
    np.subtract(planes[steps.high[k] - first], a, out=out)
    out *= steps.t[k]
    out += a


def _interpolate(volume: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    """Linear interpolation along ``axis`` at fractional ``index`` (clamped at the ends). Whole-voxel
    indices, the usual case in-plane, are a plain gather (a view when they are a run); the identity returns
    the input."""
    size = volume.shape[axis]
    steps = _axis_steps(index, size)
    if steps.whole:
        low = steps.low
        if len(low) and np.array_equal(low, np.arange(low[0], low[0] + len(low))):
            where = [slice(None)] * volume.ndim
            where[axis] = slice(int(low[0]), int(low[0]) + len(low))
            return volume[tuple(where)]
        return np.take(volume, low, axis=axis)
    shape = [1] * volume.ndim
    shape[axis] = -1
    t = steps.t.reshape(shape)
    a = np.take(volume, steps.low, axis=axis)
    return a + (np.take(volume, steps.high, axis=axis) - a) * t
