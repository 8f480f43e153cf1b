"""Voxel-wise maps from fused fat and water signal."""

from __future__ import annotations

import numpy as np
from skimage.filters import threshold_otsu

MIN_SIGNAL = 1e-3  # F + W below this counts as no signal: both fractions are 0 there


def fractions(fat: np.ndarray, water: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fat fraction F / (F + W) and water fraction W / (F + W) in [0, 1], 0 where there is no signal."""
    total = fat + water
    signal = total > MIN_SIGNAL
    ff, wf = np.zeros_like(total), np.zeros_like(total)
    np.divide(fat, total, out=ff, where=signal)
    np.divide(water, total, out=wf, where=signal)
    return ff, wf


def body_mask(fat: np.ndarray, water: np.ndarray) -> tuple[np.ndarray, float]:
    """Body mask: F + W above the mean of the Otsu thresholds of all coronal slices (as in the liver fat
    paper). Volumes are (z, y, x), so a coronal slice is ``total[:, y, :]``. Returns (mask, threshold)."""
    total = fat + water
    thresholds = [threshold_otsu(total[:, y, :]) for y in range(total.shape[1]) if np.ptp(total[:, y, :]) > 0]
    if not thresholds:
        return np.zeros(total.shape, bool), 0.0
    threshold = float(np.mean(thresholds))
    return total > threshold, threshold
