"""Method comparison (liver fat paper, Table 1): agreement, correlated errors, linear recalibration.

Conventions, used everywhere in this module:
- differences are *first minus second* (``reference - test``; the paper's Fig. 2 subtracts the second named
  method from the first);
- at the threshold a subject is positive when its value is strictly *above* it (``value > threshold``,
  the paper's "above the NAFLD risk level of 5.5 FF"), the first method giving the ground truth;
- pairs with a missing value are dropped and counted in ``n_dropped``; at least 3 complete pairs are needed;
- values pair by position; pandas Series must share one index (differently ordered eids are refused).
"""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from scipy import stats
from sklearn.metrics import r2_score, roc_auc_score

from analysis.results import AgreementResult, ErrorCorrelation, LinearCalibration
from analysis.validation import AnalysisError, ArrayLike, complete_pairs, is_constant, require_rows

LOA_Z = 1.96  # Bland-Altman 95 % limits: bias +/- 1.96 SD of the differences
NAFLD_THRESHOLD = 5.5  # % fat fraction


def agreement(
    reference: ArrayLike,
    test: ArrayLike,
    threshold: float = NAFLD_THRESHOLD,
    *,
    reference_name: str = "reference",
    test_name: str = "test",
) -> AgreementResult:
    """Agreement of ``test`` with ``reference`` measured on the same subjects.

    Inputs: two equally long numeric vectors (NaN/None = missing; the pair is dropped and counted), the
    threshold (default 5.5 % FF) and names used in error messages.
    Output: :class:`AgreementResult` with, for ``d = reference - test`` over the n complete pairs,
    - ``bias = mean(d)``, ``sd_difference = std(d, ddof=1)``, ``loa = bias -/+ 1.96 sd_difference``;
    - ``mae = mean(|d|)``;
    - ``r2 = sklearn.metrics.r2_score(reference, test)`` = 1 - SS_res / SS_tot with reference as truth
      (not r squared: a biased test method scores lower);
    - ``pearson_r``, ``pearson_p`` from ``scipy.stats.pearsonr`` (two-sided);
    - ``roc_auc = sklearn.metrics.roc_auc_score(reference > threshold, test)``;
      ``sensitivity``/``specificity`` of ``test > threshold`` against ``reference > threshold``.
    Documented NaN (reason in ``notes``): r2 when the reference is constant; Pearson when either method is
    constant; ROC-AUC when every subject falls in one class; sensitivity without positives; specificity
    without negatives. Raises AnalysisError on mismatched lengths, infinite values or fewer than 3 pairs.
    """
    (ref, tst), n_dropped = complete_pairs({reference_name: reference, test_name: test})
    require_rows(ref.size, 3, "agreement")
    diff = ref - tst
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    notes: list[str] = []
    r2, r, p = _fit_figures(ref, tst, reference_name, test_name, notes)
    auc, sens, spec, n_pos = _threshold_figures(ref, tst, threshold, notes)
    return AgreementResult(
        n=int(ref.size), n_dropped=n_dropped, bias=bias, sd_difference=sd, mae=float(np.abs(diff).mean()),
        r2=r2, pearson_r=r, pearson_p=p, loa_lower=bias - LOA_Z * sd, loa_upper=bias + LOA_Z * sd,
        threshold=float(threshold), roc_auc=auc, sensitivity=sens, specificity=spec,
        n_positive=n_pos, n_negative=int(ref.size - n_pos), notes=tuple(notes),
    )


def _fit_figures(ref: np.ndarray, tst: np.ndarray, ref_name: str, tst_name: str,
                 notes: list[str]) -> tuple[float, float, float]:
    """R2 (reference as truth) and Pearson r, p; NaN with a note where a constant input makes them undefined."""
    r2 = np.nan
    if is_constant(ref):
        notes.append(f"{ref_name} is constant: R2 undefined")
    else:
        r2 = float(r2_score(ref, tst))
    r, p = _pearson(ref, tst, (ref_name, tst_name), notes)
    return r2, r, p


