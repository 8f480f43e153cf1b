"""Method agreement, error correlation and linear recalibration against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import AnalysisError, agreement, error_correlation, linear_recalibration


def test_agreement_figures_match_hand_formulas_and_reference_libraries(liver: pd.DataFrame) -> None:
    ref, net = liver["reference"].to_numpy(), liver["network"].to_numpy()
    result = agreement(ref, net, threshold=5.5)
    d = ref - net
    sd = np.sqrt(((d - d.mean()) ** 2).sum() / (d.size - 1))
    r = np.corrcoef(ref, net)[0, 1]
    t = r * np.sqrt((d.size - 2) / (1 - r**2))
    truth, called = ref > 5.5, net > 5.5
    u = stats.mannwhitneyu(net[truth], net[~truth]).statistic  # AUC = U / (n_pos n_neg)
    assert result.n == ref.size and result.n_dropped == 0
    assert result.bias == pytest.approx(d.mean(), rel=1e-12)
    assert result.mae == pytest.approx(np.abs(d).mean(), rel=1e-12)
    assert result.sd_difference == pytest.approx(sd, rel=1e-12)
    assert (result.loa_lower, result.loa_upper) == pytest.approx((d.mean() - 1.96 * sd, d.mean() + 1.96 * sd))
    assert result.r2 == pytest.approx(1 - (d**2).sum() / ((ref - ref.mean()) ** 2).sum(), rel=1e-12)
    assert result.pearson_r == pytest.approx(r, rel=1e-12)
    assert result.pearson_p == pytest.approx(2 * stats.t.sf(abs(t), d.size - 2), rel=1e-6)
    assert result.roc_auc == pytest.approx(u / (truth.sum() * (~truth).sum()), rel=1e-12)
    assert result.sensitivity == pytest.approx((called & truth).sum() / truth.sum())
    assert result.specificity == pytest.approx((~called & ~truth).sum() / (~truth).sum())
    assert (result.n_positive, result.n_negative) == (truth.sum(), (~truth).sum())
    assert result.notes == ()


def test_bias_is_first_minus_second_method() -> None:
    test = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    assert agreement(test + 1.5, test).bias == pytest.approx(1.5)
    assert agreement(test, test + 1.5).bias == pytest.approx(-1.5)


def test_r2_is_the_coefficient_of_determination_not_the_squared_correlation() -> None:
    ref = np.array([1.0, 3.0, 4.0, 7.0, 9.0, 12.0])
    result = agreement(ref, ref + 2.0)  # perfectly correlated, but biased
    assert result.pearson_r == pytest.approx(1.0)
    assert result.r2 == pytest.approx(1 - 4.0 * ref.size / ((ref - ref.mean()) ** 2).sum())


def test_a_value_equal_to_the_threshold_is_negative() -> None:
    ref = np.array([5.5, 5.5, 8.0, 2.0])
    test = np.array([5.5, 6.0, 7.0, 1.0])
    result = agreement(ref, test, threshold=5.5)
    assert (result.n_positive, result.n_negative) == (1, 3)
    assert result.specificity == pytest.approx(2 / 3)  # the test's 6.0 is called positive, its 5.5 is not


def test_incomplete_pairs_are_dropped_and_counted() -> None:
    ref = pd.Series([1.0, None, 3.0, 4.0, 7.0, 2.0])
    test = [1.5, 2.0, np.nan, 4.5, 6.0, 2.5]
    result = agreement(ref, test)
    expected = agreement([1.0, 4.0, 7.0, 2.0], [1.5, 4.5, 6.0, 2.5])
    assert (result.n, result.n_dropped) == (4, 2)
    assert result.mae == expected.mae and result.bias == expected.bias


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(AnalysisError, match="mismatched lengths: reference has 4, test has 3"):
        agreement([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0])


def test_series_with_different_indexes_are_refused_not_paired_by_position() -> None:
    reference = pd.Series([1.0, 2.0, 3.0], index=[101, 102, 103])
    network = pd.Series([3.1, 2.1, 1.1], index=[103, 102, 101])
    with pytest.raises(AnalysisError, match="different indexes"):
        agreement(reference, network)
    assert agreement(reference, network.sort_index()).mae == pytest.approx(0.1)


def test_fewer_than_three_complete_pairs_are_refused() -> None:
    with pytest.raises(AnalysisError, match="at least 3 complete rows, got 2"):
        agreement([1.0, 2.0, np.nan], [1.0, 2.0, 3.0])


def test_infinite_and_text_values_are_refused_not_dropped() -> None:
    with pytest.raises(AnalysisError, match="network has 1 infinite"):
        agreement([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], test_name="network")
    with pytest.raises(AnalysisError, match="must be numeric"):
        agreement(["1", "a", "3"], [1.0, 2.0, 3.0])
    with pytest.raises(AnalysisError, match="one-dimensional"):
        agreement(np.ones((3, 2)), np.ones((3, 2)))


def test_one_class_at_the_threshold_gives_nan_auc_with_the_reason() -> None:
    result = agreement([1.0, 2.0, 3.0, 4.0], [1.2, 2.5, 2.8, 6.0], threshold=5.5)
    assert math.isnan(result.roc_auc) and math.isnan(result.sensitivity)
    assert result.specificity == pytest.approx(0.75)
    assert any("all 4 subjects are negative" in note for note in result.notes)
    assert result.mae == pytest.approx(np.mean([0.2, 0.5, 0.2, 2.0]))


def test_constant_reference_gives_nan_r2_and_correlation_but_keeps_the_differences() -> None:
    result = agreement([3.0, 3.0, 3.0, 3.0], [2.0, 3.0, 4.0, 5.0])
    assert math.isnan(result.r2) and math.isnan(result.pearson_r) and math.isnan(result.pearson_p)
    assert result.bias == pytest.approx(-0.5) and result.mae == pytest.approx(1.0)
    assert "reference is constant: R2 undefined" in result.notes


def test_error_correlation_matches_pearson_of_the_two_error_series(liver: pd.DataFrame) -> None:
    ref, net, atlas = (liver[c].to_numpy() for c in ("reference", "network", "atlas_raw"))
    atlas = 0.9 * atlas - 0.8
    result = error_correlation(ref, atlas, net)
    expected = stats.pearsonr(atlas - ref, net - ref)
    assert result.r == pytest.approx(np.corrcoef(atlas - ref, net - ref)[0, 1], rel=1e-12)
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.r > 0.3  # the fixture's shared error
    direct = agreement(atlas, net)  # the errors' differences are atlas - network
    assert (result.loa_lower, result.loa_upper) == pytest.approx((direct.loa_lower, direct.loa_upper))


def test_error_correlation_drops_rows_missing_any_of_the_three_values() -> None:
    result = error_correlation([1.0, 2.0, 3.0, 4.0, np.nan], [1.5, 2.0, np.nan, 4.5, 5.0],
                               [0.5, 2.5, 3.0, 3.0, 4.0])
    assert (result.n, result.n_dropped) == (3, 2)


def test_linear_recalibration_recovers_the_atlas_correction_and_applies_it() -> None:
    raw = np.array([1.0, 2.5, 4.0, 8.0, 12.0, 20.0])
    calibration = linear_recalibration(0.9 * raw - 0.8, raw)
    assert (calibration.slope, calibration.intercept) == pytest.approx((0.9, -0.8))
    assert calibration.apply([10.0, np.nan]) == pytest.approx([8.2, np.nan], nan_ok=True)


def test_linear_recalibration_equals_a_least_squares_line(liver: pd.DataFrame) -> None:
    calibration = linear_recalibration(liver["reference"], liver["atlas_raw"])
    slope, intercept = np.polyfit(liver["atlas_raw"], liver["reference"], 1)
    assert (calibration.slope, calibration.intercept) == pytest.approx((slope, intercept), rel=1e-9)
    fitted = calibration.apply(liver["atlas_raw"])
    assert calibration.r2 == pytest.approx(np.corrcoef(fitted, liver["reference"])[0, 1] ** 2, rel=1e-9)


def test_linear_recalibration_refuses_a_constant_raw_method() -> None:
    with pytest.raises(AnalysisError, match="raw is constant"):
        linear_recalibration([1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0])
