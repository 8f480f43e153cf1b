"""Paper-style tables from result types, rendered as plain text or CSV without recomputing anything.

A :class:`Table` is a title, a header, rows of formatted cells and notes. ``*_table`` functions build one
from results; :func:`render_text` and :func:`render_csv` render any table; ``render_*_table`` do both steps
(``fmt='text'`` or ``'csv'``). Formats follow the papers: liver Table 1 (MAE 2 decimals, R2 and ROC-AUC 3,
LoA 2, Sens/Spec in % with 1), BMFF Table 4 (beta (lower, upper), P as 1.25E-03 below 0.001) and Tables 5-8
(beta (lower to upper) with stars, Adj. R2 2 decimals, AIC 1). A missing figure prints as '-'.
CSV holds only the grid (header + rows); cells that a spreadsheet would run as a formula are escaped.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.results import (
    AgreementResult,
    Coefficient,
    GroupComparison,
    ModelFit,
    ModelSequence,
    OutlierRanking,
    UnivariableFamily,
)
from analysis.twoway_results import MixedModelFit, TwoWayAnova

if TYPE_CHECKING:
    from analysis.longitudinal import PairedChange, Repeatability
from analysis.validation import AnalysisError

MISSING = "-"
FORMATS = ("text", "csv")


@dataclass(frozen=True)
class Table:
    """A rendered-ready table; ``group_columns`` leading columns are blanked in text when they repeat."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    group_columns: int = 0

    def to_rows(self) -> list[dict[str, str]]:
        """Rows as dictionaries keyed by the header."""
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


# --- number formatting ----------------------------------------------------------------------------------------


def num(value: float, decimals: int) -> str:
    """Fixed decimals; scientific notation when a non-zero value would round to zero; '-' for NaN."""
    if math.isnan(value):
        return MISSING
    if value != 0 and abs(value) < 0.5 * 10.0**-decimals:
        return f"{value:.2e}"
    return f"{value:.{decimals}f}"


def p_value(p: float) -> str:
    """P as the BMFF paper prints it: '1.25E-03' below 0.001, else 3 decimals; '-' for NaN."""
    if math.isnan(p):
        return MISSING
    return f"{p:.2E}" if p < 0.001 else f"{p:.3f}"


def percent(fraction: float) -> str:
    """A fraction as a percentage with one decimal ('89.3'); '-' for NaN."""
    return num(fraction * 100.0, 1)


# --- tables -----------------------------------------------------------------------------------------------------


def agreement_table(results: Sequence[tuple[str, AgreementResult]], title: str = "Method comparison") -> Table:
    """Liver paper Table 1: one row per ``(label, result)``, label like 'Reference vs Network'."""
    rows = tuple(
        (label, num(r.mae, 2), num(r.r2, 3), f"({num(r.loa_lower, 2)} to {num(r.loa_upper, 2)})",
         num(r.roc_auc, 3), percent(r.sensitivity), percent(r.specificity))
        for label, r in results
    )
    thresholds = sorted({r.threshold for _, r in results})
    notes = [
        "Differences are first minus second named method; LoA = bias +/- 1.96 SD.",
        f"ROC-AUC, Sens and Spec (%) threshold at {', '.join(f'{t:g}' for t in thresholds)} "
        "(value above threshold = positive), first named method as ground truth.",
    ]
    notes += [f"{label}: n = {r.n}" + (f" ({r.n_dropped} incomplete pairs dropped)" if r.n_dropped else "")
              + "".join(f"; {note}" for note in r.notes) for label, r in results]
    header = ("Comparison", "MAE", "R2", "LoA", "ROC-AUC", "Sens", "Spec")
    return Table(title, header, rows, tuple(notes))


def univariable_table(family: UnivariableFamily, title: str = "Univariable associations") -> Table:
    """BMFF paper Table 4 / Supplemental Tables: Both row and, where the interaction is significant, strata."""
    rows = tuple(
        (r.explanatory, r.dependent, r.stratum, f"{num(r.beta, 3)} ({num(r.ci_low, 3)}, {num(r.ci_high, 3)})",
         num(r.adj_r2, 3), p_value(r.p), p_value(r.p_interaction), "yes" if r.significant else "")
        for r in family.rows
    )
    notes = (
        f"Bonferroni-adjusted alpha for P (Exp) = {family.alpha:g}/{family.n_tests} = {family.adjusted_alpha:.4g}; "
        "Sig. marks P (Exp) below it.",
        f"P (Exp*Sex) from dependent ~ explanatory * sex; sex-stratified rows where it is < "
        f"{family.interaction_alpha:g}.",
        "Rows: " + "; ".join(f"{r.dependent} ~ {r.explanatory} ({r.stratum}) n = {r.n}" for r in family.rows),
    )
    header = ("Explanatory variable", "Dependent variable", "Sex", "beta (95% CI)", "Adj. R2", "P (Exp)",
              "P (Exp*Sex)", "Sig.")
    return Table(title, header, rows, notes, group_columns=2)


