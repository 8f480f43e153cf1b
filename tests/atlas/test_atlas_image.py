"""The atlas reads a run's fused volumes: its stored fat fraction where an older run has one, else the fraction
computed from fat and water as the image pipeline computes it."""

from __future__ import annotations

import numpy as np
import pytest

from ml.atlas import AtlasError, load_atlas_image
from ml.imaging.maps import fractions
from ml.imaging.nifti import load_volume, save_volume


@pytest.fixture
def run(tmp_path):
    rng = np.random.default_rng(3)
    fat = rng.uniform(0, 400, (6, 5, 4)).astype(np.float32)
    water = rng.uniform(0, 400, (6, 5, 4)).astype(np.float32)
    affine = np.diag([2.0, 2.0, 3.0, 1.0])
    save_volume(tmp_path / "fat.nii.gz", fat, affine, "signal")
    save_volume(tmp_path / "water.nii.gz", water, affine, "signal")
    save_volume(tmp_path / "body_mask.nii.gz", fat + water > 200, affine, "mask")
    return tmp_path


def test_without_a_stored_fraction_it_is_computed_from_fat_and_water(run):
    image = load_atlas_image(water=run / "water.nii.gz", body=run / "body_mask.nii.gz", fat=run / "fat.nii.gz")
    expected, _ = fractions(load_volume(run / "fat.nii.gz"), load_volume(run / "water.nii.gz"))
    np.testing.assert_array_equal(image.ff, expected)
    assert image.spacing == (3.0, 2.0, 2.0)


def test_a_stored_fraction_is_read_as_stored(run):
    save_volume(run / "ff.nii.gz", np.full((6, 5, 4), 0.25, np.float32), np.diag([2.0, 2.0, 3.0, 1.0]), "fraction")
    image = load_atlas_image(water=run / "water.nii.gz", body=run / "body_mask.nii.gz", ff=run / "ff.nii.gz",
                             fat=run / "fat.nii.gz")
    np.testing.assert_allclose(image.ff, 0.25)


def test_neither_is_an_atlas_error(run):
    with pytest.raises(AtlasError, match="neither a fat fraction nor a fat volume"):
        load_atlas_image(water=run / "water.nii.gz", body=run / "body_mask.nii.gz", name="scan-1")
