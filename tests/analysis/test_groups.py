"""Descriptives, normality decision, k-group comparison and WHO categories."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import optimize, stats
from statsmodels.stats.diagnostic import normal_ad
from statsmodels.stats.multitest import multipletests

from analysis import AnalysisError, compare_groups, describe, sidak_adjust, who_category


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


def scipy_says_normal(x: np.ndarray) -> bool:
    result = stats.anderson(x, dist="norm")
    return bool(result.statistic <= result.critical_values[list(result.significance_level).index(5.0)])


def statsmodels_says_normal(x: np.ndarray) -> bool:
    return bool(normal_ad(x)[1] >= 0.05)


def first_disagreement(rng: np.random.Generator, n: int, scipy_normal: bool) -> np.ndarray:
    """A normal sample on which scipy's critical value says ``scipy_normal`` and normal_ad's P the opposite."""
    for _ in range(20_000):
        x = rng.normal(0.0, 1.0, n)
        if scipy_says_normal(x) == scipy_normal and statsmodels_says_normal(x) != scipy_normal:
            return x
    raise AssertionError(f"no disagreement found at n = {n}")


@pytest.mark.parametrize(("n", "scipy_normal"), [(8, True), (200, True), (20, False)])
def test_where_scipy_and_statsmodels_disagree_the_p_value_decides(rng: np.random.Generator, n: int,
                                                                  scipy_normal: bool) -> None:
    x = first_disagreement(rng, n, scipy_normal)
    result = describe(x)
    assert result.normal is (not scipy_normal)
    assert (result.ad_statistic <= result.ad_critical_5pct) is scipy_normal  # scipy's value kept, not used
    assert result.ad_p == pytest.approx(normal_ad(x)[1], rel=1e-12)


def test_both_conventions_are_thresholds_on_the_same_a2(rng: np.random.Generator) -> None:
    """scipy: A2 <= round(0.787 / (1 + 4/n - 25/n^2), 3); normal_ad: A2 (1 + 0.75/n + 2.25/n^2) < 0.75319."""
    threshold = optimize.brentq(lambda a: np.exp(1.2937 - 5.709 * a + 0.0186 * a**2) - 0.05, 0.6, 1.0)
    assert threshold == pytest.approx(0.75319, abs=1e-5)
    for n in (8, 9, 12, 20, 35, 60, 120, 400):
        for x in (rng.normal(0.0, 1.0, n), rng.gamma(8.0, 1.0, n)):
            a2 = anderson_darling_a2(x)
            result = describe(x)
            assert result.normal is bool(a2 * (1 + 0.75 / n + 2.25 / n**2) < threshold)
            assert scipy_says_normal(x) is bool(a2 <= round(0.787 / (1 + 4 / n - 25 / n**2), 3))


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


def pooled_sidak_by_hand(groups: dict[str, np.ndarray], pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple]:
    """(t, raw P, Šídák P) per pair on MS_within of ALL groups with df N - k, as GraphPad Prism computes them."""
    total, k = sum(v.size for v in groups.values()), len(groups)
    ms_within = sum(np.sum((v - v.mean()) ** 2) for v in groups.values()) / (total - k)
    out = {}
    for a, b in pairs:
        t = (groups[a].mean() - groups[b].mean()) / np.sqrt(ms_within * (1 / groups[a].size + 1 / groups[b].size))
        p = 2 * stats.t.sf(abs(t), total - k)
        out[(a, b)] = (t, p, 1 - (1 - p) ** len(pairs))
    return out


def test_normal_groups_get_anova_and_sidak_on_the_pooled_mean_square(rng: np.random.Generator) -> None:
    groups = normal_groups(rng)
    result = compare_groups(groups)
    frame = pd.DataFrame({"y": np.concatenate(list(groups.values())),
                          "g": np.repeat(list(groups), [v.size for v in groups.values()])})
    table = sm.stats.anova_lm(smf.ols("y ~ C(g)", frame).fit())
    assert result.test == "anova" and result.posthoc == "sidak (pooled MS, df N-k)"
    assert result.statistic == pytest.approx(table.loc["C(g)", "F"], rel=1e-9)
    assert result.p == pytest.approx(table.loc["C(g)", "PR(>F)"], rel=1e-9)
    assert result.ms_within == pytest.approx(table.loc["Residual", "mean_sq"], rel=1e-9)
    assert result.df_within == 170 - 3 and result.control == ""
    pairs = list(itertools.combinations(groups, 2))
    assert [(c.group_a, c.group_b) for c in result.pairwise] == pairs
    expected = pooled_sidak_by_hand(groups, pairs)
    for c in result.pairwise:
        t, p, adjusted = expected[(c.group_a, c.group_b)]
        assert (c.statistic, c.p_raw, c.p_adjusted) == pytest.approx((t, p, adjusted), rel=1e-9)
        assert c.difference == pytest.approx(groups[c.group_a].mean() - groups[c.group_b].mean(), rel=1e-12)
        assert c.df == 167 and c.method == result.posthoc


def with_sd(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """Normal draws rescaled to exactly this sample mean and SD (ddof=1)."""
    z = rng.normal(size=n)
    return mean + (z - z.mean()) / z.std(ddof=1) * sd


def test_equal_sds_still_give_the_pooled_not_the_separate_t_test_sidak(rng: np.random.Generator) -> None:
    """The issue's case: with identical SDs the pooled MS equals each pair's, yet df N-k = 27 (not 18) matters."""
    groups = {"Control": with_sd(rng, 50.0, 5.0, 10), "Osteopaenic": with_sd(rng, 52.9, 5.0, 10),
              "Osteoporotic": with_sd(rng, 55.8, 5.0, 10)}
    result = compare_groups(groups)
    assert result.test == "anova"  # precondition: every group passed Anderson-Darling
    expected = pooled_sidak_by_hand(groups, list(itertools.combinations(groups, 2)))
    extreme = result.pairwise[1]
    assert (extreme.group_a, extreme.group_b) == ("Control", "Osteoporotic")
    assert extreme.p_adjusted == pytest.approx(expected[("Control", "Osteoporotic")][2], rel=1e-9)
    separate = stats.ttest_ind(groups["Control"], groups["Osteoporotic"]).pvalue
    assert extreme.p_raw == pytest.approx(2 * stats.t.sf(5.8 / np.sqrt(25 * 0.2), 27), rel=1e-9)
    assert extreme.p_adjusted < 0.05 < 1 - (1 - separate) ** 3  # significant only as Prism computes it


def test_a_control_family_compares_each_group_with_the_control_only(rng: np.random.Generator) -> None:
    groups = normal_groups(rng)
    result = compare_groups(groups, control="Control")
    pairs = [("Control", "Osteopaenic"), ("Control", "Osteoporotic")]
    assert [(c.group_a, c.group_b) for c in result.pairwise] == pairs and result.control == "Control"
    expected = pooled_sidak_by_hand(groups, pairs)  # m = k - 1 = 2
    for c in result.pairwise:
        assert (c.p_raw, c.p_adjusted) == pytest.approx(expected[(c.group_a, c.group_b)][1:], rel=1e-9)
        assert c.p_adjusted == pytest.approx(1 - (1 - c.p_raw) ** 2, rel=1e-9)


def test_a_control_that_is_no_group_is_refused(rng: np.random.Generator) -> None:
    with pytest.raises(AnalysisError, match="control group 'Normal'"):
        compare_groups(normal_groups(rng), control="Normal")


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


def test_sidak_adjustment_matches_statsmodels_and_keeps_tiny_p() -> None:
    p = np.array([0.001, 0.02, 0.2, 0.7])
    assert sidak_adjust(p) == pytest.approx(multipletests(p, method="sidak")[1], rel=1e-12)
    assert sidak_adjust(p, 2) == pytest.approx(1 - (1 - p) ** 2, rel=1e-12)
    assert sidak_adjust([1e-15], 3)[0] == pytest.approx(3e-15, rel=1e-9)  # naive 1 - (1 - p)^3: 2.9976e-15


def tied_skewed_groups(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Skewed values rounded to whole percent: many ties, so Dunn's tie correction matters."""
    return {"Control": np.round(rng.exponential(4.0, 60)), "Osteopaenic": np.round(rng.exponential(6.0, 50)),
            "Osteoporotic": np.round(rng.exponential(7.0, 40))}


