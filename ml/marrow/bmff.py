"""Bone marrow fat fraction inside a region mask, as in the BMFF paper.

Fat and water are lightly smoothed first (a nearest-neighbour median against noise spikes: 3x3 in-plane,
or over the slice and its two neighbours for the diaphysis, see ``Region.smoothing``), then
FF = F / (F + W) is summarised over the mask; spine, femoral head and total hip are eroded by one voxel
in-plane first so that only marrow (not the cortical bone around it) is measured; the thin diaphysis is
not eroded. On the synthetic cohort an in-plane median on the diaphysis pulls its value 16 points low.

The summary is the median. The paper does not say which statistic it took; the median is the one that
survives a network's boundary errors. On the synthetic cohort's manual masks median and mean agree within
0.3 pp. Adding a random 30 % of the ring of voxels just outside each mask (cortex and muscle) and removing
30 % of its boundary moves the mean by -0.5 pp (spine) to -16 pp (diaphysis: its cross-section is a few
voxels, so the boundary is much of it), and the median by at most 0.5 pp. The mean stays in ``BMFF.mean``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .regions import Region

IN_PLANE = np.zeros((3, 3, 3), bool)
IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)  # 4-neighbourhood within the slice


@dataclass(frozen=True)
class BMFF:
    value: float | None  # median FF, percent; None when no voxel is left to measure
    voxels: int  # voxels measured (after erosion)
    mean: float | None = None  # mean FF, percent
    spread: float | None = None  # interquartile range of FF, percentage points (see checks.spread_flags)


def measurement_mask(mask: np.ndarray, erode: bool) -> np.ndarray:
    mask = mask.astype(bool)
    return ndimage.binary_erosion(mask, structure=IN_PLANE) if erode else mask


def smoothed(volume: np.ndarray, size: tuple[int, int, int]) -> np.ndarray:
    return ndimage.median_filter(volume.astype(np.float32), size=size, mode="nearest")


def bmff(fat: np.ndarray, water: np.ndarray, mask: np.ndarray, region: Region) -> BMFF:
    """Median FF (%) of the smoothed fat and water inside the region's (eroded) mask."""
    inside = measurement_mask(mask, region.erode)
    if not inside.any():
        return BMFF(None, 0)
    box = ndimage.find_objects(inside.astype(np.uint8))[0]
    grown = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in box)  # smooth only around the region
    f = smoothed(fat[grown], region.smoothing)
    w = smoothed(water[grown], region.smoothing)
    total = f + w
    ff = np.divide(f, total, out=np.zeros_like(total), where=total > 0)
    values = 100 * ff[inside[grown]]
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return BMFF(round(float(median), 3), int(inside.sum()), round(float(values.mean()), 3), round(float(q3 - q1), 3))