def _pearson(x: np.ndarray, y: np.ndarray, names: tuple[str, str], notes: list[str]) -> tuple[float, float]:
    """scipy.stats.pearsonr, or (NaN, NaN) with a note when either vector is constant."""
    constant = [name for name, v in zip(names, (x, y), strict=True) if is_constant(v)]
    if constant:
        notes.append(f"{' and '.join(constant)} constant: Pearson r undefined")
        return np.nan, np.nan
    result = stats.pearsonr(x, y)
    return float(result.statistic), float(result.pvalue)


def _threshold_figures(ref: np.ndarray, tst: np.ndarray, threshold: float,
                       notes: list[str]) -> tuple[float, float, float, int]:
    """ROC-AUC, sensitivity, specificity and the number of reference positives at ``threshold``."""
    truth, called = ref > threshold, tst > threshold
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    auc = sens = spec = np.nan
    if n_pos and n_neg:
        auc = float(roc_auc_score(truth, tst))
    else:
        kind = "negative" if n_pos == 0 else "positive"
        notes.append(f"all {truth.size} subjects are {kind} at threshold {threshold:g}: ROC-AUC undefined")
    if n_pos:
        sens = float((called & truth).sum() / n_pos)
    else:
        notes.append("no positives: sensitivity undefined")
    if n_neg:
        spec = float((~called & ~truth).sum() / n_neg)
    else:
        notes.append("no negatives: specificity undefined")
    return auc, sens, spec, n_pos


def error_correlation(reference: ArrayLike, a: ArrayLike, b: ArrayLike) -> ErrorCorrelation:
    """Correlation of two methods' errors against a common reference (the paper's r = 0.715).

    Inputs: three equally long vectors; a row with any missing value is dropped and counted.
    Output: :class:`ErrorCorrelation` with ``r, p = scipy.stats.pearsonr(a - reference, b - reference)`` and the
    Bland-Altman figures of ``(a - reference) - (b - reference) = a - b`` (bias, SD ddof=1, bias -/+ 1.96 SD).
    r and p are NaN (with a note) when either error series is constant. Raises AnalysisError on mismatched
    lengths or fewer than 3 complete rows.
    """
    (ref, va, vb), n_dropped = complete_pairs({"reference": reference, "a": a, "b": b})
    require_rows(ref.size, 3, "error correlation")
    err_a, err_b = va - ref, vb - ref
    notes: list[str] = []
    r, p = _pearson(err_a, err_b, ("error of a", "error of b"), notes)
    diff = err_a - err_b
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    return ErrorCorrelation(
        n=int(ref.size), n_dropped=n_dropped, r=r, p=p, bias=bias, sd_difference=sd,
        loa_lower=bias - LOA_Z * sd, loa_upper=bias + LOA_Z * sd, notes=tuple(notes),
    )


def linear_recalibration(reference: ArrayLike, raw: ArrayLike) -> LinearCalibration:
    """Fit ``reference ~ intercept + slope * raw`` by OLS (statsmodels) on one data set.

    The atlas correction of the liver paper (0.9x - 0.8) is such a fit on dataset A; apply it to other data
    with ``result.apply(values)``. Output: :class:`LinearCalibration` (slope, intercept, n, n_dropped, and
    the fit's R2). Raises AnalysisError when ``raw`` or ``reference`` is constant (slope undefined or the
    correction meaningless), on mismatched lengths, or with fewer than 3 complete pairs.
    """
    (ref, values), n_dropped = complete_pairs({"reference": reference, "raw": raw})
    require_rows(ref.size, 3, "linear recalibration")
    for name, vector in (("raw", values), ("reference", ref)):
        if is_constant(vector):
            raise AnalysisError(f"{name} is constant over {vector.size} pairs: recalibration undefined")
    fit = sm.OLS(ref, np.column_stack([np.ones_like(values), values])).fit()
    intercept, slope = (float(v) for v in fit.params)
    return LinearCalibration(slope=slope, intercept=intercept, n=int(ref.size), n_dropped=n_dropped,
                             r2=float(fit.rsquared))
