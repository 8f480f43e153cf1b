"""Change between two imaging visits of one quantity measured by one method (UK Biobank instance 2 -> 3).

Conventions, used everywhere in this module:
- ``first`` is the first imaging visit (instance 2), ``second`` the repeat visit (instance 3); values pair by
  position per participant and pandas Series must share one index (as :mod:`analysis.comparison`);
- the change is *second minus first*, ``d = second - first`` (positive = the value rose);
- a pair with a missing value in either visit is dropped and counted in ``n_dropped``; infinite values,
  text and mismatched lengths raise :class:`~analysis.validation.AnalysisError`;
- a figure that the remaining pairs cannot give (too few pairs, no spread) is NaN rather than an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.comparison import LOA_Z, agreement
from analysis.regression import fit_model
from analysis.results import ModelFit, _Result, json_safe
from analysis.validation import AnalysisError, ArrayLike, as_vector, complete_pairs

DAYS_PER_YEAR = 365.25
CHANGE_COLUMN = "change"  # name of the dependent in change_regression


# --- result types -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedChange(_Result):
    """Mean change between the visits over the n complete pairs, with the paired tests.

    ``mean_change = mean(d)``, ``sd_change = std(d, ddof=1)``; ``ci_low``/``ci_high`` = mean(d) -/+
    t_{(1+confidence)/2, n-1} sd_change / sqrt(n); ``t``, ``p`` from ``scipy.stats.ttest_rel(second, first)``
    (t = mean(d) / (sd_change / sqrt(n)), two-sided); ``wilcoxon_p`` from ``scipy.stats.wilcoxon(d)``
    (signed-rank test, zero differences dropped). ``mean_days`` is the mean follow-up over the ``n_days``
    complete pairs that have one; ``mean_change_per_year = mean(d_i / (days_i / 365.25))`` over those pairs.
    NaN: everything with n = 0; sd, CI, t, p and wilcoxon_p with n < 2; t, p when ``sd_change`` is 0;
    wilcoxon_p when every difference is 0; the two follow-up figures without any days.
    """

    n: int
    n_dropped: int
    confidence: float
    mean_first: float
    mean_second: float
    mean_change: float
    sd_change: float
    ci_low: float
    ci_high: float
    t: float
    p: float
    wilcoxon_p: float
    n_days: int
    mean_days: float
    mean_change_per_year: float


@dataclass(frozen=True)
class IntraclassCorrelation(_Result):
    """Two-way ICCs (McGraw & Wong 1996) of an n subjects x k occasions table, from the ANOVA mean squares.

    ``ms_subjects = k sum_i (mean_i. - mean..)^2 / (n - 1)``, ``ms_occasions = n sum_j (mean_.j - mean..)^2 /
    (k - 1)``, ``ms_error`` = residual SS / ((n - 1)(k - 1)) of the additive two-way model.
    ``icc_a1`` = ICC(A,1), absolute agreement, single measures (Shrout & Fleiss ICC(2,1)):
    ``(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)``; ``icc_c1`` = ICC(C,1), consistency (Shrout &
    Fleiss ICC(3,1)): ``(MSR - MSE) / (MSR + (k - 1) MSE)``. Confidence limits: McGraw & Wong Table 7 —
    for ICC(C,1) from ``F = MSR / MSE`` on (n - 1, (n - 1)(k - 1)) df; for ICC(A,1) the Satterthwaite
    approximation with ``a = k ICC / (n (1 - ICC))``, ``b = 1 + k ICC (n - 1) / (n (1 - ICC))``,
    ``v = (a MSC + b MSE)^2 / ((a MSC)^2 / (k - 1) + (b MSE)^2 / ((n - 1)(k - 1)))``,
    ``L = n (MSR - F* MSE) / (F* (k MSC + (k n - k - n) MSE) + n MSR)`` with F* = F_{1-alpha/2}(n - 1, v),
    ``U = n (F* MSR - MSE) / (k MSC + (k n - k - n) MSE + n F* MSR)`` with F* = F_{1-alpha/2}(v, n - 1).
    NaN with n < 2, when a denominator is 0 (no variation at all), and for limits the formulas cannot give
    (e.g. ``ms_error`` = 0).
    """

    n: int
    k: int
    confidence: float
    ms_subjects: float
    ms_occasions: float
    ms_error: float
    icc_a1: float
    icc_a1_ci_low: float
    icc_a1_ci_high: float
    icc_c1: float
    icc_c1_ci_low: float
    icc_c1_ci_high: float


@dataclass(frozen=True)
class Repeatability(_Result):
    """Test-retest repeatability of the measurement between the two visits (d = second - first).

    ``within_sd`` sw = sqrt(mean(d^2) / 2) (within-subject SD from duplicates); ``rc`` = 1.96 sqrt(2) sw,
    the repeatability coefficient (Bland & Altman 1999; QIBA): 95 % of repeat differences lie within -/+ rc.
    ``wcv`` = 100 sqrt(mean((s_i / m_i)^2)) % with s_i = |d_i| / sqrt(2), m_i = (first_i + second_i) / 2, over
    the ``n_cv`` pairs with m_i > 0 (root-mean-square within-subject coefficient of variation).
    ICCs and limits as :class:`IntraclassCorrelation` on the n x 2 table (first, second).
    ``bias``, ``sd_difference``, ``loa_lower``/``loa_upper`` (bias -/+ 1.96 SD) come from
    :func:`analysis.comparison.agreement` with the second visit as reference (its d = reference - test).
    NaN: everything with n < 2; the Bland-Altman figures with n < 3 (agreement's minimum); ``wcv`` with no
    positive-mean pair.
    """

    n: int
    n_dropped: int
    within_sd: float
    rc: float
    wcv: float
    n_cv: int
    icc_a1: float
    icc_a1_ci_low: float
    icc_a1_ci_high: float
    icc_c1: float
    icc_c1_ci_low: float
    icc_c1_ci_high: float
    bias: float
    sd_difference: float
    loa_lower: float
    loa_upper: float


@dataclass(frozen=True, eq=False)
class ChangeFlags:
    """Pairs whose change is implausible: ``|d_i - centre| > threshold``.

    ``flags`` has one bool per input pair (False where either visit is missing); ``centre`` = mean(d) over
    the n complete pairs; ``threshold`` as given, else 1.96 std(d, ddof=1) (the Bland-Altman half-width),
    NaN with n < 3 (then nothing is flagged).
    """

    flags: np.ndarray
    threshold: float
    centre: float
    n: int
    n_flagged: int

    def as_dict(self) -> dict[str, Any]:
        """Fields as a JSON-safe dictionary, ``flags`` as a list of bools."""
        return json_safe({"flags": [bool(f) for f in self.flags], "threshold": self.threshold,
                          "centre": self.centre, "n": self.n, "n_flagged": self.n_flagged})


# --- analyses -----------------------------------------------------------------------------------------------


def paired_change(first: ArrayLike, second: ArrayLike, *, days: ArrayLike | None = None,
                  confidence: float = 0.95) -> PairedChange:
    """Mean change from the first to the second visit, its t-based CI and the paired t / Wilcoxon tests.

    Inputs: two equally long vectors (NaN = missing, the pair is dropped), optional ``days`` between the
    visits per pair (NaN = unknown; only used for the follow-up figures; must be > 0), ``confidence`` of
    the CI. Output: :class:`PairedChange`. Raises AnalysisError on mismatched lengths or indexes,
    infinite values, a follow-up of 0 days or less, or a confidence outside (0, 1).
    """
    _check_confidence(confidence)
    (x1, x2), n_dropped = complete_pairs({"first": first, "second": second})
    n, d = int(x1.size), x2 - x1
    nan = math.nan
    mean_change = float(d.mean()) if n else nan
    sd = ci_low = ci_high = t = p = w_p = nan
    if n >= 2:
        sd = float(d.std(ddof=1))
        half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
        ci_low, ci_high = mean_change - half, mean_change + half
        if sd > 0:
            result = stats.ttest_rel(x2, x1)
            t, p = float(result.statistic), float(result.pvalue)
        if np.any(d != 0):
            w_p = float(stats.wilcoxon(d).pvalue)
    n_days, mean_days, per_year = _follow_up(first, second, days)
    return PairedChange(
        n=n, n_dropped=n_dropped, confidence=float(confidence), mean_first=float(x1.mean()) if n else nan,
        mean_second=float(x2.mean()) if n else nan, mean_change=mean_change, sd_change=sd, ci_low=ci_low,
        ci_high=ci_high, t=t, p=p, wilcoxon_p=w_p, n_days=n_days, mean_days=mean_days,
        mean_change_per_year=per_year,
    )


def _follow_up(first: ArrayLike, second: ArrayLike, days: ArrayLike | None) -> tuple[int, float, float]:
    """Pairs with a follow-up, their mean days and mean annualised change (NaN without any)."""
    if days is None:
        return 0, math.nan, math.nan
    (x1, x2, t), _ = complete_pairs({"first": first, "second": second, "days": days})
    if np.any(t <= 0):
        raise AnalysisError(f"days must be > 0 (second visit after the first); got {int((t <= 0).sum())} not")
    if not t.size:
        return 0, math.nan, math.nan
    return int(t.size), float(t.mean()), float(((x2 - x1) / (t / DAYS_PER_YEAR)).mean())


def repeatability(first: ArrayLike, second: ArrayLike) -> Repeatability:
    """Within-subject SD, repeatability coefficient, wCV, ICC(A,1) / ICC(C,1) and Bland-Altman limits.

    Inputs: two equally long vectors (NaN = missing, the pair is dropped). Output: :class:`Repeatability`
    (see there for every formula). Raises AnalysisError on mismatched lengths or indexes, infinite values.
    """
    (x1, x2), n_dropped = complete_pairs({"first": first, "second": second})
    n, d = int(x1.size), x2 - x1
    nan = math.nan
    sw = rc = wcv = bias = sd_diff = loa_lower = loa_upper = nan
    n_cv = 0
    icc = two_way_icc(np.column_stack([x1, x2]))
    if n >= 2:
        sw = math.sqrt(float(np.mean(d**2)) / 2)
        rc = LOA_Z * math.sqrt(2) * sw
        m = (x1 + x2) / 2
        positive = m > 0
        n_cv = int(positive.sum())
        if n_cv:
            wcv = 100 * math.sqrt(float(np.mean((np.abs(d[positive]) / math.sqrt(2) / m[positive]) ** 2)))
    if n >= 3:
        ba = agreement(x2, x1, reference_name="second", test_name="first")
        bias, sd_diff, loa_lower, loa_upper = ba.bias, ba.sd_difference, ba.loa_lower, ba.loa_upper
    return Repeatability(
        n=n, n_dropped=n_dropped, within_sd=sw, rc=rc, wcv=wcv, n_cv=n_cv, icc_a1=icc.icc_a1,
        icc_a1_ci_low=icc.icc_a1_ci_low, icc_a1_ci_high=icc.icc_a1_ci_high, icc_c1=icc.icc_c1,
        icc_c1_ci_low=icc.icc_c1_ci_low, icc_c1_ci_high=icc.icc_c1_ci_high, bias=bias, sd_difference=sd_diff,
        loa_lower=loa_lower, loa_upper=loa_upper,
    )


def two_way_icc(ratings: np.ndarray | pd.DataFrame, *, confidence: float = 0.95) -> IntraclassCorrelation:
    """ICC(A,1) and ICC(C,1) with confidence limits of a complete n x k table (rows subjects, columns occasions).

    Output: :class:`IntraclassCorrelation` (formulas there). Raises AnalysisError when the table is not
    two-dimensional with k >= 2 columns, holds missing or infinite values, or on a confidence outside (0, 1).
    """
    _check_confidence(confidence)
    y = np.asarray(ratings, dtype=float)
    if y.ndim != 2 or y.shape[1] < 2:
        raise AnalysisError(f"ICC needs an n x k table with k >= 2, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise AnalysisError("ICC table has missing or infinite values; drop incomplete subjects first")
    n, k = y.shape
    nan = math.nan
    if n < 2:
        return IntraclassCorrelation(n, k, float(confidence), *([nan] * 9))
    grand = y.mean()
    ss_rows = k * float(((y.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((y.mean(axis=0) - grand) ** 2).sum())
    ss_error = max(float(((y - grand) ** 2).sum()) - ss_rows - ss_cols, 0.0)
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_error / ((n - 1) * (k - 1))
    icc_a = _ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
    icc_c = _ratio(msr - mse, msr + (k - 1) * mse)
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        a_low, a_high = _agreement_limits(icc_a, msr, msc, mse, n, k, alpha)
        c_low, c_high = _consistency_limits(msr, mse, n, k, alpha)
    return IntraclassCorrelation(
        n=n, k=k, confidence=float(confidence), ms_subjects=msr, ms_occasions=msc, ms_error=mse, icc_a1=icc_a,
        icc_a1_ci_low=a_low, icc_a1_ci_high=a_high, icc_c1=icc_c, icc_c1_ci_low=c_low, icc_c1_ci_high=c_high,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else math.nan


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else math.nan


def _consistency_limits(msr: float, mse: float, n: int, k: int, alpha: float) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7, ICC(C,1): F = MSR / MSE on (n - 1, (n - 1)(k - 1)) df."""
    if mse == 0:
        return math.nan, math.nan
    df1, df2 = n - 1, (n - 1) * (k - 1)
    f_obs = msr / mse
    f_low = f_obs / stats.f.ppf(1 - alpha / 2, df1, df2)
    f_high = f_obs * stats.f.ppf(1 - alpha / 2, df2, df1)
    return _finite((f_low - 1) / (f_low + k - 1)), _finite((f_high - 1) / (f_high + k - 1))


def _agreement_limits(icc: float, msr: float, msc: float, mse: float, n: int, k: int,
                      alpha: float) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7, ICC(A,1): Satterthwaite df v of a MSC + b MSE."""
    if not np.isfinite(icc) or icc == 1 or mse == 0:
        return math.nan, math.nan
    a = k * icc / (n * (1 - icc))
    b = 1 + k * icc * (n - 1) / (n * (1 - icc))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_low = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f_high = stats.f.ppf(1 - alpha / 2, v, n - 1)
    rest = k * msc + (k * n - k - n) * mse
    low = n * (msr - f_low * mse) / (f_low * rest + n * msr)
    high = n * (f_high * msr - mse) / (rest + n * f_high * msr)
    return _finite(low), _finite(high)


def change_regression(change: ArrayLike, covariates: pd.DataFrame, *,
                      categorical: Mapping[str, Any] | None = None,
                      labels: Mapping[str, str] | None = None) -> ModelFit:
    """OLS of the change on covariates: ``change ~ intercept + covariates`` on the complete rows.

    ``change`` pairs by position with the rows of ``covariates`` (a Series must share its index); every
    column of ``covariates`` is a covariate. The fit is :func:`analysis.regression.fit_model` (categorical
    covariates by treatment coding, None meaning ``{"sex": "F"}``; display ``labels``): rows with a missing
    value are dropped (``n_dropped``), coefficients carry beta, SE, t-based 95 % CI and P.
    Raises AnalysisError on mismatched lengths or indexes, a covariate named 'change', no covariates, or
    any of fit_model's refusals (text, constant or collinear covariates, too few rows).
    """
    if not isinstance(covariates, pd.DataFrame):
        raise AnalysisError("covariates must be a pandas DataFrame")
    if CHANGE_COLUMN in covariates.columns:
        raise AnalysisError(f"covariates may not have a column named {CHANGE_COLUMN!r}")
    if isinstance(change, pd.Series) and not change.index.equals(covariates.index):
        raise AnalysisError("change and covariates have different indexes; align them (e.g. join on eid) first")
    values = as_vector(change, "change")
    if values.size != len(covariates):
        raise AnalysisError(f"mismatched lengths: change has {values.size} values, covariates {len(covariates)} rows")
    frame = covariates.assign(**{CHANGE_COLUMN: values})
    return fit_model(frame, CHANGE_COLUMN, list(covariates.columns), categorical=categorical, labels=labels,
                     name="Change")


def implausible_changes(first: ArrayLike, second: ArrayLike, *, threshold: float | None = None) -> ChangeFlags:
    """Flag pairs whose change lies outside the cohort's limits: ``|d_i - mean(d)| > threshold``.

    ``threshold`` defaults to 1.96 std(d, ddof=1) over the complete pairs, i.e. the Bland-Altman limits of
    agreement of the change; with fewer than 3 complete pairs and no threshold nothing is flagged (threshold
    NaN). Pairs with a missing visit are never flagged. Output: :class:`ChangeFlags` (one flag per input
    pair). Raises AnalysisError on mismatched lengths or indexes, infinite values, a negative threshold.
    """
    if threshold is not None and not threshold >= 0:
        raise AnalysisError(f"threshold must be >= 0, got {threshold}")
    (x1, x2), _ = complete_pairs({"first": first, "second": second})
    v1, v2 = as_vector(first, "first"), as_vector(second, "second")
    keep = ~(np.isnan(v1) | np.isnan(v2))
    d = x2 - x1
    n = int(d.size)
    centre = float(d.mean()) if n else math.nan
    if threshold is None:
        threshold = LOA_Z * float(d.std(ddof=1)) if n >= 3 else math.nan
    flags = np.zeros(keep.size, dtype=bool)
    if n and not math.isnan(threshold):
        flags[keep] = np.abs(d - centre) > threshold
    return ChangeFlags(flags=flags, threshold=float(threshold), centre=centre, n=n, n_flagged=int(flags.sum()))


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence must lie in (0, 1), got {confidence}")
