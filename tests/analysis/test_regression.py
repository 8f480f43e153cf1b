"""Multivariable models: NIST Longley certified values, statsmodels formula OLS, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.datasets import longley

from analysis import AnalysisError, fit_model, model_sequence

# NIST StRD Longley (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml), certified with 500-digit
# arithmetic: (estimate, standard deviation of estimate) per parameter.
LONGLEY_CERTIFIED = {
    "Intercept": (-3482258.63459582, 890420.383607373),
    "GNPDEFL": (15.0618722713733, 84.9149257747669),
    "GNP": (-0.358191792925910e-01, 0.334910077722432e-01),
    "UNEMP": (-2.02022980381683, 0.488399681651699),
    "ARMED": (-1.03322686717359, 0.214274163161675),
    "POP": (-0.511041056535807e-01, 0.226073200069370),
    "YEAR": (1829.15146461355, 455.478499142212),
}
LONGLEY_RESIDUAL_SD = 304.854073561965
LONGLEY_R2 = 0.995479004577296
SIX_DIGITS = 5e-7  # relative tolerance: at least 6 significant digits


def test_longley_reproduces_the_nist_certified_values() -> None:
    data = longley.load_pandas().data
    fit = fit_model(data, "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"])
    assert [c.term for c in fit.coefficients] == list(LONGLEY_CERTIFIED)
    for coefficient in fit.coefficients:
        estimate, sd = LONGLEY_CERTIFIED[coefficient.term]
        assert coefficient.beta == pytest.approx(estimate, rel=SIX_DIGITS), coefficient.term
        assert coefficient.se == pytest.approx(sd, rel=SIX_DIGITS), coefficient.term
    assert fit.residual_sd == pytest.approx(LONGLEY_RESIDUAL_SD, rel=SIX_DIGITS)
    assert fit.r2 == pytest.approx(LONGLEY_R2, rel=SIX_DIGITS)
    assert fit.n == 16


def test_model_matches_statsmodels_formula_ols_with_female_reference(bone: pd.DataFrame) -> None:
    fit = fit_model(bone, "bmd_spine", ["bmff_spine", "sex", "bmi", "legs_fat"], labels={"bmff_spine": "BMFF Spine"})
    expected = smf.ols("bmd_spine ~ bmff_spine + C(sex, Treatment('F')) + bmi + legs_fat", bone).fit()
    order = ["Intercept", "bmff_spine", "C(sex, Treatment('F'))[T.M]", "bmi", "legs_fat"]  # formula puts sex first
    ci = expected.conf_int(0.05).loc[order].to_numpy()
    assert [c.label for c in fit.coefficients] == ["Intercept", "BMFF Spine", "Sex (M)", "bmi", "legs_fat"]
    assert [c.beta for c in fit.coefficients] == pytest.approx(expected.params[order].to_numpy(), rel=1e-9)
    assert [c.se for c in fit.coefficients] == pytest.approx(expected.bse[order].to_numpy(), rel=1e-9)
    np.testing.assert_allclose([(c.ci_low, c.ci_high) for c in fit.coefficients], ci, rtol=1e-9)
    assert [c.p for c in fit.coefficients] == pytest.approx(expected.pvalues[order].to_numpy(), rel=1e-6)
    assert fit.adj_r2 == pytest.approx(expected.rsquared_adj, rel=1e-12)


def test_aic_follows_r_counting_the_residual_variance(bone: pd.DataFrame) -> None:
    fit = fit_model(bone, "bmd_spine", ["bmff_spine", "sex"])
    expected = smf.ols("bmd_spine ~ bmff_spine + sex", bone).fit()
    n, ssr = len(bone), float(expected.ssr)
    by_hand = n * np.log(2 * np.pi * ssr / n) + n + 2 * (3 + 1)  # -2 logLik + 2 (k + 1), k = 3 coefficients
    assert fit.aic == pytest.approx(by_hand, rel=1e-12)
    assert fit.aic == pytest.approx(expected.aic + 2, rel=1e-12)


def test_sex_m_beta_is_the_male_minus_female_mean_difference(bone: pd.DataFrame) -> None:
    sex = fit_model(bone, "bmd_spine", ["sex"]).coefficient("Sex (M)")
    means = bone.groupby("sex")["bmd_spine"].mean()
    assert sex is not None and sex.beta == pytest.approx(means["M"] - means["F"], rel=1e-9)


def test_stars_follow_the_paper_thresholds() -> None:
    from analysis.results import stars

    assert [stars(p) for p in (0.0004, 0.001, 0.004, 0.01, 0.03, 0.05, 0.2, np.nan)] == [
        "***", "**", "**", "*", "*", "", "", ""]


def test_sequence_keeps_model_order_and_collects_covariate_labels(bone: pd.DataFrame) -> None:
    models = [["bmff_spine", "sex"], ["bmff_spine", "sex", "bmi"], ["bmff_spine", "sex", "bmi", "legs_fat"]]
    sequence = model_sequence(bone, "bmd_spine", models, names=["Model 4.1", "Model 4.2", "Model 4.3"],
                              labels={"bmff_spine": "BMFF Spine", "bmi": "BMI", "legs_fat": "Legs fat%"})
    assert [f.name for f in sequence.fits] == ["Model 4.1", "Model 4.2", "Model 4.3"]
    assert sequence.labels == ("BMFF Spine", "Sex (M)", "BMI", "Legs fat%")
    assert sequence.fits[0].coefficient("BMI") is None
    for fit, covariates in zip(sequence.fits, models, strict=True):
        alone = fit_model(bone, "bmd_spine", covariates)
        assert fit.aic == pytest.approx(alone.aic) and fit.adj_r2 == pytest.approx(alone.adj_r2)


def test_common_sample_makes_every_model_use_the_same_rows(bone: pd.DataFrame) -> None:
    holed = bone.copy()
    holed.loc[:29, "legs_fat"] = np.nan
    models = [["bmff_spine"], ["bmff_spine", "legs_fat"]]
    shared = model_sequence(holed, "bmd_spine", models)
    own = model_sequence(holed, "bmd_spine", models, common_sample=False)
    assert [(f.n, f.n_dropped) for f in shared.fits] == [(570, 30), (570, 30)]
    assert [(f.n, f.n_dropped) for f in own.fits] == [(600, 0), (570, 30)]
    assert shared.fits[0].aic == pytest.approx(fit_model(holed.dropna(), "bmd_spine", ["bmff_spine"]).aic)


def test_rank_inverse_normal_transform_of_the_dependent(bone: pd.DataFrame) -> None:
    fit = fit_model(bone, "bmd_spine", ["bmff_spine", "sex"], transform="rint")
    ranks = stats.rankdata(bone["bmd_spine"])
    z = stats.norm.ppf((ranks - 0.375) / (len(bone) + 0.25))
    expected = smf.ols("z ~ bmff_spine + male", bone.assign(z=z, male=(bone["sex"] == "M") * 1.0)).fit()
    assert [c.beta for c in fit.coefficients] == pytest.approx(expected.params.to_numpy(), rel=1e-9)
    assert model_sequence(bone, "bmd_spine", [["bmi"]], transform="rint").transform == "rint"


@pytest.mark.parametrize(
    ("covariates", "change", "message"),
    [
        (["bmff_spine", "bmi"], lambda f: f.head(3), "3 complete rows for 3 parameters"),
        (["bmff_spine", "bmi"], lambda f: f.assign(bmi=23.0), "'bmi' is constant"),
        (["bmff_spine", "bmi"], lambda f: f.assign(bmi=2 * f["bmff_spine"] + 1), "collinear predictors"),
        (["bmff_spine"], lambda f: f.assign(bmd_spine=1.0), "'bmd_spine' is constant"),
        (["bmff_spine", "centre"], lambda f: f.assign(centre="Leeds"), "not numeric; declare a categorical"),
        (["sex"], lambda f: f.assign(sex="M"), "reference level 'F' of 'sex' is absent"),
        (["sex"], lambda f: f.assign(sex="F"), "only the level 'F'"),
        (["bmff_spine", "bmd_spine"], lambda f: f, "is also a covariate"),
        (["bmff_spine", "height"], lambda f: f, r"no column\(s\) \['height'\]"),
        (["bmff_spine"], lambda f: f.assign(bmff_spine=np.where(f.index == 3, np.inf, f["bmff_spine"])),
         "infinite"),
    ],
)
def test_unusable_models_are_refused_with_the_reason(bone: pd.DataFrame, covariates, change, message) -> None:
    with pytest.raises(AnalysisError, match=message):
        fit_model(change(bone), "bmd_spine", covariates)


def test_categorical_reference_level_can_be_chosen(bone: pd.DataFrame) -> None:
    fit = fit_model(bone, "bmd_spine", ["sex"], categorical={"sex": "M"}, labels={"sex": "Sex"})
    assert [c.label for c in fit.coefficients] == ["Intercept", "Sex (F)"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"transform": "log"}, "transform must be one of"), ({"names": ["only one"]}, "1 names for 2 models")],
)
def test_invalid_sequence_arguments_are_refused(bone: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        model_sequence(bone, "bmd_spine", [["bmi"], ["bmi", "age"]], **kwargs)


def test_empty_sequence_and_empty_model_are_refused(bone: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="at least one model"):
        model_sequence(bone, "bmd_spine", [])
    with pytest.raises(AnalysisError, match="has no covariates"):
        model_sequence(bone, "bmd_spine", [[]])
