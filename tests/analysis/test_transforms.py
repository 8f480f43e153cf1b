"""Rank-based inverse normal transform (Blom / RNOmni convention)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis import AnalysisError, rank_inverse_normal


def test_blom_formula_on_distinct_values() -> None:
    values = np.array([3.2, -1.0, 8.5, 0.4, 2.2])
    ranks = np.array([4, 1, 5, 2, 3])
    expected = stats.norm.ppf((ranks - 3 / 8) / (5 + 1 / 4))
    assert rank_inverse_normal(values) == pytest.approx(expected, rel=1e-12)


def test_ties_share_their_average_rank() -> None:
    z = rank_inverse_normal([1.0, 2.0, 2.0, 5.0])
    assert z[1] == z[2] == pytest.approx(stats.norm.ppf((2.5 - 0.375) / 4.25))


def test_missing_values_stay_missing_and_do_not_count_in_n() -> None:
    z = rank_inverse_normal([np.nan, 10.0, 30.0, 20.0])
    assert np.isnan(z[0])
    assert z[1:] == pytest.approx(rank_inverse_normal([10.0, 30.0, 20.0]))


def test_offset_zero_gives_van_der_waerden_scores() -> None:
    z = rank_inverse_normal([5.0, 1.0, 3.0], k=0.0)
    assert z == pytest.approx(stats.norm.ppf(np.array([3, 1, 2]) / 4))


def test_output_is_symmetric_around_zero() -> None:
    z = rank_inverse_normal(np.random.default_rng(3).exponential(size=101))
    assert z.mean() == pytest.approx(0.0, abs=1e-12) and np.median(z) == pytest.approx(0.0, abs=1e-12)


def test_too_few_values_or_a_bad_offset_are_refused() -> None:
    with pytest.raises(AnalysisError, match="at least 2"):
        rank_inverse_normal([1.0, np.nan])
    with pytest.raises(AnalysisError, match="offset k"):
        rank_inverse_normal([1.0, 2.0], k=0.7)
