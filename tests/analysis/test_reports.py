"""One-call reports that the Django commands use."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import AnalysisError, agreement, model_sequence
from analysis.reports import agreement_report, outlier_report, regression_report, univariable_report
from analysis.tables import agreement_table, model_table, render_text


def test_agreement_report_labels_each_comparison_first_vs_second(liver: pd.DataFrame) -> None:
    frame = liver.assign(atlas=0.9 * liver["atlas_raw"] - 0.8)
    labels = {"reference": "Reference", "network": "Network", "atlas": "Atlas"}
    text = agreement_report(frame, [("reference", "network"), ("reference", "atlas")], labels=labels)
    expected = agreement_table([("Reference vs Network", agreement(frame["reference"], frame["network"])),
                                ("Reference vs Atlas", agreement(frame["reference"], frame["atlas"]))])
    assert text == render_text(expected)


def test_agreement_report_names_an_absent_column(liver: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"no column\(s\) \['atlas'\]"):
        agreement_report(liver, [("reference", "atlas")])


def test_regression_report_renders_the_model_sequence(bone: pd.DataFrame) -> None:
    models = [["bmff_spine", "sex"], ["bmff_spine", "sex", "bmi"]]
    text = regression_report(bone, "bmd_spine", models)
    assert text == render_text(model_table(model_sequence(bone, "bmd_spine", models)))
    assert regression_report(bone, "bmd_spine", models, fmt="csv").startswith("Model,Adj. R2,AIC,bmff_spine,Sex (M)")


def test_univariable_report_renders_the_family(bone: pd.DataFrame) -> None:
    text = univariable_report(bone, [("bmff_head", "bmff_spine")])
    assert "Female" in text and "Bonferroni-adjusted alpha for P (Exp) = 0.05/1" in text


def test_outlier_report_identifies_subjects_by_eid(liver: pd.DataFrame) -> None:
    text = outlier_report(liver, "reference", "network", n=3)
    d = (liver["reference"] - liver["network"]).abs()
    top = liver.loc[d.idxmax(), "eid"]
    assert text.splitlines()[3].split()[:2] == ["1", str(top)]
