"""Result types of the two-factor models (two-way ANOVA, mixed-effects model): frozen dataclasses with the
same contract as ``analysis.results`` (``as_dict()``, ``to_rows()``; add fields, do not rename them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from analysis.results import _Result, json_safe


@dataclass(frozen=True)
class EffectTest(_Result):
    """Overall test of one model term (a factor or the interaction).

    Two-way ANOVA: ``test`` = 'F', ``statistic`` = F with ``df_num`` and ``df_den`` (residual df), and the
    term's ``sum_sq``. Mixed model: ``test`` = 'Wald chi2' (``statistic`` = chi2 with ``df_num``; ``df_den``
    and ``sum_sq`` are NaN).
    """

    term: str
    test: str
    statistic: float
    df_num: float
    df_den: float
    p: float
    sum_sq: float = math.nan


@dataclass(frozen=True)
class CellSummary(_Result):
    """One cell (level of factor A x level of factor B): raw n, mean, SD, SEM and the model's fitted mean."""

    level_a: str
    level_b: str
    n: int
    mean: float
    sd: float
    sem: float
    fitted: float


@dataclass(frozen=True)
class CellComparison(_Result):
    """One Šídák post-test: ``level_a`` vs ``level_b`` of the compared factor at one level (``within``) of the other.

    ``difference`` = fitted mean of level_a - fitted mean of level_b; ``se`` from the model's covariance of
    the fixed effects; ``statistic`` = difference / se, P from t with ``df`` (NaN: from the standard normal).
    """

    within: str
    level_a: str
    level_b: str
    difference: float
    se: float
    statistic: float
    df: float
    p_raw: float
    p_adjusted: float
    method: str


class _TwoFactor(_Result):
    """Shared rows for two-factor results: one row per term, and one per post-test.

    The annotations only tell type checkers what the dataclasses below define (a plain mixin's annotations
    do not become dataclass fields).
    """

    dependent: str
    n: int
    n_dropped: int
    terms: tuple[EffectTest, ...]
    compared: str
    within_factor: str
    posthoc: str
    comparisons: tuple[CellComparison, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat row per overall test (term), each carrying the model's size and post-test method."""
        head = {"dependent": self.dependent, "n": self.n, "n_dropped": self.n_dropped, "posthoc": self.posthoc}
        return [json_safe({**head, **term.as_dict()}) for term in self.terms]

    def comparison_rows(self) -> list[dict[str, Any]]:
        """One flat row per post-test, each naming the compared factor and the factor it is compared within."""
        head = {"compared": self.compared, "within_factor": self.within_factor}
        return [json_safe({**head, **c.as_dict()}) for c in self.comparisons]

    def term(self, name: str) -> EffectTest | None:
        """The overall test of a term ('region', 'sex', 'region:sex'), or None when the model lacks it."""
        return next((t for t in self.terms if t.term == name), None)


@dataclass(frozen=True)
class TwoWayAnova(_TwoFactor):
    """Two-way ANOVA ``dependent ~ A * B`` (or ``A + B``) with Šídák post-tests on the pooled residual.

    ``typ`` is the sums-of-squares type (3 = GraphPad Prism's, 2 = statsmodels' default; equal when the
    design is balanced). ``residual_ms`` / ``residual_df`` are the pooled residual every post-test uses.
    Post-tests compare the levels of ``compared`` at each level of ``within_factor``, one family over all of
    them (m = levels of within_factor x pairs), against ``control`` when it is set.
    """

    dependent: str
    factors: tuple[str, str]
    n: int
    n_dropped: int
    typ: int
    interaction: bool
    terms: tuple[EffectTest, ...]
    residual_ms: float
    residual_df: float
    cells: tuple[CellSummary, ...]
    compared: str
    within_factor: str
    control: str
    posthoc: str
    comparisons: tuple[CellComparison, ...]


@dataclass(frozen=True)
class MixedModelFit(_TwoFactor):
    """Mixed-effects model ``dependent ~ A * B`` with a random intercept per subject (REML), Prism style.

    Repeated measurements within a subject (e.g. four regions) share the subject's intercept, whose variance
    is ``subject_variance``; ``residual_variance`` is the pooled within-subject residual. Terms are Wald
    chi2 tests of the sum-coded (type III) fixed effects. Post-tests as :class:`TwoWayAnova`, with standard
    errors from the fixed effects' covariance and P from the standard normal (``df`` NaN), as statsmodels
    reports its Wald tests. ``notes`` carries convergence and boundary warnings.
    """

    dependent: str
    factors: tuple[str, str]
    subject: str
    n: int
    n_subjects: int
    n_dropped: int
    terms: tuple[EffectTest, ...]
    residual_variance: float
    subject_variance: float
    log_likelihood: float
    converged: bool
    cells: tuple[CellSummary, ...]
    compared: str
    within_factor: str
    control: str
    posthoc: str
    comparisons: tuple[CellComparison, ...]
    notes: tuple[str, ...] = ()
