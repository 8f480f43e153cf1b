"""Multivariable OLS models and model sequences (BMFF paper Tables 5-8).

A sequence is a list of covariate lists for one dependent variable; each model reports adjusted R2, AIC
(R's convention, as finalfit) and per covariate beta (95 % CI) with significance stars. Categorical
covariates use treatment coding against a reference level and are labelled ``"<label> (<level>)"``, so the
default ``categorical={"sex": "F"}`` with ``labels={"sex": "Sex"}`` gives the paper's "Sex (M)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.ols import check_size, coefficients, complete_rows, fit_matrix, indicator, label_of, numeric_column, r_aic
from analysis.results import ModelFit, ModelSequence
from analysis.transforms import rank_inverse_normal
from analysis.validation import AnalysisError

DEFAULT_CATEGORICAL: Mapping[str, Any] = {"sex": "F"}  # female reference level, as the paper's "Sex (M)"
DEFAULT_LABELS: Mapping[str, str] = {"sex": "Sex"}
TRANSFORMS = ("none", "rint")


def fit_model(
    data: pd.DataFrame,
    dependent: str,
    covariates: Sequence[str],
    *,
    categorical: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str = "Model 1",
    transform: str = "none",
) -> ModelFit:
    """One multivariable OLS model ``dependent ~ intercept + covariates`` on its complete cases.

    Inputs: a frame; numeric covariates, or categorical ones named in ``categorical`` ({column: reference
    level}; None means ``{"sex": "F"}``); display ``labels`` ({column: label}, merged over {"sex": "Sex"});
    ``transform`` 'none' or 'rint' (rank-based inverse normal transform of the dependent over the analysed
    rows, :func:`analysis.transforms.rank_inverse_normal`). Output: :class:`ModelFit` from
    ``statsmodels.api.OLS(y, X).fit()`` (intercept first in ``coefficients``; 95 % CI t-based).
    Raises AnalysisError on absent or text columns, constant or collinear predictors, a constant dependent,
    or n <= number of parameters.
    """
    return model_sequence(data, dependent, [covariates], categorical=categorical, labels=labels, names=[name],
                          transform=transform).fits[0]


def model_sequence(
    data: pd.DataFrame,
    dependent: str,
    models: Sequence[Sequence[str]],
    *,
    categorical: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    names: Sequence[str] | None = None,
    transform: str = "none",
    common_sample: bool = True,
) -> ModelSequence:
    """Fit a sequence of models (e.g. Models 4.1-4.6) for one dependent variable.

    Inputs as :func:`fit_model`, plus ``models`` (one covariate list per model), ``names`` (default
    'Model 1', 'Model 2', ...) and ``common_sample``: True (default) fits every model on the rows complete for
    *all* variables of the sequence, so AIC values are comparable between models; False lets each model use
    its own complete cases (as R's ``lm`` would). ``n_dropped`` counts the rows each model lost.
    Output: :class:`ModelSequence` with the fits and the union of coefficient labels in first-seen order.
    """
    if transform not in TRANSFORMS:
        raise AnalysisError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    if not models:
        raise AnalysisError("model sequence needs at least one model")
    names = list(names) if names is not None else [f"Model {i}" for i in range(1, len(models) + 1)]
    if len(names) != len(models):
        raise AnalysisError(f"{len(names)} names for {len(models)} models")
    spec = _Spec(dependent, DEFAULT_CATEGORICAL if categorical is None else categorical,
                 {**DEFAULT_LABELS, **(labels or {})}, transform)
    every = [dependent, *dict.fromkeys(c for covariates in models for c in covariates)]
    shared = complete_rows(data, every) if common_sample else None
    fits = tuple(_fit(spec, complete_rows(data, [dependent, *covariates]) if shared is None else shared,
                      covariates, name) for covariates, name in zip(models, names, strict=True))
    ordered = dict.fromkeys(c.label for fit in fits for c in fit.coefficients[1:])
    return ModelSequence(dependent=label_of(dependent, spec.labels), transform=transform, labels=tuple(ordered),
                         fits=fits)


@dataclass(frozen=True)
class _Spec:
    """What every model of a sequence shares: dependent, categorical coding, labels, transform."""

    dependent: str
    categorical: Mapping[str, Any]
    labels: Mapping[str, str]
    transform: str


def _fit(spec: _Spec, selected: tuple[pd.DataFrame, int], covariates: Sequence[str], name: str) -> ModelFit:
    frame, n_dropped = selected
    if not covariates:
        raise AnalysisError(f"{name} has no covariates")
    if spec.dependent in covariates:
        raise AnalysisError(f"{name}: the dependent {spec.dependent!r} is also a covariate")
    what = f"{name} ({spec.dependent} ~ {' + '.join(covariates)})"
    check_size(len(frame), len(covariates) + 1, what)
    design, terms, labels = _design(frame, covariates, spec)
    y = numeric_column(frame, spec.dependent)
    if spec.transform == "rint":
        y = rank_inverse_normal(y)
    fit = fit_matrix(y, design, terms, what)
    return ModelFit(
        name=name, dependent=label_of(spec.dependent, spec.labels), n=int(fit.nobs), n_dropped=n_dropped,
        r2=float(fit.rsquared), adj_r2=float(fit.rsquared_adj), aic=r_aic(fit), log_likelihood=float(fit.llf),
        residual_sd=float(np.sqrt(fit.scale)),
        coefficients=coefficients(fit, terms, labels),
    )


def _design(frame: pd.DataFrame, covariates: Sequence[str], spec: _Spec) -> tuple[np.ndarray, list[str], list[str]]:
    """Design matrix (intercept first), term names and display labels for the covariates."""
    blocks = [np.ones((len(frame), 1))]
    terms = ["Intercept"]
    labels = ["Intercept"]
    for column in covariates:
        label = label_of(column, spec.labels)
        if column in spec.categorical:
            levels, dummies = indicator(frame[column], spec.categorical[column], column)
            blocks.append(dummies)
            terms += [f"{column}[{level}]" for level in levels]
            labels += [f"{label} ({level})" for level in levels]
        else:
            blocks.append(_numeric_covariate(frame, column)[:, None])
            terms.append(column)
            labels.append(label)
    return np.hstack(blocks), terms, labels


def _numeric_covariate(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric covariate; text values get an error that points at ``categorical=``."""
    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values) and pd.to_numeric(values, errors="coerce").isna().any():
        raise AnalysisError(f"covariate {column!r} is not numeric; declare a categorical covariate with "
                            f"categorical={{{column!r}: reference level}}")
    return numeric_column(frame, column)
