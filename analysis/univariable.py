"""Univariable regression with a sex interaction (BMFF paper Table 4 and Supplemental Tables 1-5).

For each (dependent, explanatory) pair, as the paper's numbers show (the 'Both' beta lies between the female
and male slopes, so it is not the reference-level slope of the interaction model):
- 'Both' row: ``dependent ~ explanatory`` over all subjects: beta, 95 % CI, adjusted R2, P (Exp);
- P (Exp*Sex): P of the ``explanatory:sex`` term in ``dependent ~ explanatory * sex``;
- when P (Exp*Sex) < ``interaction_alpha`` (0.05, unadjusted as in the paper), one more
  ``dependent ~ explanatory`` fit per sex (female first).
All fits are statsmodels formula OLS on complete cases of (dependent, explanatory, sex).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import RegressionResultsWrapper

from analysis.ols import check_size, complete_rows, fit_formula, label_of, numeric_column
from analysis.results import UnivariableFamily, UnivariableRow
from analysis.validation import AnalysisError, is_constant

SEX_LEVELS: tuple[Any, Any] = ("F", "M")  # reference (female) first, as ml.ukb.fields.SEX_CODES
SEX_LABELS = ("Female", "Male")
BOTH = "Both"


def univariable(
    data: pd.DataFrame,
    dependent: str,
    explanatory: str,
    *,
    sex: str = "sex",
    levels: tuple[Any, Any] = SEX_LEVELS,
    level_labels: tuple[str, str] = SEX_LABELS,
    labels: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    interaction_alpha: float = 0.05,
) -> tuple[UnivariableRow, ...]:
    """The 'Both' row of ``dependent ~ explanatory`` plus sex-stratified rows when the interaction is significant.

    Inputs: a frame with the two numeric columns and a sex column holding exactly the two ``levels``
    (reference first; missing values drop the row and are counted), display ``labels`` per column,
    ``alpha`` for each row's ``significant`` flag, ``interaction_alpha`` for stratifying.
    Output: 1 or 3 :class:`UnivariableRow` (Both, then Female, Male). Beta and its 95 % CI come from
    ``fit.params`` / ``fit.conf_int(0.05)``, adjusted R2 from ``fit.rsquared_adj``, P from ``fit.pvalues``.
    Raises AnalysisError for absent columns, text or constant variables, unknown sex values, one sex only,
    or too few rows (the interaction model needs at least 5, each stratum at least 3).
    """
    frame, n_dropped = complete_rows(data, [dependent, explanatory, sex])
    check_size(len(frame), 4, f"{dependent} ~ {explanatory} * {sex}")
    work = pd.DataFrame({
        "y": numeric_column(frame, dependent),
        "x": numeric_column(frame, explanatory),
        "male": _sex_indicator(frame[sex], levels, sex),
    })
    _require_slope_in_each_sex(work["x"], work["male"], explanatory, level_labels)
    names = (label_of(explanatory, labels), label_of(dependent, labels))
    interaction = fit_formula("y ~ x * male", work, f"{dependent} ~ {explanatory} * {sex}")
    p_interaction = float(interaction.pvalues["x:male"])
    pooled = fit_formula("y ~ x", work, f"{dependent} ~ {explanatory}")
    rows = [_row(pooled, names, BOTH, n_dropped, p_interaction, alpha)]
    if p_interaction < interaction_alpha:
        rows += [_stratum_row(work, code, stratum, names, n_dropped, alpha)
                 for code, stratum in zip((0.0, 1.0), level_labels, strict=True)]
    return tuple(rows)


def _sex_indicator(values: pd.Series, levels: tuple[Any, Any], column: str) -> np.ndarray:
    """1.0 for the second (male) level, 0.0 for the reference; AnalysisError on other values or one level."""
    raw = values.to_numpy(dtype=object)
    unknown = sorted(set(raw.tolist()) - set(levels), key=str)
    if unknown:
        raise AnalysisError(f"{column!r} has values {unknown} outside the expected levels {list(levels)}")
    male = (raw == levels[1]).astype(float)
    if male.min() == male.max():
        raise AnalysisError(f"{column!r} holds one level only ({raw[0]!r}): the sex interaction is undefined")
    return male


def _require_slope_in_each_sex(x: pd.Series, male: pd.Series, column: str, level_labels: tuple[str, str]) -> None:
    """The x*sex interaction needs x to vary within each sex."""
    for code, stratum in zip((0.0, 1.0), level_labels, strict=True):
        within = x[male == code].to_numpy()
        if within.size < 2 or is_constant(within):
            raise AnalysisError(f"{column!r} does not vary within {stratum} ({within.size} rows): "
                                "the explanatory x sex interaction is undefined")


def _stratum_row(work: pd.DataFrame, code: float, stratum: str, names: tuple[str, str], n_dropped: int,
                 alpha: float) -> UnivariableRow:
    """``y ~ x`` within one sex."""
    subset = work.loc[work["male"] == code, ["y", "x"]]
    what = f"{names[1]} ~ {names[0]} in {stratum}"
    check_size(len(subset), 2, what)
    if is_constant(subset["y"].to_numpy()):
        raise AnalysisError(f"{names[1]!r} is constant over the {len(subset)} rows of stratum {stratum}")
    return _row(fit_formula("y ~ x", subset, what), names, stratum, n_dropped, np.nan, alpha)


def _row(fit: RegressionResultsWrapper, names: tuple[str, str], stratum: str, n_dropped: int,
         p_interaction: float, alpha: float) -> UnivariableRow:
    ci_low, ci_high = (float(v) for v in fit.conf_int(alpha=0.05).loc["x"])
    p = float(fit.pvalues["x"])
    return UnivariableRow(
        explanatory=names[0], dependent=names[1], stratum=stratum, n=int(fit.nobs), n_dropped=n_dropped,
        beta=float(fit.params["x"]), ci_low=ci_low, ci_high=ci_high, adj_r2=float(fit.rsquared_adj), p=p,
        p_interaction=p_interaction, significant=bool(p < alpha),
    )


def univariable_family(
    data: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    alpha: float = 0.05,
    n_tests: int | None = None,
    sex: str = "sex",
    levels: tuple[Any, Any] = SEX_LEVELS,
    level_labels: tuple[str, str] = SEX_LABELS,
    labels: Mapping[str, str] | None = None,
    interaction_alpha: float = 0.05,
) -> UnivariableFamily:
    """All rows of a univariable table with the Bonferroni-adjusted alpha and significant rows marked.

    Inputs: ``pairs`` of ``(dependent, explanatory)`` column names; ``n_tests`` defaults to ``len(pairs)``
    (pass the paper's count when it differs). Output: :class:`UnivariableFamily` with
    ``adjusted_alpha = alpha / n_tests`` and every row (stratified ones too) marked ``significant`` when its
    P < adjusted_alpha. Other arguments as :func:`univariable`.
    """
    if not pairs:
        raise AnalysisError("univariable family needs at least one (dependent, explanatory) pair")
    count = len(pairs) if n_tests is None else n_tests
    if count < 1:
        raise AnalysisError(f"n_tests must be at least 1, got {count}")
    adjusted = alpha / count
    rows = [row for dependent, explanatory in pairs
            for row in univariable(data, dependent, explanatory, sex=sex, levels=levels, level_labels=level_labels,
                                   labels=labels, alpha=adjusted, interaction_alpha=interaction_alpha)]
    return UnivariableFamily(rows=tuple(rows), n_tests=count, alpha=alpha, adjusted_alpha=adjusted,
                             interaction_alpha=interaction_alpha)
