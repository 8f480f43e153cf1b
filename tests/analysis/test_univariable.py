"""Univariable regression with a sex interaction (Table 4 layout) against plain statsmodels OLS."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import AnalysisError, univariable, univariable_family


def ols(y: np.ndarray, *columns: np.ndarray) -> sm.regression.linear_model.RegressionResultsWrapper:
    """Independent route: matrix OLS with an explicit intercept, no formulas."""
    return sm.OLS(y, np.column_stack([np.ones_like(y), *columns])).fit()


def test_both_row_is_the_pooled_fit_and_p_interaction_comes_from_the_interaction_model(bone: pd.DataFrame) -> None:
    both, *strata = univariable(bone, "bmff_head", "bmff_spine")
    y, x = bone["bmff_head"].to_numpy(), bone["bmff_spine"].to_numpy()
    male = (bone["sex"] == "M").to_numpy(dtype=float)
    pooled, interaction = ols(y, x), ols(y, x, male, x * male)
    assert both.stratum == "Both" and both.n == len(bone) and both.n_dropped == 0
    assert both.beta == pytest.approx(pooled.params[1], rel=1e-9)
    assert (both.ci_low, both.ci_high) == pytest.approx(tuple(pooled.conf_int(0.05)[1]), rel=1e-9)
    assert both.adj_r2 == pytest.approx(pooled.rsquared_adj, rel=1e-9)
    assert both.p == pytest.approx(pooled.pvalues[1], rel=1e-6)
    assert both.p_interaction == pytest.approx(interaction.pvalues[3], rel=1e-6)


def test_a_significant_interaction_adds_female_and_male_fits(bone: pd.DataFrame) -> None:
    rows = univariable(bone, "bmff_head", "bmff_spine")
    assert rows[0].p_interaction < 0.05
    assert [row.stratum for row in rows] == ["Both", "Female", "Male"]
    for row, level in zip(rows[1:], ("F", "M"), strict=True):
        subset = bone[bone["sex"] == level]
        fit = ols(subset["bmff_head"].to_numpy(), subset["bmff_spine"].to_numpy())
        assert row.n == len(subset)
        assert row.beta == pytest.approx(fit.params[1], rel=1e-9)
        assert (row.ci_low, row.ci_high) == pytest.approx(tuple(fit.conf_int(0.05)[1]), rel=1e-9)
        assert row.adj_r2 == pytest.approx(fit.rsquared_adj, rel=1e-9)
        assert row.p == pytest.approx(fit.pvalues[1], rel=1e-6)
        assert math.isnan(row.p_interaction)


def test_no_sex_difference_gives_the_both_row_only(bone: pd.DataFrame) -> None:
    rows = univariable(bone, "bmd_spine", "age")
    assert rows[0].p_interaction >= 0.05
    assert [row.stratum for row in rows] == ["Both"]


def test_labels_and_custom_sex_coding_are_used(bone: pd.DataFrame) -> None:
    coded = bone.assign(sex=(bone["sex"] == "M").astype(int))
    rows = univariable(coded, "bmff_head", "bmff_spine", levels=(0, 1), labels={"bmff_spine": "BMFF Spine"})
    expected = univariable(bone, "bmff_head", "bmff_spine")
    assert rows[0].explanatory == "BMFF Spine" and rows[0].dependent == "bmff_head"
    assert [r.beta for r in rows] == pytest.approx([r.beta for r in expected])


def test_rows_with_a_missing_value_are_dropped_and_counted(bone: pd.DataFrame) -> None:
    holed = bone.copy()
    holed.loc[:4, "bmff_spine"] = np.nan
    holed.loc[10:12, "sex"] = None
    both = univariable(holed, "bmff_head", "bmff_spine")[0]
    reference = univariable(holed.dropna(), "bmff_head", "bmff_spine")[0]
    assert (both.n, both.n_dropped) == (len(bone) - 8, 8)
    assert both.beta == reference.beta


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(sex=np.where(f.index % 3 == 0, "U", f["sex"])), "outside the expected levels"),
        (lambda f: f.assign(sex="F"), "one level only"),
        (lambda f: f.assign(bmff_spine=2.0), "'bmff_spine' is constant"),
        (lambda f: f.assign(bmff_spine="high"), "bmff_spine must be numeric"),
        (lambda f: f.head(4), "4 complete rows for 4 parameters"),
        (lambda f: f.drop(columns="sex"), r"no column\(s\) \['sex'\]"),
    ],
)
def test_unusable_inputs_are_refused_with_the_reason(bone: pd.DataFrame, change, message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        univariable(change(bone), "bmff_head", "bmff_spine")


def test_a_predictor_constant_within_one_sex_is_refused(bone: pd.DataFrame) -> None:
    frame = bone.copy()
    frame.loc[frame["sex"] == "M", "bmff_spine"] = 50.0  # males have no slope to compare
    with pytest.raises(AnalysisError, match="'bmff_spine' does not vary within Male"):
        univariable(frame, "bmff_head", "bmff_spine")


def test_a_dependent_constant_within_one_sex_is_refused_when_stratifying(bone: pd.DataFrame) -> None:
    frame = bone.copy()
    frame.loc[frame["sex"] == "M", "bmff_head"] = 90.0
    with pytest.raises(AnalysisError, match="'bmff_head' is constant over the .* rows of stratum Male"):
        univariable(frame, "bmff_head", "bmff_spine")


def test_family_uses_the_bonferroni_alpha_and_marks_significant_rows(bone: pd.DataFrame) -> None:
    pairs = [("bmff_head", "bmff_spine"), ("bmd_spine", "bmff_spine"), ("bmd_spine", "age")]
    family = univariable_family(bone, pairs)
    assert family.n_tests == 3 and family.adjusted_alpha == pytest.approx(0.05 / 3)
    assert [r.significant for r in family.rows] == [r.p < 0.05 / 3 for r in family.rows]
    assert any(r.significant for r in family.rows) and not all(r.significant for r in family.rows)
    assert len(family.rows) == 5  # the first pair is stratified


def test_family_accepts_the_papers_test_count(bone: pd.DataFrame) -> None:
    family = univariable_family(bone, [("bmd_spine", "bmff_spine")], n_tests=12)
    assert family.adjusted_alpha == pytest.approx(0.05 / 12)


def test_empty_family_is_refused(bone: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="at least one"):
        univariable_family(bone, [])
