"""Change between two visits: paired tests, repeatability, ICC, change regression and implausible changes."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from analysis import AnalysisError
from analysis.longitudinal import (
    change_regression,
    implausible_changes,
    paired_change,
    repeatability,
    two_way_icc,
)

# Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
                         dtype=float)
FIRST = np.array([5.1, 7.4, 3.2, 9.8, 6.0, 4.4, 8.1, 2.9])
SECOND = np.array([5.9, 7.1, 4.1, 11.3, 6.2, 5.8, 8.0, 4.6])


def test_icc_matches_shrout_fleiss_published_values() -> None:
    icc = two_way_icc(SHROUT_FLEISS)
    # Table 2 mean squares; ICC(2,1) = .29, ICC(3,1) = .71; limits as R psych::ICC prints them.
    assert (icc.ms_subjects, icc.ms_occasions, icc.ms_error) == pytest.approx((11.24, 32.49, 1.02), abs=0.005)
    assert (icc.icc_a1, icc.icc_c1) == pytest.approx((0.29, 0.71), abs=0.005)
    assert (icc.icc_a1_ci_low, icc.icc_a1_ci_high) == pytest.approx((0.019, 0.76), abs=0.005)
    assert (icc.icc_c1_ci_low, icc.icc_c1_ci_high) == pytest.approx((0.342, 0.95), abs=0.005)


def test_repeatability_icc_matches_statsmodels_two_way_anova(rng: np.random.Generator) -> None:
    n = 40
    truth = rng.normal(10.0, 3.0, n)
    first, second = truth + rng.normal(0, 1, n), truth + 0.8 + rng.normal(0, 1, n)
    long = pd.DataFrame({"y": np.r_[first, second], "subject": np.tile(np.arange(n), 2),
                         "visit": np.repeat([2, 3], n)})
    table = sm.stats.anova_lm(smf.ols("y ~ C(subject) + C(visit)", long).fit())
    msr, msc, mse = (float(table.loc[term, "mean_sq"]) for term in ("C(subject)", "C(visit)", "Residual"))
    result = repeatability(first, second)
    assert result.icc_c1 == pytest.approx((msr - mse) / (msr + mse), rel=1e-10)
    assert result.icc_a1 == pytest.approx((msr - mse) / (msr + mse + 2 * (msc - mse) / n), rel=1e-10)
    f_obs, q = msr / mse, stats.f.ppf(0.975, n - 1, n - 1)
    assert result.icc_c1_ci_low == pytest.approx((f_obs / q - 1) / (f_obs / q + 1), rel=1e-10)
    assert result.icc_c1_ci_high == pytest.approx((f_obs * q - 1) / (f_obs * q + 1), rel=1e-10)
    assert result.icc_a1_ci_low < result.icc_a1 < result.icc_a1_ci_high
    assert result.icc_a1 < result.icc_c1  # the visit offset costs absolute agreement only


def test_repeatability_coefficient_recovers_known_noise(rng: np.random.Generator) -> None:
    s = 0.7
    x = rng.gamma(2.0, 4.0, 20000)
    result = repeatability(x, x + rng.normal(0.0, s, x.size))
    assert result.within_sd == pytest.approx(s / math.sqrt(2), rel=0.03)
    assert result.rc == pytest.approx(1.96 * s, rel=0.03)
    assert result.bias == pytest.approx(0.0, abs=0.03)
    assert (result.loa_lower, result.loa_upper) == pytest.approx((-1.96 * s, 1.96 * s), rel=0.05)


def test_repeatability_figures_against_hand_formulas() -> None:
    d = SECOND - FIRST
    result = repeatability(FIRST, SECOND)
    sw = math.sqrt(sum(v * v for v in d) / len(d) / 2)
    sd = math.sqrt(sum((v - d.mean()) ** 2 for v in d) / (len(d) - 1))
    assert (result.n, result.n_dropped) == (8, 0)
    assert result.within_sd == pytest.approx(sw, rel=1e-12)
    assert result.rc == pytest.approx(1.96 * math.sqrt(2) * sw, rel=1e-12)
    assert result.bias == pytest.approx(d.mean(), rel=1e-12)  # visit 3 minus visit 2
    assert result.sd_difference == pytest.approx(sd, rel=1e-12)
    assert (result.loa_lower, result.loa_upper) == pytest.approx((d.mean() - 1.96 * sd, d.mean() + 1.96 * sd))


def test_within_subject_cv_on_hand_example() -> None:
    # (10, 12): s = 2/sqrt2, m = 11; (20, 18): s = 2/sqrt2, m = 19; (-1, 0.5) has a negative mean: left out.
    result = repeatability([10.0, 20.0, -1.0], [12.0, 18.0, 0.5])
    ratios = [math.sqrt(2) / 11, math.sqrt(2) / 19]
    assert result.n_cv == 2
    assert result.wcv == pytest.approx(100 * math.sqrt((ratios[0] ** 2 + ratios[1] ** 2) / 2), rel=1e-12)
    assert math.isnan(repeatability([-3.0, -2.0], [-2.0, -4.0]).wcv)


def test_repeatability_edge_cases_and_missing_values() -> None:
    one = repeatability([1.0, np.nan], [2.0, 3.0])
    assert (one.n, one.n_dropped) == (1, 1)
    assert all(math.isnan(v) for v in (one.within_sd, one.rc, one.wcv, one.icc_a1, one.icc_c1, one.bias))
    two = repeatability([1.0, 2.0], [2.0, 2.5])
    assert two.rc == pytest.approx(1.96 * math.sqrt(2) * math.sqrt((1.0 + 0.25) / 4))
    assert math.isnan(two.bias) and math.isnan(two.loa_lower)  # Bland-Altman needs 3 pairs
    with_gaps = repeatability(np.r_[FIRST, np.nan, 1.0], np.r_[SECOND, 2.0, np.nan])
    assert with_gaps.n_dropped == 2
    assert with_gaps.as_dict() == {**repeatability(FIRST, SECOND).as_dict(), "n_dropped": 2}
    assert repeatability([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]).as_dict()["icc_a1"] is None
    with pytest.raises(AnalysisError, match="indexes"):
        repeatability(pd.Series(FIRST), pd.Series(SECOND, index=range(1, 9)))


def _exact_wilcoxon_p(d: np.ndarray) -> float:
    ranks = stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    sums = np.array([ranks[np.array(signs, dtype=bool)].sum() for signs in itertools.product([0, 1], repeat=d.size)])
    tail = min(observed, ranks.sum() - observed)
    return min(1.0, 2 * float((sums <= tail).mean()))


def test_paired_change_matches_hand_formulas() -> None:
    d = SECOND - FIRST
    n, mean = d.size, sum(d) / d.size
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (n - 1))
    t = mean / (sd / math.sqrt(n))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    result = paired_change(FIRST, SECOND)
    assert (result.n, result.n_dropped) == (8, 0)
    assert (result.mean_first, result.mean_second) == pytest.approx((FIRST.mean(), SECOND.mean()), rel=1e-12)
    assert result.mean_change == pytest.approx(mean, rel=1e-12)
    assert result.sd_change == pytest.approx(sd, rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((mean - half, mean + half), rel=1e-12)
    assert result.t == pytest.approx(t, rel=1e-12)
    assert result.p == pytest.approx(2 * stats.t.sf(abs(t), n - 1), rel=1e-10)
    assert result.wilcoxon_p == pytest.approx(_exact_wilcoxon_p(d), rel=1e-12)
    assert math.isnan(result.mean_days) and math.isnan(result.mean_change_per_year) and result.n_days == 0
    wide = paired_change(FIRST, SECOND, confidence=0.99)
    assert wide.ci_high - wide.ci_low > result.ci_high - result.ci_low


def test_paired_change_per_year_uses_pairs_with_days() -> None:
    days = [730.5, 365.25, np.nan, 1461.0]
    result = paired_change([1.0, 2.0, 3.0, np.nan], [3.0, 2.5, 1.0, 5.0], days=days)
    assert (result.n, result.n_dropped, result.n_days) == (3, 1, 2)
    assert result.mean_change == pytest.approx((2.0 + 0.5 - 2.0) / 3)
    assert result.mean_days == pytest.approx((730.5 + 365.25) / 2)
    assert result.mean_change_per_year == pytest.approx((2.0 / 2 + 0.5 / 1) / 2)
    with pytest.raises(AnalysisError, match="days"):
        paired_change([1.0, 2.0], [2.0, 3.0], days=[400.0, 0.0])
    with pytest.raises(AnalysisError, match="lengths"):
        paired_change([1.0, 2.0], [2.0, 3.0], days=[400.0])


def test_paired_change_missing_values_and_small_samples() -> None:
    gaps = paired_change(np.r_[FIRST, np.nan], np.r_[SECOND, 4.0])
    assert gaps.n_dropped == 1 and gaps.as_dict() == {**paired_change(FIRST, SECOND).as_dict(), "n_dropped": 1}
    empty = paired_change([np.nan], [1.0])
    assert empty.n == 0 and math.isnan(empty.mean_change) and math.isnan(empty.mean_first)
    one = paired_change([1.0], [3.0])
    assert one.mean_change == 2.0
    assert all(math.isnan(v) for v in (one.sd_change, one.ci_low, one.t, one.p, one.wilcoxon_p))
    same = paired_change([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same.mean_change == 0.0 and same.sd_change == 0.0
    assert math.isnan(same.t) and math.isnan(same.p) and math.isnan(same.wilcoxon_p)
    assert json.dumps(same.as_dict())  # NaN is written as null
    with pytest.raises(AnalysisError, match="infinite"):
        paired_change([1.0, np.inf], [1.0, 2.0])
    with pytest.raises(AnalysisError, match="confidence"):
        paired_change(FIRST, SECOND, confidence=95)


def test_change_regression_matches_statsmodels(bone: pd.DataFrame, rng: np.random.Generator) -> None:
    frame = bone[["age", "bmi", "sex"]].copy()
    change = 0.3 * frame["age"] - 0.5 * frame["bmi"] + 1.2 * (frame["sex"] == "M") + rng.normal(0, 1, len(frame))
    frame.loc[frame.index[:5], "bmi"] = np.nan
    change.iloc[7] = np.nan
    fit = change_regression(change, frame)
    keep = frame["bmi"].notna() & change.notna()
    design = sm.add_constant(np.column_stack([frame["age"], frame["bmi"], frame["sex"] == "M"]).astype(float)[keep])
    reference = sm.OLS(change[keep].to_numpy(), design).fit()
    assert (fit.n, fit.n_dropped) == (int(keep.sum()), 6)
    assert [c.term for c in fit.coefficients] == ["Intercept", "age", "bmi", "sex[M]"]
    assert [c.beta for c in fit.coefficients] == pytest.approx(list(reference.params), rel=1e-9)
    assert [c.p for c in fit.coefficients] == pytest.approx(list(reference.pvalues), rel=1e-6)
    ci = reference.conf_int(0.05)
    assert [(c.ci_low, c.ci_high) for c in fit.coefficients] == pytest.approx([tuple(r) for r in ci], rel=1e-9)
    with pytest.raises(AnalysisError, match="indexes"):
        change_regression(change.reset_index(drop=True).iloc[::-1], frame)
    with pytest.raises(AnalysisError, match="named"):
        change_regression(change, frame.assign(change=1.0))
    with pytest.raises(AnalysisError, match="lengths"):
        change_regression(change.to_numpy()[:-1], frame)


def test_implausible_changes_flags_outside_limits_of_agreement() -> None:
    first = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, np.nan])
    change = np.array([0.1, -0.1, 0.2, -0.2, 0.0, 0.1, -0.1, 0.0, 0.1, 3.0, -0.1, 50.0])
    d = change[:-1]
    centre = d.mean()
    threshold = 1.96 * math.sqrt(((d - centre) ** 2).sum() / (d.size - 1))
    result = implausible_changes(first, first + change)
    assert result.flags.tolist() == [False] * 9 + [True, False, False]  # the missing pair is never flagged
    assert (result.centre, result.threshold) == pytest.approx((centre, threshold), rel=1e-12)
    assert (result.n, result.n_flagged) == (11, 1)
    given = implausible_changes(first, first + change, threshold=0.15)
    assert given.flags.tolist() == [abs(v - centre) > 0.15 for v in d] + [False]
    assert given.as_dict()["flags"] == given.flags.tolist() and given.threshold == 0.15


def test_implausible_changes_small_samples_and_bad_threshold() -> None:
    few = implausible_changes([1.0, 2.0, np.nan], [9.0, 2.0, 3.0])
    assert few.flags.tolist() == [False, False, False] and math.isnan(few.threshold) and few.n == 2
    assert implausible_changes([1.0, 2.0], [9.0, 2.0], threshold=1.0).flags.tolist() == [True, True]
    with pytest.raises(AnalysisError, match="threshold"):
        implausible_changes(FIRST, SECOND, threshold=-1.0)
