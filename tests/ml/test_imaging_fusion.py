"""Fusion and the maps, computed slice by slice, against the whole-volume arithmetic they replace.

``fuse`` used to accumulate weight x sample over the whole grid and divide by the summed weights; it now
writes a slice that one station covers as that station's sample and blends only the overlaps. The
overlaps must be bit for bit what the old arithmetic gave, the rest the same to float32 rounding (a sample
where w * s / w was), and the samples themselves trilinear interpolation (scipy's, in double precision).
The maps must be exactly what the one-pass formulas and skimage's per-slice Otsu give.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.filters import threshold_otsu

from ml.imaging.fusion import FusedGrid, _valid_ranges, fuse, resample_station
from ml.imaging.maps import MAX_WHOLE_RANGE, MIN_SIGNAL, _coronal_thresholds, body_mask, fractions
from ml.imaging.volumes import StationVolume


def station(number: int, top: float, slices: int, step: float, shape: tuple[int, int], x0: float, y0: float,
            seed: int, spacing: float = 2.0) -> StationVolume:
    rng = np.random.default_rng(seed)
    fat = np.floor(rng.gamma(2.0, 150.0, (slices, *shape))).astype(np.float32)
    water = np.floor(rng.gamma(2.0, 250.0, (slices, *shape))).astype(np.float32)
    return StationVolume(number, fat, water, top - step * np.arange(slices), x0, y0, spacing, spacing)


def grid(slices: int = 60, rows: int = 30, columns: int = 36, spacing: float = 2.0) -> FusedGrid:
    return FusedGrid(z=-1.5 - 3.0 * np.arange(slices), y=spacing * np.arange(rows), x=spacing * np.arange(columns),
                     spacing=(3.0, spacing, spacing))


LAYOUTS = {
    # whole-voxel in-plane, slices between grid slices (the UK Biobank case)
    "aligned": [station(1, 0.0, 20, 4.5, (30, 36), 0.0, 0.0, 1), station(2, -70.0, 20, 4.5, (30, 36), 0.0, 0.0, 2),
                station(3, -140.0, 16, 3.5, (28, 36), 0.0, 4.0, 3)],
    # sub-voxel offsets in-plane, and a station narrower than the grid
    "shifted": [station(1, 0.3, 20, 4.5, (30, 36), 0.7, -0.4, 4), station(2, -69.1, 20, 4.5, (24, 30), 5.3, 3.1, 5),
                station(3, -139.6, 16, 3.5, (30, 36), -1.2, 0.9, 6)],
    # a station missing: a gap of grid slices no station covers
    "gap": [station(1, 0.0, 12, 4.5, (30, 36), 0.0, 0.0, 7), station(3, -110.0, 20, 4.5, (30, 36), 0.0, 0.0, 8)],
}


def reference_fuse(stations: dict[int, StationVolume], fused: FusedGrid) -> tuple[np.ndarray, np.ndarray]:
    """The whole-grid accumulation that ``fuse`` replaced."""
    total = np.zeros((2, *fused.shape), np.float32)
    weights = np.zeros(fused.shape, np.float32)
    for number, (top, bottom) in _valid_ranges(stations, fused.spacing[0]).items():
        inside = np.flatnonzero((fused.z <= top + 1e-6) & (fused.z >= bottom - 1e-6))
        if inside.size == 0:
            continue
        rows = slice(int(inside[0]), int(inside[-1]) + 1)
        z_weight = np.minimum(fused.z[rows] - bottom, top - fused.z[rows]) + 1e-3
        sampled, in_plane = resample_station(stations[number], fused, fused.z[rows])
        weight = z_weight[:, None, None] * in_plane[None]
        total[:, rows] += weight[None] * sampled
        weights[rows] += weight
    np.divide(total, weights[None], out=total, where=weights[None] > 0)
    return total[0], total[1]


def covering(stations: dict[int, StationVolume], fused: FusedGrid) -> np.ndarray:
    counts = np.zeros(len(fused.z), int)
    for top, bottom in _valid_ranges(stations, fused.spacing[0]).values():
        counts += (fused.z <= top + 1e-6) & (fused.z >= bottom - 1e-6)
    return counts


@pytest.mark.parametrize("layout", LAYOUTS)
def test_resampling_is_trilinear_interpolation_clamped_at_the_station_edges(layout):
    fused = grid()
    for one in LAYOUTS[layout]:
        z = fused.z[5:9]
        (fat, water), in_plane = resample_station(one, fused, z)
        k = np.interp(z, one.z[::-1], np.arange(len(one.z))[::-1])
        j = (fused.y - one.y0) / one.dy
        i = (fused.x - one.x0) / one.dx
        coordinates = np.meshgrid(k, j, i, indexing="ij")
        for sampled, volume in ((fat, one.fat), (water, one.water)):
            expected = ndimage.map_coordinates(volume.astype(np.float64), coordinates, order=1, mode="nearest")
            assert np.allclose(sampled, expected, rtol=1e-5, atol=1e-3)
        assert in_plane.sum() > 0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_overlaps_are_blended_bit_for_bit_as_before_and_the_rest_to_float_rounding(layout):
    stations = {s.number: s for s in LAYOUTS[layout]}
    fused = grid()
    counts = covering(stations, fused)
    assert (counts == 1).any() and ((counts == 0).any() if layout == "gap" else (counts > 1).any())
    for new, old in zip(fuse(stations, fused), reference_fuse(stations, fused), strict=True):
        assert new.dtype == np.float32 and new.shape == fused.shape
        assert np.array_equal(new[counts > 1], old[counts > 1])
        assert np.array_equal(new[counts == 0], old[counts == 0])
        assert np.allclose(new, old, rtol=2e-7, atol=0)
        assert np.array_equal(new == 0, old == 0)


def test_a_slice_one_station_covers_is_that_stations_sample():
    stations = {s.number: s for s in LAYOUTS["shifted"]}
    fused = grid()
    fat, water = fuse(stations, fused)
    counts = covering(stations, fused)
    for number, (top, bottom) in _valid_ranges(stations, fused.spacing[0]).items():
        rows = np.flatnonzero((fused.z <= top + 1e-6) & (fused.z >= bottom - 1e-6) & (counts == 1))
        (sampled_fat, sampled_water), in_plane = resample_station(stations[number], fused, fused.z[rows])
        inside = np.broadcast_to(in_plane[None] > 0, sampled_fat.shape)
        assert np.array_equal(fat[rows][inside], sampled_fat[inside])
        assert np.array_equal(water[rows][inside], sampled_water[inside])
        assert not fat[rows][~inside].any()  # outside the station's field of view: nothing


def reference_fractions(fat, water):
    total = fat + water
    signal = total > MIN_SIGNAL
    ff, wf = np.zeros_like(total), np.zeros_like(total)
    np.divide(fat, total, out=ff, where=signal)
    np.divide(water, total, out=wf, where=signal)
    return ff, wf


def reference_body_mask(fat, water):
    total = fat + water
    thresholds = [threshold_otsu(total[:, y, :]) for y in range(total.shape[1]) if np.ptp(total[:, y, :]) > 0]
    if not thresholds:
        return np.zeros(total.shape, bool), 0.0, thresholds
    threshold = float(np.mean(thresholds))
    return total > threshold, threshold, thresholds


def volumes(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    fat = rng.gamma(2.0, 120.0, (37, 21, 26)).astype(np.float32)
    water = rng.gamma(2.0, 300.0, (37, 21, 26)).astype(np.float32)
    if kind == "float":
        return fat, water
    fat, water = np.floor(fat), np.floor(water)
    fat[:, :2] = water[:, :2] = 0  # empty coronal slices: no threshold
    fat[:, 3], water[:, 3] = 17.0, 0.0  # a constant one
    fat[4, 5, 6] = 1.0  # a slice nearly empty
    if kind == "negative":
        water -= 400.0
    if kind == "wide":
        water[10, 10, 10] = 2.0 * MAX_WHOLE_RANGE  # too wide a range for value counts: skimage's own histogram
    if kind == "half":
        water[::2] += 0.5  # not whole numbers everywhere
    return fat, water


@pytest.mark.parametrize("kind", ["whole", "float", "negative", "wide", "half"])
def test_body_mask_and_thresholds_are_skimages_per_slice_otsu_exactly(kind):
    fat, water = volumes(kind)
    mask, threshold, thresholds = reference_body_mask(fat, water)
    assert [float(t) for t in _coronal_thresholds(fat, water)] == [float(t) for t in thresholds]
    new_mask, new_threshold = body_mask(fat, water)
    assert new_threshold == threshold and np.array_equal(new_mask, mask)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fractions_are_the_one_pass_formula_exactly(dtype):
    fat, water = (v.astype(dtype) for v in volumes("whole"))
    for new, old in zip(fractions(fat, water), reference_fractions(fat, water), strict=True):
        assert new.dtype == old.dtype and np.array_equal(new, old)


def test_a_volume_without_signal_has_an_empty_mask():
    empty = np.zeros((5, 4, 3), np.float32)
    mask, threshold = body_mask(empty, empty)
    assert not mask.any() and threshold == 0.0
