"""Statistics engine for ukbstudy: agreement, group comparison and regression tables.

Pure functions over arrays and data frames; nothing here imports Django, so results can be checked
against trusted libraries and reused by pages, the API and exports.

Modules: ``comparison`` (method agreement, liver paper Table 1), ``groups`` (descriptives, ANOVA /
Kruskal-Wallis, WHO categories), ``twoway`` (two-way ANOVA and the mixed-effects model of the BMFF paper's
Fig. 5A), ``posthoc`` (Šídák on the pooled residual, comparison families), ``univariable``
(``y ~ x * sex`` tables), ``regression`` (multivariable model sequences), ``transforms`` (rank-based inverse
normal), ``outliers`` (top disagreements), ``results`` (stable result types), ``tables`` (paper-style text /
CSV), ``reports`` (one-call reports).
Every failure that would otherwise give a wrong number raises :class:`AnalysisError` (a ``ValueError``).
"""

from analysis.comparison import agreement, error_correlation, linear_recalibration
from analysis.groups import compare_groups, describe, who_category
from analysis.outliers import top_disagreements
from analysis.posthoc import sidak_adjust
from analysis.regression import fit_model, model_sequence
from analysis.results import (
    AgreementResult,
    Coefficient,
    Description,
    ErrorCorrelation,
    GroupComparison,
    LinearCalibration,
    ModelFit,
    ModelSequence,
    OutlierRanking,
    OutlierRow,
    PairwiseComparison,
    UnivariableFamily,
    UnivariableRow,
)
from analysis.transforms import rank_inverse_normal
from analysis.twoway import mixed_model, two_way_anova
from analysis.twoway_results import CellComparison, CellSummary, EffectTest, MixedModelFit, TwoWayAnova
from analysis.univariable import univariable, univariable_family
from analysis.validation import AnalysisError

__all__ = [
    "AgreementResult",
    "AnalysisError",
    "CellComparison",
    "CellSummary",
    "Coefficient",
    "Description",
    "EffectTest",
    "ErrorCorrelation",
    "GroupComparison",
    "LinearCalibration",
    "MixedModelFit",
    "ModelFit",
    "ModelSequence",
    "OutlierRanking",
    "OutlierRow",
    "PairwiseComparison",
    "TwoWayAnova",
    "UnivariableFamily",
    "UnivariableRow",
    "agreement",
    "compare_groups",
    "describe",
    "error_correlation",
    "fit_model",
    "linear_recalibration",
    "mixed_model",
    "model_sequence",
    "rank_inverse_normal",
    "sidak_adjust",
    "top_disagreements",
    "two_way_anova",
    "univariable",
    "univariable_family",
    "who_category",
]
