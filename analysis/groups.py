"""Descriptives and k-group comparison as in the BMFF paper, and WHO bone-density categories.

Decision rule (paper, section 2.10): a group is *normal* when the Anderson-Darling test does not reject
normality at the 5 % level. Normal data are reported as mean +/- SEM and, when every group is normal, compared
by one-way ANOVA with Sidak-corrected pairwise t-tests; otherwise data are reported as median [IQR] and
compared by Kruskal-Wallis with Dunn's test (also when normal groups meet non-normal ones).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.results import Description, GroupComparison, PairwiseComparison
from analysis.validation import AnalysisError, ArrayLike, as_vector, is_constant, require_rows

AD_MIN_N = 8  # below this the Anderson-Darling critical values are not tabulated (GraphPad Prism: n >= 8)
AD_LEVEL = 5.0  # significance level (%) of the normality decision
DUNN_ADJUSTMENTS = ("bonferroni", "sidak")
WHO_CATEGORIES = ("normal", "osteopaenia", "osteoporosis")


def describe(values: ArrayLike, name: str = "values") -> Description:
    """Anderson-Darling normality decision plus both summaries of one variable.

    Input: a numeric vector (NaN = missing, dropped and counted in ``n_missing``); at least 2 values.
    Output: :class:`Description` with mean, SD (ddof=1), SEM = SD / sqrt(n), median and quartiles
    (``numpy.percentile``, linear interpolation = Hyndman-Fan type 7, the R and pandas default), and
    ``normal`` = ``scipy.stats.anderson(x, 'norm').statistic <= critical value at 5 %`` (scipy's
    Stephens 1974 table: A2 against 0.787 / (1 + 4/n - 25/n^2)).
    With fewer than 8 values, or constant values, normality is not tested: ``normal`` is False (the
    variable is then summarised as median [IQR] and compared non-parametrically) and ``note`` says why.
    """
    vector = as_vector(values, name)
    x = vector[~np.isnan(vector)]
    require_rows(x.size, 2, f"describing {name}")
    normal, statistic, critical, note = _anderson_darling(x)
    sd = float(x.std(ddof=1))
    q1, median, q3 = (float(q) for q in np.percentile(x, [25, 50, 75]))
    return Description(
        n=int(x.size), n_missing=int(vector.size - x.size), normal=normal, ad_statistic=statistic,
        ad_critical_5pct=critical, mean=float(x.mean()), sd=sd, sem=sd / float(np.sqrt(x.size)),
        median=median, q1=q1, q3=q3, note=note,
    )


def _anderson_darling(x: np.ndarray) -> tuple[bool, float, float, str]:
    """(normal, statistic, 5 % critical value, note) from scipy.stats.anderson, or untested with a reason."""
    if x.size < AD_MIN_N:
        return False, np.nan, np.nan, f"n = {x.size} < {AD_MIN_N}: normality not tested, median [IQR] reported"
    if is_constant(x):
        return False, np.nan, np.nan, "constant values: normality not tested, median [IQR] reported"
    result = stats.anderson(x, dist="norm")
    critical = float(result.critical_values[list(result.significance_level).index(AD_LEVEL)])
    statistic = float(result.statistic)
    return statistic <= critical, statistic, critical, ""


def compare_groups(groups: Mapping[str, ArrayLike], *, dunn_adjust: str = "bonferroni") -> GroupComparison:
    """Compare k >= 2 independent groups the way the BMFF paper does.

    Input: ``{group name: values}`` (NaN dropped per group; each group needs >= 2 values).
    Output: :class:`GroupComparison`.
    - every group normal: ``scipy.stats.f_oneway`` and, for each pair in input order,
      ``scipy.stats.ttest_ind`` (Student, equal variances) adjusted with
      ``statsmodels.stats.multitest.multipletests(method='sidak')``: p_adj = 1 - (1 - p)^m, m pairs;
    - otherwise: ``scipy.stats.kruskal`` and ``scikit_posthocs.posthoc_dunn`` (tie-corrected z) with
      ``p_adjust=dunn_adjust``: 'bonferroni' (Dunn 1964, as GraphPad Prism reports) or 'sidak'.
    Raises AnalysisError with fewer than 2 groups, a group below 2 values, all values identical, or an
    unknown ``dunn_adjust``.
    """
    if dunn_adjust not in DUNN_ADJUSTMENTS:
        raise AnalysisError(f"dunn_adjust must be one of {DUNN_ADJUSTMENTS}, got {dunn_adjust!r}")
    if len(groups) < 2:
        raise AnalysisError(f"group comparison needs at least 2 groups, got {len(groups)}")
    names = tuple(str(name) for name in groups)
    descriptions = tuple(describe(values, f"group {name}") for name, values in zip(names, groups.values(),
                                                                                    strict=True))
    samples = [_present(values, name) for name, values in zip(names, groups.values(), strict=True)]
    if is_constant(np.concatenate(samples)):
        raise AnalysisError("all values are identical across the groups: no comparison possible")
    if all(d.normal for d in descriptions):
        test, statistic, p = "anova", *stats.f_oneway(*samples)
        posthoc = "sidak t-test"
        pairwise = _sidak_t_tests(names, samples)
    else:
        test, statistic, p = "kruskal", *stats.kruskal(*samples)
        posthoc = f"dunn {dunn_adjust}"
        pairwise = _dunn(names, samples, dunn_adjust)
    return GroupComparison(test=test, statistic=float(statistic), p=float(p), posthoc=posthoc, names=names,
                           groups=descriptions, pairwise=pairwise)


def _present(values: ArrayLike, name: str) -> np.ndarray:
    vector = as_vector(values, f"group {name}")
    return vector[~np.isnan(vector)]


def _pairs(names: tuple[str, ...]) -> list[tuple[int, int]]:
    return list(itertools.combinations(range(len(names)), 2))


def _sidak_t_tests(names: tuple[str, ...], samples: list[np.ndarray]) -> tuple[PairwiseComparison, ...]:
    """Pairwise Student t-tests, Sidak-adjusted over all pairs."""
    pairs = _pairs(names)
    raw = [float(stats.ttest_ind(samples[i], samples[j]).pvalue) for i, j in pairs]
    adjusted = multipletests(raw, method="sidak")[1]
    return tuple(PairwiseComparison(names[i], names[j], p, float(q), "sidak t-test")
                 for (i, j), p, q in zip(pairs, raw, adjusted, strict=True))


def _dunn(names: tuple[str, ...], samples: list[np.ndarray], adjust: str) -> tuple[PairwiseComparison, ...]:
    """Dunn's test via scikit-posthocs, raw and adjusted P for every pair."""
    frame = pd.DataFrame({
        "value": np.concatenate(samples),
        "group": np.repeat(np.arange(len(samples)), [s.size for s in samples]),
    })
    raw = sp.posthoc_dunn(frame, val_col="value", group_col="group", p_adjust=None)
    adjusted = sp.posthoc_dunn(frame, val_col="value", group_col="group", p_adjust=adjust)
    return tuple(PairwiseComparison(names[i], names[j], float(raw.loc[i, j]), float(adjusted.loc[i, j]),
                                    f"dunn {adjust}") for i, j in _pairs(names))


def who_category(t_scores: ArrayLike) -> pd.Series:
    """WHO bone-density category per T-score.

    Rule: T <= -2.5 'osteoporosis'; -2.5 < T <= -1.0 'osteopaenia'; T > -1.0 'normal'; NaN stays missing.
    Input: numeric T-scores (a Series keeps its index). Output: a categorical Series with categories
    ``WHO_CATEGORIES`` (normal, osteopaenia, osteoporosis). Raises AnalysisError on infinite or text values.
    """
    vector = as_vector(t_scores, "T-score")
    codes = np.select([vector <= -2.5, vector <= -1.0, vector > -1.0], [2, 1, 0], default=-1)  # NaN: -1
    index = t_scores.index if isinstance(t_scores, pd.Series) else None
    category = pd.Categorical.from_codes(codes, categories=WHO_CATEGORIES)
    return pd.Series(category, index=index, name="who_category")