def scikit_dunn(groups: dict[str, np.ndarray], adjust: str | None) -> pd.DataFrame:
    frame = pd.DataFrame({"v": np.concatenate(list(groups.values())),
                          "g": np.repeat(list(groups), [v.size for v in groups.values()])})
    return sp.posthoc_dunn(frame, val_col="v", group_col="g", p_adjust=adjust)


@pytest.mark.parametrize("adjust", ["bonferroni", "sidak"])
def test_dunn_over_all_pairs_matches_scikit_posthocs_with_ties(rng: np.random.Generator, adjust: str) -> None:
    groups = tied_skewed_groups(rng)
    result = compare_groups(groups, dunn_adjust=adjust)
    raw, adjusted = scikit_dunn(groups, None), scikit_dunn(groups, adjust)
    assert result.test == "kruskal" and result.posthoc == f"dunn {adjust}"
    assert math.isnan(result.ms_within) and all(math.isnan(c.statistic) for c in result.pairwise)
    for c in result.pairwise:
        assert c.p_raw == pytest.approx(raw.loc[c.group_a, c.group_b], rel=1e-12)
        assert c.p_adjusted == pytest.approx(adjusted.loc[c.group_a, c.group_b], rel=1e-12)
    untied = dunn_by_hand(groups)  # without the tie correction the raw P differ: the correction was applied
    assert any(abs(c.p_raw - untied[(c.group_a, c.group_b)]) > 1e-6 for c in result.pairwise)


@pytest.mark.parametrize("adjust", ["bonferroni", "sidak"])
def test_dunn_against_a_control_adjusts_over_k_minus_1(rng: np.random.Generator, adjust: str) -> None:
    groups = tied_skewed_groups(rng)
    result = compare_groups(groups, dunn_adjust=adjust, control="Control")
    raw = scikit_dunn(groups, None)
    assert [(c.group_a, c.group_b) for c in result.pairwise] == [("Control", "Osteopaenic"),
                                                                  ("Control", "Osteoporotic")]
    for c in result.pairwise:
        p = raw.loc[c.group_a, c.group_b]
        expected = min(1.0, 2 * p) if adjust == "bonferroni" else 1 - (1 - p) ** 2
        assert (c.p_raw, c.p_adjusted) == pytest.approx((p, expected), rel=1e-9)


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
