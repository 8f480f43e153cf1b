"""Descriptives, normality decision, k-group comparison and WHO categories."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind

from analysis import AnalysisError, compare_groups, describe, who_category


def anderson_darling_a2(x: np.ndarray) -> float:
    """A^2 for normality with estimated mean and SD (ddof=1), by Stephens' formula."""
    z = np.sort((x - x.mean()) / x.std(ddof=1))
    n, i = z.size, np.arange(1, z.size + 1)
    return float(-n - np.sum((2 * i - 1) * (stats.norm.logcdf(z) + stats.norm.logsf(z[::-1]))) / n)


def test_describe_reports_mean_sem_and_the_anderson_darling_decision(rng: np.random.Generator) -> None:
    x = rng.normal(10.0, 2.0, 200)
    result = describe(x)
    assert result.normal is True
    assert result.ad_statistic == pytest.approx(anderson_darling_a2(x), rel=1e-9)
    n = x.size
    assert result.ad_critical_5pct == pytest.approx(round(0.787 / (1 + 4 / n - 25 / n**2), 3))  # scipy's table
    assert result.mean == pytest.approx(x.mean()) and result.sem == pytest.approx(stats.sem(x))
    assert result.summary() == f"{x.mean():.2f} ± {stats.sem(x):.2f}"


def test_skewed_data_are_not_normal_and_summarised_as_median_and_iqr(rng: np.random.Generator) -> None:
    x = rng.exponential(3.0, 300)
    result = describe(x)
    q1, median, q3 = pd.Series(x).quantile([0.25, 0.5, 0.75])
    assert result.normal is False and result.ad_statistic > result.ad_critical_5pct
    assert (result.q1, result.median, result.q3) == pytest.approx((q1, median, q3))
    assert result.summary(1) == f"{median:.1f} [{q1:.1f}, {q3:.1f}]"


def test_describe_counts_missing_values() -> None:
    result = describe([1.0, np.nan, 2.0, None, 4.0])
    assert (result.n, result.n_missing) == (3, 2)


def test_normality_is_not_tested_below_eight_values() -> None:
    result = describe([1.0, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0])
    assert result.normal is False and math.isnan(result.ad_statistic)
    assert "n = 7 < 8" in result.note


def test_constant_values_are_not_called_normal() -> None:
    result = describe([2.0] * 10)
    assert result.normal is False and "constant" in result.note
    assert result.summary() == "2.00 [2.00, 2.00]"


def test_describe_needs_two_values() -> None:
    with pytest.raises(AnalysisError, match="at least 2"):
        describe([1.0, np.nan])


def normal_groups(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"Control": rng.normal(50, 5, 60), "Osteopaenic": rng.normal(53, 5, 70),
            "Osteoporotic": rng.normal(56, 5, 40)}


def test_normal_groups_get_anova_and_sidak_corrected_t_tests(rng: np.random.Generator) -> None:
    groups = normal_groups(rng)
    result = compare_groups(groups)
    frame = pd.DataFrame({"y": np.concatenate(list(groups.values())),
                          "g": np.repeat(list(groups), [v.size for v in groups.values()])})
    table = sm.stats.anova_lm(smf.ols("y ~ C(g)", frame).fit())
    assert result.test == "anova"
    assert result.statistic == pytest.approx(table.loc["C(g)", "F"], rel=1e-9)
    assert result.p == pytest.approx(table.loc["C(g)", "PR(>F)"], rel=1e-9)
    assert [(c.group_a, c.group_b) for c in result.pairwise] == list(itertools.combinations(groups, 2))
    for comparison in result.pairwise:
        p = sm_ttest_ind(groups[comparison.group_a], groups[comparison.group_b])[1]
        assert comparison.p_raw == pytest.approx(p, rel=1e-9)
        assert comparison.p_adjusted == pytest.approx(1 - (1 - p) ** 3, rel=1e-9)


