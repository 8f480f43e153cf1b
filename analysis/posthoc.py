"""Multiple-comparison pieces shared by one-way ANOVA, two-way ANOVA and the mixed model (GraphPad Prism style).

Prism's Šídák test after an ANOVA is not a set of separate two-group t-tests: every comparison uses the
model's pooled residual variance (one-way: MS_within with df = N - k) and is then Šídák-adjusted over the m
comparisons of its family, ``p_adj = 1 - (1 - p)^m``. A family is either all pairs (m = k (k - 1) / 2) or
each group against one control group (m = k - 1), as the BMFF paper's Table 1 (control vs osteopaenia,
control vs osteoporosis).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import stats

from analysis.validation import AnalysisError

SIDAK_POOLED = "sidak (pooled MS, df N-k)"


def sidak_adjust(p: Sequence[float] | np.ndarray, m: int | None = None) -> np.ndarray:
    """Šídák-adjusted P: ``1 - (1 - p)^m`` with m = ``len(p)`` unless given.

    Computed as ``-expm1(m * log1p(-p))`` (as statsmodels' ``multipletests``) so that tiny P keep their
    precision: plain ``1 - (1 - 1e-15)^3`` gives 2.9976e-15, not 3e-15, because 1 - p is rounded first.
    """
    raw = np.asarray(p, dtype=float)
    family = raw.size if m is None else m
    return -np.expm1(family * np.log1p(-raw))


def family_pairs(names: Sequence[str], control: str | None = None) -> list[tuple[int, int]]:
    """Index pairs of one comparison family: all pairs in input order, or (control, other) for each other.

    Raises AnalysisError when ``control`` is not one of ``names``.
    """
    if control is None:
        return list(itertools.combinations(range(len(names)), 2))
    if control not in names:
        raise AnalysisError(f"control group {control!r} is not one of {tuple(names)}")
    first = list(names).index(control)
    return [(first, other) for other in range(len(names)) if other != first]


def t_test(difference: float, se: float, df: float | None) -> tuple[float, float]:
    """(statistic, two-sided P) of ``difference / se``: Student t with ``df``, standard normal when df is None."""
    statistic = difference / se
    if df is None:
        return statistic, float(2 * stats.norm.sf(abs(statistic)))
    return statistic, float(2 * stats.t.sf(abs(statistic), df))
