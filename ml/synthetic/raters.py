"""Manual labels as a rater draws them: a little inside the true boundary, and not exactly on it.

A rater outlines a region slice by slice on the fat fraction image. Where the region is bright marrow
inside dark cortex, the edge voxels are partial volume and a careful rater leaves them out (``margin``, in
voxels inside the true boundary); the outline also wanders (``jitter``: a smooth random offset of the
boundary, SD in voxels, correlated over ``JITTER_CORRELATION_VOXELS``). Every slice the truth has keeps at
least its deepest voxel, as a rater never skips a slice of the region. Labels are drawn from
``stream(seed, "rater", eid, instance, region)``.

The bone marrow paper's masks were drawn by one observer (Methods 2.3), so no inter-observer Dice is
published; its diaphysis labels hold "< 5-10 pixels" per slice and about 100 voxels (Fig. 4A), which the
generator's diaphysis reaches only with the rater's margin on a cavity of ~15 voxels per slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class RaterStyle:
    margin: float  # voxels inside the true boundary (0: on it)
    jitter: float  # SD of the boundary's random offset, voxels


JITTER_CORRELATION_VOXELS = (1.0, 2.0, 2.0)  # (slice, row, column) Gaussian correlation of the wander
STYLES = {
    "liver": RaterStyle(margin=0.0, jitter=0.0),  # the liver label is the organ (the atlas' truth)
    "spine": RaterStyle(margin=0.2, jitter=0.45),
    "femoral_head": RaterStyle(margin=0.2, jitter=0.45),
    "total_hip": RaterStyle(margin=0.2, jitter=0.45),
    "diaphysis": RaterStyle(margin=0.7, jitter=0.3),
}
_PAD = 3


def signed_distance(mask: np.ndarray) -> np.ndarray:
    """In-plane signed distance of voxel centres to the region's boundary, per slice (voxels; > 0 inside):
    +0.5 on the inner edge voxels, -0.5 on the outer ones."""
    inside = np.stack([ndimage.distance_transform_edt(s) for s in mask]) - 0.5
    outside = np.stack([ndimage.distance_transform_edt(~s) for s in mask]) - 0.5
    return np.where(mask, inside, -outside).astype(np.float32)


def rater_label(mask: np.ndarray, style: RaterStyle, rng: np.random.Generator) -> np.ndarray:
    """The label a rater draws of the true ``mask`` (z, y, x), as uint8."""
    truth = np.asarray(mask) > 0
    if not truth.any() or (style.margin == 0 and style.jitter == 0):
        return truth.astype(np.uint8)
    (zs, ys, xs), = ndimage.find_objects(truth.astype(np.uint8))
    box = (zs, slice(max(ys.start - _PAD, 0), ys.stop + _PAD), slice(max(xs.start - _PAD, 0), xs.stop + _PAD))
    region = truth[box]
    field = ndimage.gaussian_filter(rng.standard_normal(region.shape).astype(np.float32),
                                    JITTER_CORRELATION_VOXELS, mode="reflect")
    field *= style.jitter / max(float(field.std()), 1e-6)
    score = signed_distance(region) + field - style.margin
    drawn = score > 0
    for k in np.flatnonzero(region.any(axis=(1, 2)) & ~drawn.any(axis=(1, 2))):
        drawn[k][np.unravel_index(np.argmax(np.where(region[k], score[k], -np.inf)), region[k].shape)] = True
    label = np.zeros(truth.shape, np.uint8)
    label[box] = drawn
    return label
