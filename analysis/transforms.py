"""Transforms of a dependent variable before regression."""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.validation import AnalysisError, ArrayLike, as_vector, require_rows

BLOM_K = 3.0 / 8.0  # RNOmni::RankNorm default offset


def rank_inverse_normal(values: ArrayLike, k: float = BLOM_K) -> np.ndarray:
    """Rank-based inverse normal transform (RNOmni ``RankNorm`` convention, Blom offset by default).

    Formula: ``z_i = Phi^-1((r_i - k) / (n - 2k + 1))`` with ``r_i`` the rank among the n non-missing values;
    for k = 3/8 this is Blom's ``(r - 3/8) / (n + 1/4)``. Ties get their average rank
    (``scipy.stats.rankdata(method='average')``, as R's ``rank`` default that RankNorm uses), so tied values
    map to the same z. NaN stays NaN and does not count in n. Output: a float array of the input's length.
    Raises AnalysisError with fewer than 2 non-missing values or when k is outside [0, 0.5].
    """
    vector = as_vector(values, "values")
    if not 0.0 <= k <= 0.5:
        raise AnalysisError(f"offset k must lie in [0, 0.5], got {k}")
    present = ~np.isnan(vector)
    n = int(present.sum())
    require_rows(n, 2, "rank-based inverse normal transform")
    ranks = stats.rankdata(vector[present], method="average")
    out = np.full(vector.shape, np.nan)
    out[present] = stats.norm.ppf((ranks - k) / (n - 2.0 * k + 1.0))
    return out
