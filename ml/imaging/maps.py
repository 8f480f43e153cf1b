"""Voxel-wise maps from fused fat and water signal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.filters import threshold_otsu

from .nifti import load_volume

MIN_SIGNAL = 1e-3  # F + W below this counts as no signal: both fractions are 0 there
FRACTION_KINDS = ("ff", "wf")


def fractions(fat: np.ndarray, water: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fat fraction F / (F + W) and water fraction W / (F + W) in [0, 1], 0 where there is no signal.
    Computed a few slices at a time: F + W and the signal mask never take a volume of memory."""
    dtype = np.result_type(fat, water)
    ff, wf = np.zeros(fat.shape, dtype), np.zeros(fat.shape, dtype)
    for part in _blocks(fat.shape):
        total = fat[part] + water[part]
        signal = total > MIN_SIGNAL
        np.divide(fat[part], total, out=ff[part], where=signal)
        np.divide(water[part], total, out=wf[part], where=signal)
    return ff, wf


def load_fraction(fat_path: Path, water_path: Path, kind: str) -> np.ndarray:
    """The fat (``kind`` "ff") or water ("wf") fraction, float32 (z, y, x), from a scan's stored fat and water.

    Runs no longer store the fractions: the pipeline computes them with ``fractions`` from the signal as
    stored (``nifti.stored_signal``), so this is the same arithmetic on the same numbers, without the
    1/10,000 rounding an ``ff.nii.gz`` had."""
    if kind not in FRACTION_KINDS:
        raise ValueError(f"unknown fraction {kind!r}; choose one of {', '.join(FRACTION_KINDS)}")
    ff, wf = fractions(load_volume(fat_path), load_volume(water_path))
    return ff if kind == "ff" else wf


def body_mask(fat: np.ndarray, water: np.ndarray) -> tuple[np.ndarray, float]:
    """Body mask: F + W above the mean of the Otsu thresholds of all coronal slices (as in the liver fat
    paper). Volumes are (z, y, x), so a coronal slice is ``total[:, y, :]``. Returns (mask, threshold)."""
    thresholds = _coronal_thresholds(fat, water)
    if not thresholds:
        return np.zeros(fat.shape, bool), 0.0
    threshold = float(np.mean(thresholds))
    mask = np.empty(fat.shape, bool)
    for part in _blocks(fat.shape):
        np.greater(fat[part] + water[part], threshold, out=mask[part])
    return mask, threshold


def _coronal_thresholds(fat: np.ndarray, water: np.ndarray, group: int = 4) -> list:
    """skimage's ``threshold_otsu`` of F + W in every coronal slice that is not constant, in order of y.
    F + W is formed a few coronal slices at a time; whole-number signal (the pipeline's, rounded as it is
    stored) is histogrammed through its value counts (``_whole_number_histogram``), the same histogram at a
    fraction of the cost."""
    thresholds = []
    for start in range(0, fat.shape[1], group):
        totals = fat[:, start:start + group, :] + water[:, start:start + group, :]
        for y in range(totals.shape[1]):
            total = totals[:, y, :]
            low, high = total.min(), total.max()
            if not high > low:  # np.ptp(total) > 0, as before: a constant slice has no threshold
                continue
            hist = _whole_number_histogram(total, low, high)
            thresholds.append(threshold_otsu(total) if hist is None else threshold_otsu(hist=hist))
    return thresholds


MAX_WHOLE_RANGE = 1 << 20  # value counts of whole-number signal up to this range (8 MB of counts)


def _whole_number_histogram(total: np.ndarray, low, high) -> tuple[np.ndarray, np.ndarray] | None:
    """The 256-bin histogram (counts, bin centres) that ``threshold_otsu(total)`` makes of a float image,
    for an image of whole numbers; None for any other image. numpy's histogram of the distinct values
    weighted by how often each occurs is the histogram of the image, to the last count: the bins are the
    same (same range and dtype) and a value's bin depends on nothing but the value."""
    if not (np.isfinite(low) and np.isfinite(high)) or high - low > MAX_WHOLE_RANGE or \
            max(abs(low), abs(high)) >= 2**31:
        return None
    whole = total.astype(np.int64)
    if not np.array_equal(whole, total):
        return None
    whole -= int(low)
    counts = np.bincount(whole.ravel())
    values = np.flatnonzero(counts)
    hist, edges = np.histogram((values + int(low)).astype(total.dtype), bins=256, range=(low, high),
                               weights=counts[values])
    return hist.astype(np.intp), (edges[:-1] + edges[1:]) / 2.0


def _blocks(shape: tuple[int, ...], block: int = 8):
    """Slices of ``block`` planes along the first axis: a volume in pieces that stay in cache."""
    return [slice(start, start + block) for start in range(0, shape[0], block)] if shape else [...]
