"""Two-way ANOVA and the mixed-effects model, each pinned to a computation made here without the engine."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from analysis import AnalysisError, mixed_model, sidak_adjust, two_way_anova

REGIONS = ["spine", "head", "hip", "shaft"]
REGION_MEANS = {"spine": 55.0, "head": 90.0, "hip": 80.0, "shaft": 85.0}


def cohort(rng: np.random.Generator, n_per_sex: int = 12, subject_sd: float = 3.0, residual_sd: float = 2.0,
           spine_sex_effect: float = 2.5) -> pd.DataFrame:
    """Fig. 5A layout: every subject has the four regions; females' spine BMFF higher, a subject intercept."""
    rows = []
    for s in range(2 * n_per_sex):
        sex, intercept = ("F" if s < n_per_sex else "M"), rng.normal(0.0, subject_sd)
        for region in REGIONS:
            effect = spine_sex_effect if (sex == "F" and region == "spine") else 0.0
            rows.append((f"s{s:03d}", sex, region, REGION_MEANS[region] + effect + intercept
                         + rng.normal(0.0, residual_sd)))
    frame = pd.DataFrame(rows, columns=["eid", "sex", "region", "bmff"])
    frame["region"] = pd.Categorical(frame["region"], REGIONS)
    return frame


def factorial(rng: np.random.Generator, sizes: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Independent observations per (region, WHO category) cell with given sizes."""
    shift = {"normal": 0.0, "osteopaenia": 2.0, "osteoporosis": 3.5}
    pieces = [pd.DataFrame({"region": r, "who": w,
                            "bmff": rng.normal(REGION_MEANS[r] + shift[w] * (1.5 if r == "spine" else 1.0), 4.0, n)})
              for (r, w), n in sizes.items()]
    frame = pd.concat(pieces, ignore_index=True)
    frame["region"] = pd.Categorical(frame["region"], REGIONS[:3])
    frame["who"] = pd.Categorical(frame["who"], list(shift))
    return frame


def balanced(rng: np.random.Generator, n: int = 9) -> pd.DataFrame:
    return factorial(rng, {(r, w): n for r in REGIONS[:3] for w in ("normal", "osteopaenia", "osteoporosis")})


def unbalanced(rng: np.random.Generator) -> pd.DataFrame:
    sizes = dict(zip(itertools.product(REGIONS[:3], ("normal", "osteopaenia", "osteoporosis")),
                     [30, 12, 5, 28, 14, 6, 25, 10, 7], strict=True))
    return factorial(rng, sizes)


# --- two-way ANOVA -----------------------------------------------------------------------------------------


def sums_of_squares_by_hand(frame: pd.DataFrame) -> dict[str, float]:
    """Balanced two-way decomposition from grand, marginal and cell means."""
    y, grand = frame["bmff"].to_numpy(), frame["bmff"].mean()
    a_mean = frame.groupby("region", observed=True)["bmff"].transform("mean").to_numpy()
    b_mean = frame.groupby("who", observed=True)["bmff"].transform("mean").to_numpy()
    cell = frame.groupby(["region", "who"], observed=True)["bmff"].transform("mean").to_numpy()
    return {"region": float(np.sum((a_mean - grand) ** 2)), "who": float(np.sum((b_mean - grand) ** 2)),
            "region:who": float(np.sum((cell - a_mean - b_mean + grand) ** 2)),
            "residual": float(np.sum((y - cell) ** 2))}


@pytest.mark.parametrize("typ", [2, 3])
def test_balanced_two_way_anova_matches_the_hand_decomposition(rng: np.random.Generator, typ: int) -> None:
    frame = balanced(rng)
    result = two_way_anova(frame, "bmff", "region", "who", typ=typ)
    ss = sums_of_squares_by_hand(frame)
    df = {"region": 2, "who": 2, "region:who": 4}
    residual_df = len(frame) - 9
    ms_residual = ss["residual"] / residual_df
    assert (result.residual_df, result.residual_ms) == (residual_df, pytest.approx(ms_residual, rel=1e-9))
    assert [t.term for t in result.terms] == ["region", "who", "region:who"]
    for term in result.terms:
        f = ss[term.term] / df[term.term] / ms_residual
        assert (term.sum_sq, term.statistic) == pytest.approx((ss[term.term], f), rel=1e-9)
        assert term.p == pytest.approx(stats.f.sf(f, df[term.term], residual_df), rel=1e-9)
        assert (term.test, term.df_num, term.df_den) == ("F", df[term.term], residual_df)


def sum_coded(levels: pd.Categorical) -> np.ndarray:
    """Effect (sum-to-zero) columns: level i -> e_i, the last level -> -1 in every column."""
    codes, k = levels.codes, len(levels.categories)
    out = np.zeros((codes.size, k - 1))
    out[codes < k - 1, codes[codes < k - 1]] = 1.0
    out[codes == k - 1] = -1.0
    return out


def rss(y: np.ndarray, *blocks: np.ndarray) -> float:
    x = np.column_stack([np.ones(y.size), *blocks])
    return float(np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2))


def test_unbalanced_type_iii_and_type_ii_match_model_comparisons_by_least_squares(rng: np.random.Generator) -> None:
    frame = unbalanced(rng)
    y = frame["bmff"].to_numpy()
    a, b = sum_coded(frame["region"].array), sum_coded(frame["who"].array)
    ab = np.column_stack([a[:, i] * b[:, j] for i in range(2) for j in range(2)])
    full = rss(y, a, b, ab)
    type3 = {"region": rss(y, b, ab) - full, "who": rss(y, a, ab) - full, "region:who": rss(y, a, b) - full}
    type2 = {"region": rss(y, b) - rss(y, a, b), "who": rss(y, a) - rss(y, a, b), "region:who": rss(y, a, b) - full}
    assert abs(type3["region"] - type2["region"]) > 1.0  # precondition: unbalanced, so the types differ
    for typ, expected in ((3, type3), (2, type2)):
        result = two_way_anova(frame, "bmff", "region", "who", typ=typ)
        assert {t.term: t.sum_sq for t in result.terms} == pytest.approx(expected, rel=1e-8)
        assert result.residual_ms == pytest.approx(full / (len(frame) - 9), rel=1e-9)


def cell_sidak_by_hand(frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> list[tuple]:
    """WHO categories compared within each region on the pooled MS of the full model (df N - cells)."""
    cells = frame.groupby(["region", "who"], observed=True)["bmff"]
    mean, size = cells.mean(), cells.size()
    df = len(frame) - len(mean)
    ms = float(np.sum((frame["bmff"] - cells.transform("mean")) ** 2)) / df
    out = []
    for region in frame["region"].cat.categories:
        for x, z in pairs:
            d = mean[(region, x)] - mean[(region, z)]
            t = d / np.sqrt(ms * (1 / size[(region, x)] + 1 / size[(region, z)]))
            out.append((region, x, z, d, t, 2 * stats.t.sf(abs(t), df)))
    m = len(out)
    return [(*row, 1 - (1 - row[-1]) ** m) for row in out]


@pytest.mark.parametrize("control", [None, "normal"])
def test_post_tests_use_the_pooled_residual_of_every_cell(rng: np.random.Generator, control: str | None) -> None:
    frame = unbalanced(rng)
    result = two_way_anova(frame, "bmff", "region", "who", control=control)
    levels = ["normal", "osteopaenia", "osteoporosis"]
    pairs = list(itertools.combinations(levels, 2)) if control is None else [("normal", x) for x in levels[1:]]
    expected = cell_sidak_by_hand(frame, pairs)
    assert (result.compared, result.within_factor, result.posthoc) == ("who", "region", "sidak (pooled MS, df N-p)")
    assert len(result.comparisons) == len(expected) == 3 * len(pairs)  # one family: m = regions x pairs
    for c, (region, x, z, d, t, p, adjusted) in zip(result.comparisons, expected, strict=True):
        assert (c.within, c.level_a, c.level_b) == (region, x, z)
        assert (c.difference, c.statistic, c.p_raw, c.p_adjusted) == pytest.approx((d, t, p, adjusted), rel=1e-8)
        assert c.df == len(frame) - 9


def test_regions_can_be_compared_within_each_category(rng: np.random.Generator) -> None:
    frame = balanced(rng)
    result = two_way_anova(frame, "bmff", "region", "who", compare="region", control="spine")
    assert (result.compared, result.within_factor) == ("region", "who")
    assert [(c.within, c.level_a, c.level_b) for c in result.comparisons] == [
        (w, "spine", r) for w in ("normal", "osteopaenia", "osteoporosis") for r in ("head", "hip")]
    cells = frame.groupby(["region", "who"], observed=True)["bmff"].mean()
    first = result.comparisons[0]
    assert first.difference == pytest.approx(cells[("spine", "normal")] - cells[("head", "normal")], rel=1e-9)
    assert first.se == pytest.approx(np.sqrt(result.residual_ms * 2 / 9), rel=1e-9)


def test_the_additive_model_compares_parallel_profiles(rng: np.random.Generator) -> None:
    """Without interaction, balanced: a category difference is the marginal-mean difference in every region."""
    frame = balanced(rng, n=7)
    result = two_way_anova(frame, "bmff", "region", "who", interaction=False)
    ss = sums_of_squares_by_hand(frame)
    df = len(frame) - 3 - 3 + 1
    ms = (ss["residual"] + ss["region:who"]) / df
    marginal = frame.groupby("who", observed=True)["bmff"].mean()
    assert [t.term for t in result.terms] == ["region", "who"] and result.residual_df == df
    for c in result.comparisons:
        assert c.difference == pytest.approx(marginal[c.level_a] - marginal[c.level_b], rel=1e-9)
        assert c.se == pytest.approx(np.sqrt(ms * 2 / (3 * 7)), rel=1e-9)


def test_missing_rows_are_dropped_and_cells_summarised(rng: np.random.Generator) -> None:
    frame = balanced(rng).astype({"region": object})
    frame.loc[[0, 5], "bmff"] = np.nan
    frame.loc[7, "region"] = None
    result = two_way_anova(frame, "bmff", "region", "who")
    assert (result.n, result.n_dropped) == (len(frame) - 3, 3)
    assert [c.level_a for c in result.cells[::3]] == ["head", "hip", "spine"]  # text factor: sorted levels
    clean = frame.dropna()
    first = clean[(clean.region == "head") & (clean.who == "normal")]["bmff"]
    assert (result.cells[0].n, result.cells[0].mean) == (first.size, pytest.approx(first.mean()))
    assert result.cells[0].fitted == pytest.approx(first.mean(), rel=1e-9)
    assert result.term("who").df_num == 2 and result.term("age") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"typ": 1}, "typ must be one of"),
        ({"compare": "sex"}, "compare must be"),
        ({"control": "healthy"}, "control group 'healthy'"),
        ({"factor_b": "sex"}, "missing: \\['sex'\\]"),
    ],
)
def test_impossible_two_way_requests_are_refused(rng: np.random.Generator, change: dict, message: str) -> None:
    arguments = {"factor_a": "region", "factor_b": "who", **change}
    with pytest.raises(AnalysisError, match=message):
        two_way_anova(balanced(rng), "bmff", **arguments)


def test_empty_cells_one_level_and_no_residual_df_are_refused(rng: np.random.Generator) -> None:
    frame = balanced(rng)
    with pytest.raises(AnalysisError, match="empty cell\\(s\\): region=hip, who=osteoporosis"):
        two_way_anova(frame[~((frame.region == "hip") & (frame.who == "osteoporosis"))], "bmff", "region", "who")
    with pytest.raises(AnalysisError, match="factor who needs at least 2 levels"):
        two_way_anova(frame[frame.who == "normal"], "bmff", "region", "who")
    with pytest.raises(AnalysisError, match="no residual df"):
        two_way_anova(frame.groupby(["region", "who"], observed=True).head(1), "bmff", "region", "who")


def test_two_way_rows_are_json_safe(rng: np.random.Generator) -> None:
    import json

    result = two_way_anova(balanced(rng), "bmff", "region", "who")
    json.dumps(result.as_dict(), allow_nan=False)
    rows = result.to_rows()
    assert [row["term"] for row in rows] == ["region", "who", "region:who"] and rows[0]["n"] == 81
    assert result.comparison_rows()[0]["compared"] == "who" and len(result.comparison_rows()) == 9


# --- mixed-effects model ----------------------------------------------------------------------------------


def split_plot_by_hand(frame: pd.DataFrame) -> dict[str, float]:
    """Classical split-plot ANOVA of a complete, balanced design: sex between, region within subjects."""
    y = frame["bmff"].to_numpy()
    r, n_subjects, n_sex = frame["region"].nunique(), frame["eid"].nunique(), frame["sex"].nunique()
    subject = frame.groupby("eid")["bmff"].transform("mean").to_numpy()
    sex = frame.groupby("sex")["bmff"].transform("mean").to_numpy()
    cell = frame.groupby(["region", "sex"], observed=True)["bmff"].transform("mean").to_numpy()
    region = frame.groupby("region", observed=True)["bmff"].transform("mean").to_numpy()
    grand = y.mean()
    ms_subjects = np.sum((subject - sex) ** 2) / (n_subjects - n_sex)  # per observation, hence x r already
    ms_error = np.sum((y - cell - subject + sex) ** 2) / ((n_subjects - n_sex) * (r - 1))
    return {
        "ms_subjects": ms_subjects, "ms_error": ms_error,
        "F_sex": np.sum((sex - grand) ** 2) / (n_sex - 1) / ms_subjects,
        "F_region": np.sum((region - grand) ** 2) / (r - 1) / ms_error,
        "F_interaction": np.sum((cell - region - sex + grand) ** 2) / ((r - 1) * (n_sex - 1)) / ms_error,
        "subject_variance": (ms_subjects - ms_error) / r,
    }


def test_balanced_mixed_model_reproduces_the_split_plot_anova(rng: np.random.Generator) -> None:
    """REML on a complete balanced design: sigma2 = MS_error, tau2 = (MS_subjects - MS_error) / r, Wald = F x df."""
    frame = cohort(rng)
    result = mixed_model(frame, "bmff", "region", "sex", "eid")
    hand = split_plot_by_hand(frame)
    assert result.converged and hand["subject_variance"] > 0  # precondition: an interior REML optimum
    assert result.residual_variance == pytest.approx(hand["ms_error"], rel=1e-4)
    assert result.subject_variance == pytest.approx(hand["subject_variance"], rel=1e-4)
    for term, f, df in (("sex", hand["F_sex"], 1), ("region", hand["F_region"], 3),
                        ("region:sex", hand["F_interaction"], 3)):
        test = result.term(term)
        assert (test.test, test.df_num) == ("Wald chi2", df)
        assert test.statistic / df == pytest.approx(f, rel=1e-4)
        assert test.p == pytest.approx(stats.chi2.sf(test.statistic, df), rel=1e-9)
    assert (result.n, result.n_subjects) == (96, 24)


def test_mixed_post_tests_use_the_right_variance_for_between_and_within_contrasts(rng: np.random.Generator) -> None:
    frame = cohort(rng)
    hand = split_plot_by_hand(frame)
    cells = frame.groupby(["region", "sex"], observed=True)["bmff"].mean()
    sex = mixed_model(frame, "bmff", "region", "sex", "eid")  # F vs M within each region: between subjects
    se_between = np.sqrt((hand["ms_error"] + hand["subject_variance"]) * (2 / 12))
    z = [(cells[(r, "F")] - cells[(r, "M")]) / se_between for r in REGIONS]
    p = [2 * stats.norm.sf(abs(v)) for v in z]
    assert [c.within for c in sex.comparisons] == REGIONS and sex.posthoc == "sidak (mixed model, Wald z)"
    assert [c.se for c in sex.comparisons] == pytest.approx([se_between] * 4, rel=1e-4)
    assert [c.p_adjusted for c in sex.comparisons] == pytest.approx([1 - (1 - v) ** 4 for v in p], rel=1e-3)
    assert all(math.isnan(c.df) for c in sex.comparisons)
    region = mixed_model(frame, "bmff", "region", "sex", "eid", compare="region")  # within subjects
    se_within = np.sqrt(hand["ms_error"] * 2 / 12)  # the pooled residual alone
    assert len(region.comparisons) == 2 * 6
    assert [c.se for c in region.comparisons] == pytest.approx([se_within] * 12, rel=1e-4)
    first = region.comparisons[0]
    assert first.difference == pytest.approx(cells[("spine", "F")] - cells[("head", "F")], rel=1e-6)


def test_mixed_model_matches_statsmodels_fitted_directly_with_missing_regions(rng: np.random.Generator) -> None:
    frame = cohort(rng, n_per_sex=15)
    frame = frame.drop(index=[1, 6, 11, 40, 57]).reset_index(drop=True)  # some subjects lack a region
    result = mixed_model(frame, "bmff", "region", "sex", "eid")
    direct = smf.mixedlm("bmff ~ C(region, Sum) * C(sex, Sum)", frame, groups=frame["eid"]).fit(reml=True)
    assert result.residual_variance == pytest.approx(direct.scale, rel=1e-6)
    assert result.subject_variance == pytest.approx(float(direct.cov_re.iloc[0, 0]), rel=1e-6)
    assert result.log_likelihood == pytest.approx(direct.llf, rel=1e-9)
    rows = {(r, s): frame.index[(frame.region == r) & (frame.sex == s)][0] for r in REGIONS for s in "FM"}
    exog, names = direct.model.exog, direct.fe_params.index
    cov = direct.cov_params().loc[names, names].to_numpy()
    raw = []
    for c in result.comparisons:
        contrast = exog[rows[(c.within, "F")]] - exog[rows[(c.within, "M")]]
        d, se = contrast @ direct.fe_params.to_numpy(), np.sqrt(contrast @ cov @ contrast)
        assert (c.difference, c.se) == pytest.approx((d, se), rel=1e-6)
        raw.append(2 * stats.norm.sf(abs(d / se)))
    assert [c.p_adjusted for c in result.comparisons] == pytest.approx(list(sidak_adjust(raw)), rel=1e-6)
    assert (result.n, result.n_subjects) == (115, 30)


def test_small_random_effects_leave_fixed_effects_close_to_ols(rng: np.random.Generator) -> None:
    frame = cohort(rng, n_per_sex=20, subject_sd=0.3)
    result = mixed_model(frame, "bmff", "region", "sex", "eid")
    ols = smf.ols("bmff ~ C(region) * C(sex)", frame).fit()
    for cell in result.cells:
        assert cell.fitted == pytest.approx(cell.mean, abs=1e-6)  # balanced: GLS = OLS = the cell mean
        row = pd.DataFrame({"region": [cell.level_a], "sex": [cell.level_b]})
        assert cell.fitted == pytest.approx(float(ols.predict(row).iloc[0]), abs=1e-6)
    total = result.residual_variance + result.subject_variance
    assert total == pytest.approx(ols.mse_resid, rel=0.05)  # the subject share is small, so OLS pools them


def test_mixed_model_refuses_a_single_subject(rng: np.random.Generator) -> None:
    frame = cohort(rng)
    with pytest.raises(AnalysisError, match="at least 2 subjects"):
        mixed_model(frame.assign(eid="one"), "bmff", "region", "sex", "eid")
    with pytest.raises(AnalysisError, match="distinct columns"):
        mixed_model(frame, "bmff", "region", "sex", "sex")