def dunn_by_hand(groups: dict[str, np.ndarray]) -> dict[tuple[str, str], float]:
    """Dunn's z without ties: mean-rank difference over sqrt(N (N + 1) / 12 (1/ni + 1/nj))."""
    ranks = stats.rankdata(np.concatenate(list(groups.values())))
    pieces = np.split(ranks, np.cumsum([v.size for v in groups.values()])[:-1])
    mean_rank = {name: piece.mean() for name, piece in zip(groups, pieces, strict=True)}
    total = ranks.size
    out = {}
    for a, b in itertools.combinations(groups, 2):
        se = np.sqrt(total * (total + 1) / 12 * (1 / groups[a].size + 1 / groups[b].size))
        out[(a, b)] = 2 * stats.norm.sf(abs(mean_rank[a] - mean_rank[b]) / se)
    return out


def test_non_normal_groups_get_kruskal_wallis_and_dunn(rng: np.random.Generator) -> None:
    groups = {"A": rng.exponential(1.0, 50), "B": rng.exponential(1.6, 45), "C": rng.exponential(2.5, 55)}
    result = compare_groups(groups)
    ranks = stats.rankdata(np.concatenate(list(groups.values())))
    pieces = np.split(ranks, np.cumsum([v.size for v in groups.values()])[:-1])
    total = ranks.size
    h = 12 / (total * (total + 1)) * sum(p.sum() ** 2 / p.size for p in pieces) - 3 * (total + 1)
    assert result.test == "kruskal" and result.posthoc == "dunn bonferroni"
    assert result.statistic == pytest.approx(h, rel=1e-9)
    assert result.p == pytest.approx(stats.chi2.sf(h, 2), rel=1e-9)
    expected = dunn_by_hand(groups)
    for comparison in result.pairwise:
        p = expected[(comparison.group_a, comparison.group_b)]
        assert comparison.p_raw == pytest.approx(p, rel=1e-9)
        assert comparison.p_adjusted == pytest.approx(min(1.0, 3 * p), rel=1e-9)


def test_dunn_can_use_sidak_adjustment(rng: np.random.Generator) -> None:
    groups = {"A": rng.exponential(1.0, 50), "B": rng.exponential(1.3, 50), "C": rng.exponential(1.5, 50)}
    result = compare_groups(groups, dunn_adjust="sidak")
    for comparison in result.pairwise:
        assert comparison.p_adjusted == pytest.approx(1 - (1 - comparison.p_raw) ** 3, rel=1e-9)


def test_one_non_normal_group_switches_every_comparison_to_kruskal_wallis(rng: np.random.Generator) -> None:
    groups = normal_groups(rng)
    groups["Osteoporotic"] = rng.exponential(5.0, 40) + 50
    result = compare_groups(groups)
    assert [d.normal for d in result.groups] == [True, True, False]
    assert result.test == "kruskal"


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"A": [1.0, 2.0, 3.0]}, "at least 2 groups"),
        ({"A": [1.0, 2.0], "B": [3.0, np.nan]}, "group B needs at least 2"),
        ({"A": [4.0] * 9, "B": [4.0] * 9}, "all values are identical"),
    ],
)
def test_impossible_comparisons_are_refused(groups: dict[str, list[float]], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        compare_groups(groups)


def test_unknown_dunn_adjustment_is_refused() -> None:
    with pytest.raises(AnalysisError, match="dunn_adjust"):
        compare_groups({"A": [1.0, 2.0], "B": [3.0, 4.0]}, dunn_adjust="holm")


def test_who_categories_follow_the_t_score_cut_points() -> None:
    t = pd.Series([-3.1, -2.5, -2.49, -1.0, -0.99, np.nan, 1.2], index=list("abcdefg"))
    result = who_category(t)
    assert result.index.tolist() == list("abcdefg")
    assert result.tolist()[:5] == ["osteoporosis", "osteoporosis", "osteopaenia", "osteopaenia", "normal"]
    assert pd.isna(result["f"]) and result["g"] == "normal"
    assert list(result.cat.categories) == ["normal", "osteopaenia", "osteoporosis"]
