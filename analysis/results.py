"""Stable result types: frozen dataclasses that pages, the API and CSV exports render without recomputing.

Every type has ``as_dict()`` (nested, JSON-safe: NaN becomes ``None``, NumPy scalars become Python numbers)
and ``to_rows()`` (flat dictionaries, one per CSV line, same JSON-safe values). Field names are part of the
public contract; add fields, do not rename them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.validation import as_vector


def json_safe(value: Any) -> Any:
    """Convert NumPy scalars to Python numbers and NaN to None, recursing into dicts, lists and tuples."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class _Result:
    """Mixin: ``as_dict`` (nested) and ``to_rows`` (one flat row) for frozen dataclasses."""

    def as_dict(self) -> dict[str, Any]:
        """All fields as a nested JSON-safe dictionary."""
        return json_safe(dataclasses.asdict(self))  # type: ignore[call-overload]

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat row holding every scalar field (tuples are joined with '; ')."""
        row = self.as_dict()
        return [{key: "; ".join(map(str, value)) if isinstance(value, list) else value for key, value in row.items()}]


def stars(p: float) -> str:
    """Significance stars as in the BMFF paper: '***' p < 0.001, '**' p < 0.01, '*' p < 0.05, else ''."""
    if math.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


# --- method agreement -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementResult(_Result):
    """Agreement of a test method with a reference on the same subjects (liver paper, Table 1).

    Differences are ``reference - test`` (first named minus second, as in the paper's Fig. 2), so a positive
    ``bias`` means the test method reads low. ``sensitivity``/``specificity`` are fractions (0-1).
    ``notes`` explains every NaN (constant input, one class only at the threshold).
    """

    n: int
    n_dropped: int
    bias: float
    sd_difference: float
    mae: float
    r2: float
    pearson_r: float
    pearson_p: float
    loa_lower: float
    loa_upper: float
    threshold: float
    roc_auc: float
    sensitivity: float
    specificity: float
    n_positive: int
    n_negative: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorCorrelation(_Result):
    """Pearson correlation between the errors ``a - reference`` and ``b - reference``.

    ``bias`` and the limits of agreement describe ``error_a - error_b`` (= ``a - b``), as the paper's
    "r = 0.715 with LoA -1.9 to 2.0".
    """

    n: int
    n_dropped: int
    r: float
    p: float
    bias: float
    sd_difference: float
    loa_lower: float
    loa_upper: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinearCalibration(_Result):
    """Straight-line correction ``reference ~ intercept + slope * raw``, fitted once and applied elsewhere."""

    slope: float
    intercept: float
    n: int
    n_dropped: int
    r2: float

    def apply(self, raw: Any) -> np.ndarray:
        """Return ``intercept + slope * raw`` as a float array (NaN stays NaN)."""
        return self.intercept + self.slope * as_vector(raw, "raw")


# --- descriptives and group comparison --------------------------------------------------------------------


@dataclass(frozen=True)
class Description(_Result):
    """Summary of one variable: Anderson-Darling decision, mean +/- SEM and median [IQR].

    ``normal`` is the 5 % Anderson-Darling decision ``ad_p >= 0.05`` (``statsmodels.stats.diagnostic.normal_ad``
    P, the figure GraphPad Prism reports); False when it could not be tested (``note`` says why).
    ``ad_critical_5pct`` is scipy's tabulated critical value, kept for reference only: on a small share of
    samples the two conventions disagree (see :func:`analysis.groups.describe`).
    ``summary`` is what the paper prints: mean +/- SEM when normal, else median [Q1, Q3].
    """

    n: int
    n_missing: int
    normal: bool
    ad_statistic: float
    ad_critical_5pct: float
    mean: float
    sd: float
    sem: float
    median: float
    q1: float
    q3: float
    note: str = ""
    ad_p: float = math.nan

    def summary(self, decimals: int = 2) -> str:
        """'mean ± SEM' when normal, else 'median [Q1, Q3]', rounded to ``decimals``."""
        if self.normal:
            return f"{self.mean:.{decimals}f} ± {self.sem:.{decimals}f}"
        return f"{self.median:.{decimals}f} [{self.q1:.{decimals}f}, {self.q3:.{decimals}f}]"


@dataclass(frozen=True)
class PairwiseComparison(_Result):
    """One post-hoc comparison between two groups: raw and multiplicity-adjusted P.

    After ANOVA (Šídák on the pooled MS): ``difference`` = mean(group_a) - mean(group_b), ``se`` =
    sqrt(MS_within (1/n_a + 1/n_b)), ``statistic`` = t and ``df`` = N - k. After Kruskal-Wallis (Dunn) these
    four are NaN. In a control family ``group_a`` is the control.
    """

    group_a: str
    group_b: str
    p_raw: float
    p_adjusted: float
    method: str
    difference: float = math.nan
    se: float = math.nan
    statistic: float = math.nan
    df: float = math.nan


@dataclass(frozen=True)
class GroupComparison(_Result):
    """k-group comparison: ANOVA + Šídák (pooled MS) when every group is normal, else Kruskal-Wallis + Dunn.

    ``posthoc`` names the method that ran, e.g. 'sidak (pooled MS, df N-k)' or 'dunn bonferroni'.
    ``control`` is the control group of a control family ('' = all pairs). ``ms_within`` and ``df_within``
    are the pooled residual mean square and its df (N - k) after ANOVA, NaN after Kruskal-Wallis.
    """

    test: str
    statistic: float
    p: float
    posthoc: str
    names: tuple[str, ...]
    groups: tuple[Description, ...]
    pairwise: tuple[PairwiseComparison, ...]
    control: str = ""
    ms_within: float = math.nan
    df_within: float = math.nan

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per group: name, its description and summary, and the overall test."""
        overall = {"test": self.test, "statistic": self.statistic, "p": self.p, "posthoc": self.posthoc}
        rows = []
        for name, description in zip(self.names, self.groups, strict=True):
            row = {"group": name, **description.as_dict(), "summary": description.summary(), **overall}
            rows.append(json_safe(row))
        return rows


# --- regression ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coefficient(_Result):
    """One model term: beta, standard error, 95 % CI and P (t distribution with the residual df)."""

    term: str
    label: str
    beta: float
    se: float
    ci_low: float
    ci_high: float
    p: float

    @property
    def stars(self) -> str:
        """Paper significance stars for ``p``."""
        return stars(self.p)


@dataclass(frozen=True)
class UnivariableRow(_Result):
    """One row of Table 4 / Supplemental Tables 1-5: ``dependent ~ explanatory`` in one sex stratum.

    ``stratum`` is 'Both' (all subjects, pooled fit ``y ~ x``) or a sex label (fit within that sex).
    ``p_interaction`` is P of ``x:sex`` from ``y ~ x * sex`` on the 'Both' row, NaN on stratified rows.
    ``significant`` compares ``p`` with the family's Bonferroni-adjusted alpha.
    """

    explanatory: str
    dependent: str
    stratum: str
    n: int
    n_dropped: int
    beta: float
    ci_low: float
    ci_high: float
    adj_r2: float
    p: float
    p_interaction: float
    significant: bool


@dataclass(frozen=True)
class UnivariableFamily(_Result):
    """A family of univariable tests with its Bonferroni alpha (``alpha / n_tests``)."""

    rows: tuple[UnivariableRow, ...]
    n_tests: int
    alpha: float
    adjusted_alpha: float
    interaction_alpha: float

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat row per table row, each carrying the family's alphas."""
        family = {"n_tests": self.n_tests, "alpha": self.alpha, "adjusted_alpha": self.adjusted_alpha,
                  "interaction_alpha": self.interaction_alpha}
        return [json_safe({**row.as_dict(), **family}) for row in self.rows]


@dataclass(frozen=True)
class ModelFit(_Result):
    """One multivariable OLS model: fit statistics and its coefficients (intercept first).

    ``residual_sd`` is ``sqrt(SSR / (n - k))``. ``aic`` follows R's ``AIC(lm)`` (as finalfit reports):
    ``-2 logLik + 2 (k + 1)`` with k coefficients including the intercept, the +1 counting the residual
    variance; it is statsmodels' ``aic + 2``.
    """

    name: str
    dependent: str
    n: int
    n_dropped: int
    r2: float
    adj_r2: float
    aic: float
    log_likelihood: float
    residual_sd: float
    coefficients: tuple[Coefficient, ...]

    def coefficient(self, label: str) -> Coefficient | None:
        """The coefficient with this display label (or term name), or None when the model lacks it."""
        return next((c for c in self.coefficients if label in (c.label, c.term)), None)

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per coefficient, each carrying the model's fit statistics."""
        head = {"model": self.name, "dependent": self.dependent, "n": self.n, "n_dropped": self.n_dropped,
                "r2": self.r2, "adj_r2": self.adj_r2, "aic": self.aic}
        return [json_safe({**head, **c.as_dict(), "stars": c.stars}) for c in self.coefficients]


@dataclass(frozen=True)
class ModelSequence(_Result):
    """Tables 5-8: a sequence of models for one dependent variable, with the union of covariate labels."""

    dependent: str
    transform: str
    labels: tuple[str, ...]
    fits: tuple[ModelFit, ...] = field(default_factory=tuple)

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per (model, coefficient), each carrying the transform."""
        return [{**row, "transform": self.transform} for fit in self.fits for row in fit.to_rows()]


# --- outliers -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutlierRow(_Result):
    """One subject in the disagreement ranking: both values and ``difference = a - b``."""

    rank: int
    id: Any
    a: float
    b: float
    difference: float
    abs_difference: float


@dataclass(frozen=True)
class OutlierRanking(_Result):
    """Top-N subjects by ``|a - b|`` (ties keep input order) and how many pairs were incomplete."""

    rows: tuple[OutlierRow, ...]
    n: int
    n_dropped: int

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat row per ranked subject."""
        return [row.as_dict() for row in self.rows]

