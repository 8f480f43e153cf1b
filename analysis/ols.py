"""Shared OLS plumbing: complete-case selection from a data frame, checked fits, coefficient extraction.

Every fit here refuses what would give a silently wrong number: fewer rows than parameters + 1, a constant
dependent or predictor, collinear predictors (rank-deficient design).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.regression.linear_model import RegressionResultsWrapper
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from analysis.results import Coefficient
from analysis.validation import AnalysisError, as_vector, is_constant

CI_ALPHA = 0.05  # 95 % confidence intervals


def complete_rows(data: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Rows of ``data[columns]`` with no missing value, and how many rows were dropped.

    Raises AnalysisError naming any column the frame lacks.
    """
    absent = [column for column in dict.fromkeys(columns) if column not in data.columns]
    if absent:
        raise AnalysisError(f"data has no column(s) {absent}; available: {list(data.columns)}")
    subset = data.loc[:, list(dict.fromkeys(columns))]
    keep = subset.notna().all(axis=1).to_numpy()
    return subset.loc[keep], int(keep.size - keep.sum())


def numeric_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A non-constant numeric column as a float array; AnalysisError when text, infinite or constant."""
    vector = as_vector(frame[column], column)
    if is_constant(vector):
        raise AnalysisError(f"{column!r} is constant over the {vector.size} analysed rows")
    return vector


def check_size(n: int, k: int, what: str) -> None:
    """Require at least one residual degree of freedom: n complete rows > k parameters."""
    if n <= k:
        raise AnalysisError(f"{what}: {n} complete rows for {k} parameters; need at least {k + 1}")


def fit_matrix(y: np.ndarray, design: np.ndarray, terms: Sequence[str], what: str) -> RegressionResultsWrapper:
    """``statsmodels.api.OLS(y, design).fit()`` (pinv solver) after the size, constant and rank checks."""
    check_size(y.size, design.shape[1], what)
    if is_constant(y):
        raise AnalysisError(f"{what}: the dependent variable is constant over {y.size} rows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularMatrixWarning)  # _check_rank turns it into an error
        fit = sm.OLS(y, design).fit()
    _check_rank(fit, terms, what)
    return fit


def fit_formula(formula: str, frame: pd.DataFrame, what: str) -> RegressionResultsWrapper:
    """``statsmodels.formula.api.ols(formula, frame).fit()`` after the size and rank checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularMatrixWarning)  # _check_rank turns it into an error
        fit = smf.ols(formula, frame).fit()
    check_size(int(fit.nobs), len(fit.params), what)
    _check_rank(fit, list(fit.params.index), what)
    return fit


def _check_rank(fit: RegressionResultsWrapper, terms: Sequence[str], what: str) -> None:
    if fit.model.rank < len(terms):
        raise AnalysisError(f"{what}: collinear predictors (design rank {fit.model.rank} < {len(terms)} terms "
                            f"{list(terms)})")


def coefficients(fit: RegressionResultsWrapper, terms: Sequence[str],
                 labels: Sequence[str]) -> tuple[Coefficient, ...]:
    """One :class:`Coefficient` per term: params, bse, ``conf_int(0.05)`` (t-based) and pvalues."""
    params, bse, pvalues = (np.asarray(v, dtype=float) for v in (fit.params, fit.bse, fit.pvalues))
    ci = np.asarray(fit.conf_int(alpha=CI_ALPHA), dtype=float)
    return tuple(
        Coefficient(term=term, label=label, beta=float(params[i]), se=float(bse[i]), ci_low=float(ci[i, 0]),
                    ci_high=float(ci[i, 1]), p=float(pvalues[i]))
        for i, (term, label) in enumerate(zip(terms, labels, strict=True))
    )


def r_aic(fit: RegressionResultsWrapper) -> float:
    """AIC as R's ``AIC(lm)``: ``-2 logLik + 2 (k + 1)``, k coefficients plus the residual variance."""
    return float(-2.0 * fit.llf + 2.0 * (len(fit.params) + 1))


def indicator(values: pd.Series, reference: Any, column: str) -> tuple[list[Any], np.ndarray]:
    """Treatment coding of a categorical column: the non-reference levels and one 0/1 column per level.

    Levels are sorted by their text. Raises AnalysisError when the reference level is absent or is the
    only level present (the dummy would be constant).
    """
    raw = values.to_numpy(dtype=object)
    levels = sorted(set(raw.tolist()), key=str)
    if reference not in levels:
        raise AnalysisError(f"reference level {reference!r} of {column!r} is absent; levels present: {levels}")
    others = [level for level in levels if level != reference]
    if not others:
        raise AnalysisError(f"{column!r} has only the level {reference!r} in the {raw.size} analysed rows")
    return others, np.column_stack([(raw == level).astype(float) for level in others])


def label_of(column: str, labels: Mapping[str, str] | None) -> str:
    """Display label of a column: ``labels[column]`` when given, else the column name."""
    return (labels or {}).get(column, column)