def model_table(sequence: ModelSequence, title: str | None = None, decimals: int = 3) -> Table:
    """BMFF paper Tables 5-8: one row per model; covariate cells 'beta (lower to upper)' plus stars."""
    rows = tuple(
        (fit.name, num(fit.adj_r2, 2), num(fit.aic, 1),
         *(_beta_cell(fit.coefficient(label), decimals) for label in sequence.labels))
        for fit in sequence.fits
    )
    sizes = {(fit.n, fit.n_dropped) for fit in sequence.fits}
    size_note = (f"n = {sequence.fits[0].n} ({sequence.fits[0].n_dropped} incomplete rows dropped)"
                 if len(sizes) == 1 else "; ".join(f"{fit.name}: n = {fit.n}" for fit in sequence.fits))
    transform = " (rank-based inverse normal transformed)" if sequence.transform == "rint" else ""
    notes = (
        f"Dependent variable: {sequence.dependent}{transform}; {size_note}.",
        "beta (95% CI); * P < 0.05, ** P < 0.01, *** P < 0.001; AIC as R's AIC(lm).",
    )
    header = ("Model", "Adj. R2", "AIC", *sequence.labels)
    return Table(title or f"Multivariable regression: {sequence.dependent}", header, rows, notes)


def _beta_cell(coefficient: Coefficient | None, decimals: int) -> str:
    if coefficient is None:
        return MISSING
    c = coefficient
    return f"{num(c.beta, decimals)} ({num(c.ci_low, decimals)} to {num(c.ci_high, decimals)}){c.stars}"


def group_table(results: Sequence[tuple[str, GroupComparison]], title: str = "Group comparison",
                decimals: int = 2) -> Table:
    """One row per variable: each group's mean ± SEM or median [IQR], the test used and its P."""
    names = results[0][1].names if results else ()
    if any(result.names != names for _, result in results):
        raise AnalysisError("group_table needs the same groups, in the same order, for every variable")
    rows = tuple(
        (label, *(d.summary(decimals) for d in result.groups), result.test, p_value(result.p))
        for label, result in results
    )
    notes = ("Normal (Anderson-Darling P >= 0.05): mean ± SEM, ANOVA + Sidak on the pooled MS; otherwise "
             "median [IQR], Kruskal-Wallis + Dunn.",)
    return Table(title, ("Variable", *names, "Test", "P"), rows, notes)


def stars(p: float, mark: str = "*") -> str:
    """The papers' significance marks: one ``mark`` below 0.05, two below 0.01, three below 0.001."""
    if math.isnan(p):
        return ""
    return mark * sum(p < level for level in (0.05, 0.01, 0.001))


@dataclass(frozen=True)
class SexSplitRow:
    """One variable of the BMFF paper's Table 1: the WHO groups compared within each sex (a control family),
    and controls of the two sexes compared with each other (None when not computable)."""

    label: str
    by_sex: Mapping[str, GroupComparison]  # sex label -> comparison of its groups, control first
    sex_difference: GroupComparison | None = None


def characteristics_by_sex_table(rows: Sequence[SexSplitRow], sexes: Sequence[str] = ("Males", "Females"),
                                 title: str = "Participant characteristics", decimals: int = 2) -> Table:
    """BMFF paper Table 1 layout: one column per sex and group (``Males Control (n = 138)``), each cell mean ± SEM
    or median [IQR]; '*' marks a group that differs from its sex's control (adjusted P, :func:`stars`), '#' marks the
    second sex's control cell where the controls of the two sexes differ. A sex's groups and sizes come from the
    first variable that has it; a variable lacking a sex shows '-' there."""
    first = {sex: next((row.by_sex[sex] for row in rows if sex in row.by_sex), None) for sex in sexes}
    if not rows or any(comparison is None for comparison in first.values()):
        raise AnalysisError(f"characteristics_by_sex_table needs at least one variable for each of {list(sexes)}")
    names = {sex: first[sex].names for sex in sexes}
    header = ("Variable", *(f"{sex} {name} (n = {d.n + d.n_missing})" for sex in sexes
                            for name, d in zip(names[sex], first[sex].groups, strict=True)))
    grid = tuple((row.label, *(cell for i, sex in enumerate(sexes)
                               for cell in _sex_cells(row, sex, len(names[sex]), decimals, second=i == 1)))
                 for row in rows)
    notes = ("Within each sex: ANOVA + Sidak on the pooled MS (mean ± SEM) when every group is normal "
             "(Anderson-Darling P >= 0.05), else Kruskal-Wallis + Dunn (median [IQR]); each group against the "
             "control, P adjusted over the family: * P < 0.05, ** P < 0.01, *** P < 0.001. Controls, "
             f"{' vs '.join(sexes)}: # P < 0.05, ## P < 0.01, ### P < 0.001 (on the {sexes[-1]} control cell).",
             "Tests per variable: " + "; ".join(
                 f"{row.label} " + ", ".join(f"{sex} {c.test}" for sex, c in row.by_sex.items()) for row in rows))
    return Table(title, header, grid, notes)


