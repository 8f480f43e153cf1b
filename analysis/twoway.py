"""Two-factor designs as GraphPad Prism runs them: two-way ANOVA and a mixed-effects model (BMFF paper Fig. 5A).

Input for both: a long data frame, one row per measurement, with a numeric ``value`` column and two factor
columns (e.g. ``region`` and ``sex`` or WHO category); the mixed model also needs a ``subject`` column, since
the four regions of one subject are repeated measurements, not independent ones.

- :func:`two_way_anova`: ``statsmodels.formula.api.ols`` of ``value ~ A * B`` (or ``A + B``) with sum-to-zero
  coding and ``statsmodels.stats.anova.anova_lm``, type III sums of squares by default (Prism's choice; type
  II on request; the two agree on balanced designs).
- :func:`mixed_model`: ``statsmodels.formula.api.mixedlm`` of ``value ~ A * B`` with a random intercept per
  subject, fitted by REML (compound symmetry, as Prism's mixed-effects model), Wald chi2 per term.

Both end with Šídák post-tests on the model's pooled residual: the fitted cell means of the levels of one
factor are compared at each level of the other (Prism's "compare within each row"; Fig. 5A's sex difference
within each region), either all pairs or each level against a control level, one family over every
comparison (m = levels of the other factor x pairs). SE of a difference = sqrt(L V L'), V = covariance of the
fixed effects: in the two-way ANOVA with interaction that is sqrt(MS_residual (1/n_1 + 1/n_2)).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from analysis.posthoc import family_pairs, sidak_adjust, t_test
from analysis.twoway_results import CellComparison, CellSummary, EffectTest, MixedModelFit, TwoWayAnova
from analysis.validation import AnalysisError, as_vector, is_constant

Y, A, B, SUBJECT = "y", "a", "b", "subject"  # internal column names: any caller's column name fits the formula
FULL = f"{Y} ~ C({A}, Sum) * C({B}, Sum)"
ADDITIVE = f"{Y} ~ C({A}, Sum) + C({B}, Sum)"
SS_TYPES = (2, 3)
SIDAK_ANOVA = "sidak (pooled MS, df N-p)"
SIDAK_MIXED = "sidak (mixed model, Wald z)"


def two_way_anova(frame: pd.DataFrame, value: str, factor_a: str, factor_b: str, *, interaction: bool = True,
                  compare: str | None = None, control: str | None = None, typ: int = 3) -> TwoWayAnova:
    """Two-way ANOVA of ``value`` by ``factor_a`` and ``factor_b`` with Šídák post-tests (module docstring).

    Rows missing the value or a factor are dropped and counted. ``compare`` (default ``factor_b``) is the
    factor whose levels are compared at each level of the other; ``control`` a level of it to compare every
    other level with. ``typ``: 3 (Prism) or 2. Post-test df = residual df = N - p (p = cells with the
    interaction, a + b - 1 without). Output: :class:`TwoWayAnova`.
    Raises AnalysisError on missing columns, a factor with one level, an empty cell, no residual df, constant
    values, an unknown ``typ``, ``compare`` or ``control``.
    """
    if typ not in SS_TYPES:
        raise AnalysisError(f"typ must be one of {SS_TYPES}, got {typ!r}")
    data, n_dropped = _design_frame(frame, value, [factor_a, factor_b])
    control = None if control is None else str(control)  # levels are compared as text
    compared, within = _roles(data, factor_a, factor_b, compare, control)
    fit = smf.ols(FULL if interaction else ADDITIVE, data).fit()
    if fit.df_resid < 1:
        raise AnalysisError(f"two-way ANOVA of {value} has no residual df: every cell holds a single value")
    table = anova_lm(fit, typ=typ)
    labels = _term_labels(factor_a, factor_b)
    terms = tuple(EffectTest(labels[name], "F", float(row["F"]), float(row["df"]), float(fit.df_resid),
                             float(row["PR(>F)"]), sum_sq=float(row["sum_sq"]))
                  for name, row in table.iterrows() if name in labels)
    design = _Design(data, np.asarray(fit.model.exog), fit.params.to_numpy(), fit.cov_params().to_numpy())
    return TwoWayAnova(
        dependent=value, factors=(factor_a, factor_b), n=len(data), n_dropped=n_dropped, typ=typ,
        interaction=interaction, terms=terms, residual_ms=float(fit.mse_resid), residual_df=float(fit.df_resid),
        cells=design.cells(), compared=compared, within_factor=within, control=control or "", posthoc=SIDAK_ANOVA,
        comparisons=design.comparisons(compared == factor_a, control, float(fit.df_resid), SIDAK_ANOVA),
    )


def mixed_model(frame: pd.DataFrame, value: str, factor_a: str, factor_b: str, subject: str, *,
                compare: str | None = None, control: str | None = None) -> MixedModelFit:
    """Mixed-effects model of ``value`` by ``factor_a`` * ``factor_b``, random intercept per ``subject`` (REML).

    As Prism's mixed-effects model for repeated measures (e.g. Fig. 5A: regions within subject, sex between
    subjects); unlike repeated-measures ANOVA it keeps subjects with a missing region. Terms: Wald chi2 of the
    sum-coded fixed effects (``wald_test_terms``). Post-tests as :func:`two_way_anova` with the fixed effects'
    covariance and P from the standard normal. ``compare``/``control`` as there. Output: :class:`MixedModelFit`
    (``notes`` holds statsmodels' warnings, e.g. a subject variance on the boundary).
    Raises AnalysisError as :func:`two_way_anova`, with fewer than 2 subjects, or when the fit fails.
    """
    data, n_dropped = _design_frame(frame, value, [factor_a, factor_b], subject)
    control = None if control is None else str(control)  # levels are compared as text
    compared, within = _roles(data, factor_a, factor_b, compare, control)
    if data[SUBJECT].nunique() < 2:
        raise AnalysisError(f"mixed model of {value} needs at least 2 subjects, got {data[SUBJECT].nunique()}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # statsmodels warns about convergence and boundary fits: keep them as notes
        try:
            fit = smf.mixedlm(FULL, data, groups=data[SUBJECT]).fit(reml=True)
            wald = fit.wald_test_terms(scalar=True).table  # fails too on a singular fit (e.g. constant cells)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise AnalysisError(f"mixed model of {value} could not be fitted ({exc})") from None
    labels = _term_labels(factor_a, factor_b)
    terms = tuple(EffectTest(labels[name], "Wald chi2", float(row["statistic"]), float(row["df_constraint"]), np.nan,
                             float(row["pvalue"])) for name, row in wald.iterrows() if name in labels)
    names = fit.fe_params.index
    design = _Design(data, np.asarray(fit.model.exog), fit.fe_params.to_numpy(),
                     fit.cov_params().loc[names, names].to_numpy())
    return MixedModelFit(
        dependent=value, factors=(factor_a, factor_b), subject=subject, n=len(data),
        n_subjects=int(data[SUBJECT].nunique()), n_dropped=n_dropped, terms=terms, residual_variance=float(fit.scale),
        subject_variance=float(fit.cov_re.iloc[0, 0]), log_likelihood=float(fit.llf), converged=bool(fit.converged),
        cells=design.cells(), compared=compared, within_factor=within, control=control or "", posthoc=SIDAK_MIXED,
        comparisons=design.comparisons(compared == factor_a, control, None, SIDAK_MIXED),
        notes=tuple(dict.fromkeys(str(w.message) for w in caught)),
    )


def _roles(data: pd.DataFrame, factor_a: str, factor_b: str, compare: str | None,
           control: str | None) -> tuple[str, str]:
    """(compared factor, factor it is compared within); default compares factor_b's levels.

    ``control`` is checked here, before any fitting, so that a typo does not cost a mixed-model fit.
    """
    compared = factor_b if compare is None else compare
    if compared not in (factor_a, factor_b):
        raise AnalysisError(f"compare must be {factor_a!r} or {factor_b!r}, got {compare!r}")
    family_pairs(list(data[A if compared == factor_a else B].cat.categories), control)
    return compared, factor_a if compared == factor_b else factor_b


def _term_labels(factor_a: str, factor_b: str) -> dict[str, str]:
    """statsmodels' term names -> the caller's ('region', 'sex', 'region:sex'); the intercept is left out."""
    a, b = f"C({A}, Sum)", f"C({B}, Sum)"
    return {a: factor_a, b: factor_b, f"{a}:{b}": f"{factor_a}:{factor_b}"}


def _design_frame(frame: pd.DataFrame, value: str, factors: list[str],
                  subject: str | None = None) -> tuple[pd.DataFrame, int]:
    """Complete rows under the internal column names, factors as ordered text categories; and rows dropped.

    Levels keep a categorical column's order, else pandas' sorted order (as ``groupby``), so that tables and
    post-tests list them as the caller sees them.
    """
    columns = [value, *factors, *([subject] if subject else [])]
    absent = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if absent or len(set(columns)) < len(columns):
        raise AnalysisError(f"need distinct columns {columns}; missing: {absent}")
    y = as_vector(frame[value].reset_index(drop=True), value)
    keep = ~np.isnan(y) & frame[columns[1:]].notna().all(axis=1).to_numpy()
    data = pd.DataFrame({Y: y[keep]})
    for name, column in zip((A, B), factors, strict=True):
        data[name] = _levels(frame.loc[keep, column], column)
    if subject:
        data[SUBJECT] = frame.loc[keep, subject].astype(str).to_numpy()
    if is_constant(data[Y].to_numpy()):
        raise AnalysisError(f"{value} is constant: no comparison possible")
    _require_cells(data, factors)
    return data, int((~keep).sum())


def _levels(series: pd.Series, name: str) -> pd.Categorical:
    category = series.astype("category").cat.remove_unused_categories()
    levels = [str(level) for level in category.cat.categories]
    if len(levels) < 2:
        raise AnalysisError(f"factor {name} needs at least 2 levels, got {levels}")
    return pd.Categorical(category.astype(str).to_numpy(), categories=levels)


def _require_cells(data: pd.DataFrame, factors: list[str]) -> None:
    """Every level combination must be observed: an empty cell leaves its mean (and its post-tests) undefined."""
    counts = data.groupby([A, B], observed=False).size()
    empty = [f"{factors[0]}={a}, {factors[1]}={b}" for (a, b), n in counts.items() if n == 0]
    if empty:
        raise AnalysisError(f"empty cell(s): {'; '.join(empty)}")


class _Design:
    """Fitted cell means and their contrasts from one model's fixed effects (params, covariance)."""

    def __init__(self, data: pd.DataFrame, exog: np.ndarray, params: np.ndarray, cov: np.ndarray) -> None:
        self.data, self.params, self.cov = data, params, cov
        self.levels_a = list(data[A].cat.categories)
        self.levels_b = list(data[B].cat.categories)
        # every row of one cell has the same design row (the factors are all the model holds)
        self.rows = {key: exog[positions[0]] for key, positions in data.groupby([A, B], observed=True).indices.items()}

    def cells(self) -> tuple[CellSummary, ...]:
        """Raw n, mean, SD, SEM and fitted mean per cell, factor_a's levels outermost."""
        out = []
        for (a, b), values in self.data.groupby([A, B], observed=True)[Y]:
            sd = float(values.std(ddof=1)) if values.size > 1 else np.nan
            out.append(CellSummary(str(a), str(b), int(values.size), float(values.mean()), sd,
                                   sd / float(np.sqrt(values.size)), float(self.rows[(a, b)] @ self.params)))
        return tuple(out)

    def comparisons(self, compare_a: bool, control: str | None, df: float | None,
                    method: str) -> tuple[CellComparison, ...]:
        """Šídák over one family: every pair (or control vs each) of the compared levels within each other level.

        ``df`` None: P from the standard normal, recorded as df NaN (JSON has no infinity).
        """
        compared, within = (self.levels_a, self.levels_b) if compare_a else (self.levels_b, self.levels_a)
        pairs = family_pairs(compared, control)
        def cell(level: str, w: str) -> np.ndarray:
            return self.rows[(level, w) if compare_a else (w, level)]

        rows = []
        for w in within:
            for i, j in pairs:
                contrast = cell(compared[i], w) - cell(compared[j], w)
                difference = float(contrast @ self.params)
                se = float(np.sqrt(contrast @ self.cov @ contrast))
                rows.append((w, compared[i], compared[j], difference, se, *t_test(difference, se, df)))
        adjusted = sidak_adjust([row[-1] for row in rows])
        shown_df = np.nan if df is None else df
        return tuple(CellComparison(w, a, b, d, se, float(t), shown_df, p, float(q), method)
                     for (w, a, b, d, se, t, p), q in zip(rows, adjusted, strict=True))
