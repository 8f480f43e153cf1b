"""Paper-style tables: layout, number formats, text and CSV rendering."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from analysis import AgreementResult, AnalysisError, compare_groups, model_sequence, two_way_anova, univariable_family
from analysis.tables import (
    Table,
    agreement_table,
    group_table,
    model_table,
    num,
    p_value,
    render,
    render_agreement_table,
    render_csv,
    render_model_table,
    render_text,
    render_univariable_table,
)


def paper_row(mae: float, r2: float, loa: tuple[float, float], auc: float, sens: float, spec: float) -> AgreementResult:
    return AgreementResult(n=4418, n_dropped=0, bias=0.0, sd_difference=1.0, mae=mae, r2=r2, pearson_r=0.97,
                           pearson_p=0.0, loa_lower=loa[0], loa_upper=loa[1], threshold=5.5, roc_auc=auc,
                           sensitivity=sens, specificity=spec, n_positive=900, n_negative=3518)


LIVER_TABLE_1 = [
    ("Reference vs Network", paper_row(0.77, 0.940, (-2.22, 2.31), 0.992, 0.893, 0.982)),
    ("Reference vs Atlas", paper_row(1.03, 0.912, (-2.73, 2.73), 0.991, 0.780, 0.992)),
]


def test_agreement_table_prints_the_liver_papers_table_1() -> None:
    text = render_agreement_table(LIVER_TABLE_1)
    lines = text.splitlines()
    assert lines[1].split() == ["Comparison", "MAE", "R2", "LoA", "ROC-AUC", "Sens", "Spec"]
    assert lines[3].split() == ["Reference", "vs", "Network", "0.77", "0.940", "(-2.22", "to", "2.31)", "0.992",
                                "89.3", "98.2"]
    assert lines[4].split()[3:] == ["1.03", "0.912", "(-2.73", "to", "2.73)", "0.991", "78.0", "99.2"]
    assert "Reference vs Network: n = 4418" in text


def test_csv_has_the_same_grid_as_the_text() -> None:
    table = agreement_table(LIVER_TABLE_1)
    parsed = list(csv.reader(io.StringIO(render_csv(table))))
    assert parsed[0] == list(table.header)
    assert parsed[1:] == [list(row) for row in table.rows]
    assert parsed[1][3] == "(-2.22 to 2.31)"


def test_csv_escapes_caller_text_that_a_spreadsheet_would_evaluate() -> None:
    table = Table("t", ("=cmd", "value"), (("@SUM(A1)", "-0.50"), ("+1 vs 2", "-"), ("plain", "1")))
    parsed = list(csv.reader(io.StringIO(render_csv(table))))
    assert parsed == [["'=cmd", "value"], ["'@SUM(A1)", "-0.50"], ["'+1 vs 2", "-"], ["plain", "1"]]


def test_missing_figures_print_as_a_dash_and_tiny_ones_are_not_rounded_to_zero() -> None:
    assert num(float("nan"), 2) == "-" and p_value(float("nan")) == "-"
    assert num(0.00003, 3) == "3.00e-05" and num(0.0, 3) == "0.000" and num(-0.0049, 3) == "-0.005"
    assert p_value(0.00125) == "0.001" and p_value(0.000125) == "1.25E-04"


def test_univariable_table_blanks_repeated_names_in_text_but_not_in_csv(bone: pd.DataFrame) -> None:
    family = univariable_family(bone, [("bmff_head", "bmff_spine"), ("bmd_spine", "bmff_spine")],
                                labels={"bmff_spine": "BMFF Spine", "bmff_head": "BMFF Femoral Head"})
    lines = render_univariable_table(family).splitlines()
    assert lines[3].startswith("BMFF Spine") and "Both" in lines[3]
    assert lines[4].split()[0] == "Female" and lines[5].split()[0] == "Male"
    assert lines[6].split()[:2] == ["bmd_spine", "Both"]
    assert "0.05/2 = 0.025" in "\n".join(lines)
    rows = list(csv.reader(io.StringIO(render_univariable_table(family, fmt="csv"))))
    expected = [["BMFF Spine", "BMFF Femoral Head", stratum] for stratum in ("Both", "Female", "Male")]
    assert [row[:3] for row in rows[1:4]] == expected
    both = family.rows[0]
    assert rows[1][3] == f"{both.beta:.3f} ({both.ci_low:.3f}, {both.ci_high:.3f})"


def test_model_table_has_the_bmff_paper_layout(bone: pd.DataFrame) -> None:
    sequence = model_sequence(bone, "bmd_spine", [["bmff_spine", "sex"], ["bmff_spine", "sex", "bmi"]],
                              names=["Model 4.1", "Model 4.2"], labels={"bmff_spine": "BMFF Spine", "bmi": "BMI"})
    table = model_table(sequence)
    assert table.header == ("Model", "Adj. R2", "AIC", "BMFF Spine", "Sex (M)", "BMI")
    first = sequence.fits[0]
    spine = first.coefficient("BMFF Spine")
    assert table.rows[0][:3] == ("Model 4.1", f"{first.adj_r2:.2f}", f"{first.aic:.1f}")
    assert table.rows[0][3] == f"{spine.beta:.3f} ({spine.ci_low:.3f} to {spine.ci_high:.3f})***"
    assert table.rows[0][5] == "-"
    assert "n = 600 (0 incomplete rows dropped)" in render_model_table(sequence)


def test_group_table_shows_each_groups_summary(rng: np.random.Generator) -> None:
    result = compare_groups({"Control": rng.normal(50, 5, 40), "Osteoporotic": rng.normal(55, 5, 40)})
    table = group_table([("BMFF spine", result)])
    assert table.rows[0][1] == result.groups[0].summary() and table.rows[0][3] == "anova"
    other = compare_groups({"A": rng.normal(0, 1, 9), "B": rng.normal(0, 1, 9)})
    with pytest.raises(AnalysisError, match="same groups"):
        group_table([("x", result), ("y", other)])


def test_text_aligns_columns_and_ends_with_the_notes() -> None:
    table = Table("Title", ("Label", "Value"), (("a", "1.0"), ("longer", "10.25")), ("a note",))
    assert render_text(table) == "Title\nLabel   Value\n------  -----\na         1.0\nlonger  10.25\n\na note\n"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(AnalysisError, match="fmt must be one of"):
        render(Table("t", ("a",), ()), fmt="xlsx")


def test_stars_mark_the_papers_significance_levels() -> None:
    from analysis.tables import stars

    assert [stars(p) for p in (0.2, 0.05, 0.049, 0.009, 0.0009, float("nan"))] == ["", "", "*", "**", "***", ""]
    assert stars(0.004, "#") == "##"


def test_characteristics_by_sex_table_marks_groups_against_their_sexs_control_and_the_sex_difference(
        rng: np.random.Generator) -> None:
    from analysis.tables import SexSplitRow, characteristics_by_sex_table, stars

    def family(shift: float, extra: float) -> object:
        return compare_groups({"Control": np.r_[rng.normal(50 + shift, 2, 30), np.nan],
                               "Osteopaenic": rng.normal(50.5 + shift, 2, 30),
                               "Osteoporotic": rng.normal(56 + shift + extra, 2, 20)}, control="Control")

    males, females = family(0.0, 0.0), family(5.0, 1.0)
    sex = compare_groups({"Males": rng.normal(50, 2, 30), "Females": rng.normal(55, 2, 30)})
    table = characteristics_by_sex_table([SexSplitRow("BMFF spine", {"Males": males, "Females": females}, sex),
                                          SexSplitRow("Age", {"Females": family(0.0, 0.0)})])
    assert table.header == ("Variable", "Males Control (n = 31)", "Males Osteopaenic (n = 30)",
                            "Males Osteoporotic (n = 20)", "Females Control (n = 31)", "Females Osteopaenic (n = 30)",
                            "Females Osteoporotic (n = 20)")
    spine = table.rows[0]
    assert spine[1] == males.groups[0].summary()  # a control cell carries no star
    for cell, description, comparison in ((spine[2], males.groups[1], males.pairwise[0]),
                                          (spine[3], males.groups[2], males.pairwise[1])):
        assert cell == description.summary() + stars(comparison.p_adjusted)
    assert spine[3].endswith("***") and spine[4] == females.groups[0].summary() + "###"  # 5 units apart, n = 30
    assert table.rows[1][1:4] == ("-", "-", "-")  # no male values of this variable
    assert "# P < 0.05" in table.notes[0] and "BMFF spine Males" in table.notes[1]
    with pytest.raises(AnalysisError, match="at least one variable for each of"):
        characteristics_by_sex_table([SexSplitRow("Age", {"Females": females})])


def test_two_factor_tables_show_the_terms_and_each_comparison_with_both_cells(rng: np.random.Generator) -> None:
    from analysis import mixed_model
    from analysis.tables import two_factor_tables

    frame = pd.DataFrame([(f"s{s}", "FM"[s % 2], region, 50.0 + 20 * i + 3 * (s % 2) + rng.normal(0, 2))
                          for s in range(16) for i, region in enumerate(("spine", "hip"))],
                         columns=["eid", "sex", "region", "bmff"])
    result = mixed_model(frame, "bmff", "region", "sex", "eid", compare="sex")
    terms, comparisons = two_factor_tables(result, title="BMFF")
    assert [row[0] for row in terms.rows] == ["region", "sex", "region:sex"]
    assert terms.rows[1][2] == f"{result.term('sex').statistic:.2f}" and terms.rows[1][4] == p_value(
        result.term("sex").p)
    assert "n = 32 values of 16 subjects" in terms.notes[0]
    hip = next(c for c in result.cells if c.level_a == "hip" and c.level_b == "M")
    row = next(r for r in comparisons.rows if r[0] == "hip")
    assert row[1] == "F vs M" and row[3] == f"{hip.mean:.2f} ± {hip.sem:.2f} (n = 8)"
    at_hip = next(c for c in result.comparisons if c.within == "hip")
    assert row[7] == p_value(at_hip.p_adjusted) and comparisons.header[:2] == ("region", "sex")
    assert "one family of 2" in comparisons.notes[0]
    anova = two_way_anova(frame, "bmff", "region", "sex")
    assert two_factor_tables(anova)[0].rows[0][3] == f"1, {anova.residual_df:.0f}"
