"""Descriptives and k-group comparison as in the BMFF paper, and WHO bone-density categories.

Decision rule (paper, section 2.9): a group is *normal* when the Anderson-Darling test does not reject
normality at the 5 % level, i.e. its P (``statsmodels.stats.diagnostic.normal_ad``, the P that GraphPad Prism
reports) is >= 0.05. Normal data are reported as mean +/- SEM and, when every group is normal, compared by
one-way ANOVA with Šídák post-tests on the pooled residual mean square (Prism's method); otherwise data are
reported as median [IQR] and compared by Kruskal-Wallis with Dunn's test (also when normal groups meet
non-normal ones).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats
from statsmodels.stats.diagnostic import normal_ad

from analysis.posthoc import SIDAK_POOLED, family_pairs, sidak_adjust, t_test
from analysis.results import Description, GroupComparison, PairwiseComparison
from analysis.validation import AnalysisError, ArrayLike, as_vector, is_constant, require_rows

AD_MIN_N = 8  # below this the Anderson-Darling P is not computed (GraphPad Prism: n >= 8)
AD_LEVEL = 5.0  # significance level (%) of the normality decision
AD_ALPHA = AD_LEVEL / 100.0
DUNN_ADJUSTMENTS = ("bonferroni", "sidak")
WHO_CATEGORIES = ("normal", "osteopaenia", "osteoporosis")


def describe(values: ArrayLike, name: str = "values") -> Description:
    """Anderson-Darling normality decision plus both summaries of one variable.

    Input: a numeric vector (NaN = missing, dropped and counted in ``n_missing``); at least 2 values.
    Output: :class:`Description` with mean, SD (ddof=1), SEM = SD / sqrt(n), median and quartiles
    (``numpy.percentile``, linear interpolation = Hyndman-Fan type 7, the R and pandas default), the
    Anderson-Darling A2 (mean and SD estimated, ddof=1) and its P from
    ``statsmodels.stats.diagnostic.normal_ad``, and ``normal = ad_p >= 0.05``.

    Why the P and not scipy's critical value: both libraries compute the same A2, but they correct it for
    sample size differently. ``normal_ad`` converts A2* = A2 (1 + 0.75/n + 2.25/n^2) to a P (D'Agostino &
    Stephens 1986), so it calls a sample normal when A2 < 0.7532 / (1 + 0.75/n + 2.25/n^2);
    ``scipy.stats.anderson`` compares A2 with 0.787 / (1 + 4/n - 25/n^2) rounded to 3 decimals (Stephens
    1974). The thresholds cross between n = 9 and 10 and between n = 61 and 62: for 10 <= n <= 61 scipy is
    the stricter (n = 20: 0.692 vs 0.722), outside it normal_ad (n = 8: 0.667 vs 0.709; n = 200: 0.750 vs
    0.772). On normal samples about 0.5-1 % get opposite decisions at n = 8-30 or n >= 200, fewer near the
    crossings. Prism reports a P, so the P decides; scipy's value stays in ``ad_critical_5pct`` for reference.
    With fewer than 8 values, or constant values, normality is not tested: ``normal`` is False (the
    variable is then summarised as median [IQR] and compared non-parametrically) and ``note`` says why.
    """
    vector = as_vector(values, name)
    x = vector[~np.isnan(vector)]
    require_rows(x.size, 2, f"describing {name}")
    normal, statistic, p, critical, note = _anderson_darling(x)
    sd = float(x.std(ddof=1))
    q1, median, q3 = (float(q) for q in np.percentile(x, [25, 50, 75]))
    return Description(
        n=int(x.size), n_missing=int(vector.size - x.size), normal=normal, ad_statistic=statistic,
        ad_critical_5pct=critical, mean=float(x.mean()), sd=sd, sem=sd / float(np.sqrt(x.size)),
        median=median, q1=q1, q3=q3, note=note, ad_p=p,
    )


def _anderson_darling(x: np.ndarray) -> tuple[bool, float, float, float, str]:
    """(normal, A2, P, scipy's 5 % critical value, note), or untested with a reason."""
    if x.size < AD_MIN_N:
        return False, np.nan, np.nan, np.nan, f"n = {x.size} < {AD_MIN_N}: normality not tested, median [IQR] reported"
    if is_constant(x):
        return False, np.nan, np.nan, np.nan, "constant values: normality not tested, median [IQR] reported"
    statistic, p = (float(v) for v in normal_ad(x))
    scipy_result = stats.anderson(x, dist="norm")
    critical = float(scipy_result.critical_values[list(scipy_result.significance_level).index(AD_LEVEL)])
    return p >= AD_ALPHA, statistic, p, critical, ""


def compare_groups(groups: Mapping[str, ArrayLike], *, dunn_adjust: str = "bonferroni",
                   control: str | None = None) -> GroupComparison:
    """Compare k >= 2 independent groups the way the BMFF paper (GraphPad Prism) does.

    Input: ``{group name: values}`` (NaN dropped per group; each group needs >= 2 values). ``control``: the
    name of a control group to compare every other group with (m = k - 1 comparisons, as the paper's Table 1:
    control vs osteopaenia, control vs osteoporosis); None compares all pairs in input order (m = k (k-1)/2).
    Output: :class:`GroupComparison`.
    - every group normal: ``scipy.stats.f_oneway``, then for each comparison Šídák on the pooled residual
      (posthoc 'sidak (pooled MS, df N-k)'): MS_within = sum of squares about each group's mean / (N - k),
      t = (mean_a - mean_b) / sqrt(MS_within (1/n_a + 1/n_b)), two-sided P from t with N - k df,
      p_adj = 1 - (1 - p)^m. Run whether or not the ANOVA is significant, as Prism does;
    - otherwise: ``scipy.stats.kruskal`` and ``scikit_posthocs.posthoc_dunn`` (tie-corrected z) with
      ``dunn_adjust``: 'bonferroni' (Dunn 1964, as GraphPad Prism reports) or 'sidak', over the m of the family.
    Raises AnalysisError with fewer than 2 groups, a group below 2 values, all values identical, an unknown
    ``dunn_adjust`` or a ``control`` that is not a group.
    """
    if dunn_adjust not in DUNN_ADJUSTMENTS:
        raise AnalysisError(f"dunn_adjust must be one of {DUNN_ADJUSTMENTS}, got {dunn_adjust!r}")
    if len(groups) < 2:
        raise AnalysisError(f"group comparison needs at least 2 groups, got {len(groups)}")
    names = tuple(str(name) for name in groups)
    pairs = family_pairs(names, None if control is None else str(control))
    descriptions = tuple(describe(values, f"group {name}") for name, values in zip(names, groups.values(),
                                                                                    strict=True))
    samples = [_present(values, name) for name, values in zip(names, groups.values(), strict=True)]
    if is_constant(np.concatenate(samples)):
        raise AnalysisError("all values are identical across the groups: no comparison possible")
    family = {"names": names, "groups": descriptions, "control": "" if control is None else str(control)}
    if not all(d.normal for d in descriptions):
        statistic, p = stats.kruskal(*samples)
        return GroupComparison(test="kruskal", statistic=float(statistic), p=float(p), posthoc=f"dunn {dunn_adjust}",
                               pairwise=_dunn(names, samples, pairs, dunn_adjust), **family)
    statistic, p = stats.f_oneway(*samples)
    ms_within, df_within = _pooled_residual(samples)
    return GroupComparison(test="anova", statistic=float(statistic), p=float(p), posthoc=SIDAK_POOLED,
                           pairwise=_sidak_pooled(names, samples, pairs, ms_within, df_within),
                           ms_within=ms_within, df_within=df_within, **family)


def _present(values: ArrayLike, name: str) -> np.ndarray:
    vector = as_vector(values, f"group {name}")
    return vector[~np.isnan(vector)]


def _pooled_residual(samples: list[np.ndarray]) -> tuple[float, float]:
    """(MS_within, N - k): the one-way ANOVA's residual mean square, shared by every post-test."""
    df = float(sum(s.size for s in samples) - len(samples))
    return float(sum(((s - s.mean()) ** 2).sum() for s in samples)) / df, df


def _sidak_pooled(names: tuple[str, ...], samples: list[np.ndarray], pairs: list[tuple[int, int]],
                  ms_within: float, df: float) -> tuple[PairwiseComparison, ...]:
    """Šídák over the family, each t on the pooled MS_within (not on the two groups' own variances)."""
    rows = []
    for i, j in pairs:
        difference = float(samples[i].mean() - samples[j].mean())
        se = float(np.sqrt(ms_within * (1 / samples[i].size + 1 / samples[j].size)))
        rows.append((i, j, difference, se, *t_test(difference, se, df)))
    adjusted = sidak_adjust([row[-1] for row in rows])
    return tuple(PairwiseComparison(names[i], names[j], p, float(q), SIDAK_POOLED, difference=d, se=se,
                                    statistic=float(t), df=df)
                 for (i, j, d, se, t, p), q in zip(rows, adjusted, strict=True))


def _dunn(names: tuple[str, ...], samples: list[np.ndarray], pairs: list[tuple[int, int]],
          adjust: str) -> tuple[PairwiseComparison, ...]:
    """Dunn's test via scikit-posthocs: raw P per pair, adjusted over the family's m comparisons.

    All pairs: scikit-posthocs adjusts (m = k (k-1)/2). Control family: the same raw P adjusted over k - 1,
    because scikit-posthocs would count every pair.
    """
    frame = pd.DataFrame({
        "value": np.concatenate(samples),
        "group": np.repeat(np.arange(len(samples)), [s.size for s in samples]),
    })
    raw_table = sp.posthoc_dunn(frame, val_col="value", group_col="group", p_adjust=None)
    raw = [float(raw_table.loc[i, j]) for i, j in pairs]
    if len(pairs) == len(names) * (len(names) - 1) // 2:
        table = sp.posthoc_dunn(frame, val_col="value", group_col="group", p_adjust=adjust)
        adjusted = [float(table.loc[i, j]) for i, j in pairs]
    elif adjust == "sidak":
        adjusted = [float(q) for q in sidak_adjust(raw)]
    else:
        adjusted = [min(1.0, p * len(pairs)) for p in raw]
    return tuple(PairwiseComparison(names[i], names[j], p, q, f"dunn {adjust}")
                 for (i, j), p, q in zip(pairs, raw, adjusted, strict=True))


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