def _sex_cells(row: SexSplitRow, sex: str, n_groups: int, decimals: int, second: bool) -> list[str]:
    comparison = row.by_sex.get(sex)
    if comparison is None:
        return [MISSING] * n_groups
    marks = {c.group_b: stars(c.p_adjusted) for c in comparison.pairwise}
    cells = [d.summary(decimals) + marks.get(name, "") for name, d in zip(comparison.names, comparison.groups,
                                                                         strict=True)]
    if second and row.sex_difference is not None:
        cells[0] += stars(row.sex_difference.pairwise[0].p_adjusted, "#")
    return cells


def two_factor_tables(result: TwoWayAnova | MixedModelFit, title: str | None = None,
                      decimals: int = 2) -> list[Table]:
    """BMFF paper Fig. 5A box and post-tests: the overall test per term, then the Šídák comparisons.

    Terms table: term, test (F or Wald chi2), statistic, df, P. Comparisons table: one row per comparison of
    the compared factor's levels within each level of the other factor, with both cells' mean ± SEM and n,
    the fitted difference, its SE and raw and adjusted P.
    """
    name = title or f"{result.dependent} by {' and '.join(result.factors)}"
    df = [num(t.df_num, 0) + ("" if math.isnan(t.df_den) else f", {num(t.df_den, 0)}") for t in result.terms]
    terms = tuple((t.term, t.test, num(t.statistic, 2), d, p_value(t.p)) for t, d in zip(result.terms, df,
                                                                                             strict=True))
    size = (f"n = {result.n} values of {result.n_subjects} subjects" if isinstance(result, MixedModelFit)
            else f"n = {result.n}") + f" ({result.n_dropped} incomplete rows dropped)"
    model = ("mixed-effects model, random intercept per subject (REML), Wald chi2 of sum-coded terms"
             if isinstance(result, MixedModelFit) else f"two-way ANOVA, type {result.typ} sums of squares")
    notes = (f"{model}; {size}.", *getattr(result, "notes", ()))
    first = Table(f"{name}: overall tests", ("Term", "Test", "Statistic", "df", "P"), terms, notes)
    cells = {(c.level_a, c.level_b) if result.compared == result.factors[1] else (c.level_b, c.level_a): c
             for c in result.cells}

    def summary(within: str, level: str) -> str:
        cell = cells[(within, level)]
        return f"{num(cell.mean, decimals)} ± {num(cell.sem, decimals)} (n = {cell.n})"

    rows = tuple((c.within, f"{c.level_a} vs {c.level_b}", summary(c.within, c.level_a), summary(c.within, c.level_b),
                  num(c.difference, decimals), num(c.se, decimals), p_value(c.p_raw), p_value(c.p_adjusted))
                 for c in result.comparisons)
    header = (result.within_factor, result.compared, "Mean ± SEM (first)", "Mean ± SEM (second)", "Difference",
              "SE", "P", "P (adjusted)")
    posthoc = (f"{result.posthoc}: {result.compared} levels compared within each {result.within_factor}, one family "
               f"of {len(result.comparisons)}; difference = fitted mean of first - second.",)
    return [first, Table(f"{name}: {result.compared} within {result.within_factor}", header, rows, posthoc,
                         group_columns=1)]


def change_table(rows: Sequence[tuple[str, PairedChange, Repeatability]], title: str = "Change between visits",
                 unit: str = "%") -> Table:
    """One row per quantity and method: the paired change from the first to the repeat imaging visit (mean,
    95 % CI, paired t and Wilcoxon P, per year) and its repeatability (RC, within-subject CV, ICC(A,1))."""
    body = tuple(
        (label, str(c.n), num(c.mean_first, 2), num(c.mean_second, 2), num(c.mean_change, 2),
         f"{num(c.ci_low, 2)} to {num(c.ci_high, 2)}", p_value(c.p), p_value(c.wilcoxon_p),
         num(c.mean_change_per_year, 2), num(c.mean_days, 0), num(r.rc, 2), num(r.wcv, 1), num(r.icc_a1, 3),
         f"{num(r.loa_lower, 2)} to {num(r.loa_upper, 2)}")
        for label, c, r in rows)
    header = ("Quantity and method", "n pairs", f"Visit 2 mean ({unit})", f"Visit 3 mean ({unit})",
              "Mean change (pp)", "95% CI (pp)", "Paired t P", "Wilcoxon P", "Change per year (pp)",
              "Mean days between", "RC (pp)", "wCV (%)", "ICC(A,1)", "LoA (pp)")
    notes = ("Change = repeat visit (instance 3) - first imaging visit (instance 2), in percentage points (pp), over "
             "participants with a value at both.",
             "RC: repeatability coefficient 1.96 * sqrt(2) * within-subject SD; wCV: within-subject coefficient of "
             "variation; ICC(A,1): two-way absolute agreement (McGraw & Wong); LoA: Bland-Altman limits of agreement "
             "of visit 3 against visit 2 (bias +/- 1.96 SD). With a true change between visits these measure the "
             "method's noise and the biological change together.")
    return Table(title, header, body, notes)


