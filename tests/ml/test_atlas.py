"""ml.atlas without Django: the kernel, the readout, the checks and registration of small phantoms."""

from __future__ import annotations

import numpy as np
import pytest

from ml.atlas import AtlasError, AtlasImage, Template, atlas_measure, erosion_kernel, liver_readout
from ml.atlas.images import check_warped
from ml.atlas.registration import register, warp_mask

SPACING = (6.0, 4.5, 4.5)  # (dz, dy, dx) mm: about the demo's half-scale grid
SHAPE = (44, 32, 40)


def _ellipsoid(shape, centre, radii) -> np.ndarray:
    z, y, x = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    return sum(((axis - c) / r) ** 2 for axis, c, r in zip((z, y, x), centre, radii, strict=True)) <= 1


def phantom(name: str, liver_ff: float, shift=(0.0, 0.0, 0.0), stretch: float = 1.0, seed: int = 0):
    """A torso (fat shell, muscle, a dark spine, a bright kidney) with a liver of fat fraction ``liver_ff``."""
    s = np.array(shift)
    body = _ellipsoid(SHAPE, (22 + s[0], 16 + s[1], 20 + s[2]), (19 * stretch, 12, 16 * stretch))
    muscle = _ellipsoid(SHAPE, (22 + s[0], 16 + s[1], 20 + s[2]), (17 * stretch, 10, 14 * stretch))
    liver = _ellipsoid(SHAPE, (13 + s[0], 14 + s[1], 13 + s[2]), (5 * stretch, 5, 6 * stretch))
    spine = _ellipsoid(SHAPE, (22 + s[0], 24 + s[1], 20 + s[2]), (18, 2.5, 2.5))
    kidney = _ellipsoid(SHAPE, (24 + s[0], 20 + s[1], 28 + s[2]), (4, 3, 3))
    water, fat = np.zeros(SHAPE, np.float32), np.zeros(SHAPE, np.float32)
    for region, pd, ff in ((body, 900, 0.92), (muscle, 650, 0.04), (spine, 780, 0.5), (kidney, 900, 0.02),
                           (liver, 720, liver_ff)):
        water[region], fat[region] = pd * (1 - ff), pd * ff
    rng = np.random.default_rng(seed)
    water += rng.normal(0, 5, SHAPE).astype(np.float32).clip(0)
    ff = np.where(body, fat / np.maximum(fat + water, 1e-3), 0).astype(np.float32)
    return AtlasImage(water=water, ff=ff, body=body, spacing=SPACING, name=name), liver


def test_the_kernel_is_the_papers_seven_voxel_sphere_on_its_grid_and_spans_the_same_mm_when_coarser():
    full = erosion_kernel((3.0, 2.232, 2.232))
    assert full.shape == (7, 7, 7) and full[3, 3].all() and full[:, 3, 3].all() and not full[0, 0, 0]
    half = erosion_kernel((6.0, 4.464, 4.464))
    assert half.shape == (3, 3, 3) and half[1, 1].all() and not half[0, 0, 0]


def test_the_readout_is_the_median_ff_of_the_eroded_intersection_in_percent():
    ff = np.full((20, 20, 20), 0.05, np.float32)
    ff[:, :, 10:] = 0.30  # the half only one mask covers must not count
    a = _ellipsoid(ff.shape, (10, 10, 6), (6, 6, 6))
    b = _ellipsoid(ff.shape, (10, 10, 5), (6, 6, 4.5))
    readout = liver_readout(ff, [a, b], (1.0, 1.0, 1.0), diameter_voxels=3)
    assert readout.value == pytest.approx(5.0, abs=1e-4)
    assert readout.intersection_voxels == int((a & b).sum()) > readout.voxels > 0


def test_masks_that_do_not_overlap_or_vanish_by_erosion_fail_with_a_reason():
    ff = np.zeros((10, 10, 10), np.float32)
    a, b = np.zeros(ff.shape, bool), np.zeros(ff.shape, bool)
    a[1:3, 1:3, 1:3], b[6:9, 6:9, 6:9] = True, True
    with pytest.raises(AtlasError, match="do not overlap"):
        liver_readout(ff, [a, b], (1.0, 1.0, 1.0))
    with pytest.raises(AtlasError, match="after erosion"):
        liver_readout(ff, [a], (3.0, 2.232, 2.232))


def test_a_warped_liver_outside_the_body_is_refused():
    target, _ = phantom("target", 0.1)
    outside = np.zeros(SHAPE, bool)
    outside[0:2, 0:2, 0:2] = True
    with pytest.raises(AtlasError, match="template T: only 0% of the warped liver lies inside the body"):
        check_warped(outside, target, "T")


def test_registration_maps_a_template_liver_onto_a_shifted_stretched_target():
    template_image, template_liver = phantom("t1", 0.05)
    target, target_liver = phantom("target", 0.15, shift=(2.0, 1.0, -2.0), stretch=1.1, seed=1)
    template = Template(template_image, template_liver)
    warped = warp_mask(template, register(target, template), target)
    dice = 2 * (warped & target_liver).sum() / (warped.sum() + target_liver.sum())
    unregistered = 2 * (template_liver & target_liver).sum() / (template_liver.sum() + target_liver.sum())
    assert dice > 0.8 and dice > unregistered + 0.1


def test_atlas_measure_recovers_the_target_liver_ff_and_leaves_the_target_out_as_its_own_template():
    templates = [Template(*phantom(f"t{i}", 0.03 + 0.02 * i, shift=(i - 1.0, 0.0, 1.0 - i), seed=10 + i))
                 for i in range(3)]
    target, _ = phantom("t1", 0.12, shift=(1.0, -1.0, 1.0), seed=5)  # named like template t1
    result = atlas_measure(target, templates)
    assert result.templates == ("t0", "t2")
    assert result.readout.value == pytest.approx(12.0, abs=0.5)
    with pytest.raises(AtlasError, match="no template other than the target itself"):
        atlas_measure(target, templates[1:2])


def test_a_target_missing_the_liver_station_fails_with_the_template_named():
    template = Template(*phantom("t0", 0.05))
    target, _ = phantom("target", 0.1)
    cut = AtlasImage(water=np.where(np.arange(SHAPE[0])[:, None, None] < 20, 0, target.water).astype(np.float32),
                     ff=target.ff, body=target.body & (np.arange(SHAPE[0])[:, None, None] >= 20),
                     spacing=SPACING, name="target")
    with pytest.raises(AtlasError, match="template t0"):
        atlas_measure(cut, [template])
