"""Participants of the synthetic cohort without images: distributions and correlations like the papers'."""

import numpy as np
import pytest

from ml.synthetic import make_population


def test_spine_bmd_falls_as_spine_marrow_fat_rises():
    subjects = make_population(300, seed=3).subjects
    pairs = np.array([(s.bmff["spine"], s.showcase["bmd_spine"]) for s in subjects
                      if s.showcase["bmd_spine"] is not None])
    assert np.corrcoef(pairs.T)[0, 1] < -0.2


def test_reference_fields_cover_about_15_and_25_percent():
    subjects = make_population(3000, seed=4).subjects
    share = {key: np.mean([s.showcase[key] is not None for s in subjects])
             for key in ("liver_pdff_22402", "liver_pdff_22436")}
    assert 0.12 < share["liver_pdff_22402"] < 0.18 and 0.21 < share["liver_pdff_22436"] < 0.29


def test_liver_pdff_is_right_skewed_like_uk_biobank():
    truth = np.array([s.liver_ff_true for s in make_population(3000, seed=5).subjects])
    assert 1.7 < np.median(truth) < 2.6 and 3.3 < truth.mean() < 4.5 and 0.14 < np.mean(truth > 5.5) < 0.26


def test_atlas_style_linear_fit_roughly_inverts_the_image_fat_fraction():
    visits = make_population(2000, seed=6).visits
    slope, intercept = np.polyfit([v.liver_ff_image for v in visits], [v.liver_ff_true for v in visits], 1)
    assert slope == pytest.approx(0.9, abs=0.05) and intercept == pytest.approx(-0.8, abs=0.5)


def test_default_rates_fault_about_seven_percent_of_archives():
    visits = make_population(4000, seed=7).visits
    assert 0.05 < np.mean([bool(v.faults.codes) for v in visits]) < 0.09


def test_cohorts_of_ten_get_a_repeat_visit():
    visits = make_population(10, seed=8).visits
    assert [v.instance for v in visits].count(3) == 1
    assert make_population(9, seed=8, repeat_fraction=0.05).visits[-1].instance == 2