def coefficient_table(fit: ModelFit, title: str | None = None, decimals: int = 3) -> Table:
    """One row per coefficient of one OLS model: beta, its 95 % CI and P, with n and R2 in the notes."""
    rows = tuple((c.label, num(c.beta, decimals), f"{num(c.ci_low, decimals)} to {num(c.ci_high, decimals)}",
                  p_value(c.p)) for c in fit.coefficients)
    notes = (f"Dependent variable: {fit.dependent}; n = {fit.n} ({fit.n_dropped} incomplete rows dropped); "
             f"R2 {num(fit.r2, 3)}, adjusted R2 {num(fit.adj_r2, 3)}.",)
    return Table(title or f"Regression of {fit.dependent}", ("Term", "beta", "95% CI", "P"), rows, notes)


def outlier_table(ranking: OutlierRanking, a_label: str = "a", b_label: str = "b",
                  title: str = "Largest disagreements", ids: Mapping | None = None) -> Table:
    """Ranked subjects with both values and the difference a - b; ``ids`` names each ranked id (e.g. a scan id
    as "eid_instance"), else the id is shown as it is."""
    rows = tuple((str(r.rank), str(ids.get(r.id, r.id) if ids else r.id), num(r.a, 2), num(r.b, 2),
                  num(r.difference, 2)) for r in ranking.rows)
    notes = (f"Ranked by |{a_label} - {b_label}| over {ranking.n} complete pairs "
             f"({ranking.n_dropped} incomplete dropped); ties keep input order.",)
    return Table(title, ("Rank", "ID", a_label, b_label, f"{a_label} - {b_label}"), rows, notes)


# --- rendering ------------------------------------------------------------------------------------------------------


def render_text(table: Table) -> str:
    """Fixed-width plain text: title, header, rule, rows (label columns left-aligned, others right), notes."""
    rows = _blank_repeats(table.rows, table.group_columns)
    widths = [max(len(cell) for cell in column) for column in zip(table.header, *rows, strict=True)]
    left = max(table.group_columns, 1)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    body = [table.title, line(table.header), "  ".join("-" * w for w in widths), *map(line, rows)]
    return "\n".join(body + ([""] + list(table.notes) if table.notes else [])) + "\n"


def _blank_repeats(rows: Sequence[tuple[str, ...]], columns: int) -> list[tuple[str, ...]]:
    out, previous = [], ("",) * columns
    for row in rows:
        key = row[:columns]
        shown = tuple("" if key[: i + 1] == previous[: i + 1] else key[i] for i in range(columns))
        out.append(shown + row[columns:])
        previous = key
    return out


def render_csv(table: Table) -> str:
    """The header and rows as CSV (RFC 4180, csv module).

    Text that comes from callers (the header and the label columns: the first ``max(group_columns, 1)``) is
    escaped against spreadsheet formula injection: a cell starting with = + - @ tab or CR gets a leading "'".
    Figure cells are produced here from numbers and are written as they are.
    """
    labels = max(table.group_columns, 1)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_safe(cell) for cell in table.header])
    writer.writerows([*map(_safe, row[:labels]), *row[labels:]] for row in table.rows)
    return buffer.getvalue()


def _safe(cell: str) -> str:
    """Prefix "'" to text a spreadsheet would evaluate (starting with = + - @ tab CR)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def render(table: Table, fmt: str = "text") -> str:
    """Render a table as 'text' or 'csv'."""
    if fmt not in FORMATS:
        raise AnalysisError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    return render_text(table) if fmt == "text" else render_csv(table)


def render_agreement_table(results: Sequence[tuple[str, AgreementResult]], fmt: str = "text") -> str:
    """:func:`agreement_table` rendered as text or CSV."""
    return render(agreement_table(results), fmt)


def render_univariable_table(family: UnivariableFamily, fmt: str = "text") -> str:
    """:func:`univariable_table` rendered as text or CSV."""
    return render(univariable_table(family), fmt)


def render_model_table(sequence: ModelSequence, fmt: str = "text") -> str:
    """:func:`model_table` rendered as text or CSV."""
    return render(model_table(sequence), fmt)
