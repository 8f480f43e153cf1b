"""report agreement / outliers / regression: the papers' tables from what the database holds."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from analysis import agreement
from tests.factories import make_scan, make_subject
from ukbstudy.measurements.selectors.frames import scan_frame
from ukbstudy.measurements.services import measurement_record
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort():
    rng = np.random.default_rng(3)
    subjects = []
    for i in range(40):
        age, bmi = float(rng.integers(50, 75)), float(rng.normal(26, 4))
        subject = make_subject(sex="F" if i % 2 else "M", age=age, bmi=bmi)
        scan = make_scan(subject)
        truth = float(rng.gamma(1.5, 3.0))
        ReferenceValue.objects.create(subject=subject, field="22402-2.0", value=truth,
                                      import_batch=scan.import_batch)
        measurement_record(scan=scan, quantity="liver_ff", method="network", value=truth + float(rng.normal(0, 0.8)))
        CovariateValue.objects.create(subject=subject, field="23204-2.0", import_batch=scan.import_batch,
                                      value=1.3 - 0.01 * age + 0.005 * bmi + float(rng.normal(0, 0.05)))
        subjects.append(subject)
    return subjects


def test_agreement_prints_table_1_with_the_engines_figures(cohort, capsys):
    call_command("report", "agreement", "--a", "reference", "--b", "network")
    out = capsys.readouterr().out
    frame = scan_frame(columns=["reference", "network"])
    expected = agreement(frame["reference"], frame["network"])
    assert "reference vs network" in out and "ROC-AUC" in out
    assert f"{expected.mae:.2f}" in out and f"{expected.r2:.3f}" in out


def test_withdrawn_subjects_are_left_out(cohort):
    subjects_withdraw(eids=[cohort[0].eid])
    frame = scan_frame(columns=["reference", "network"])
    assert len(frame) == 39 and cohort[0].eid not in set(frame["eid"])


def test_outliers_list_the_largest_disagreements(cohort, capsys):
    call_command("report", "outliers", "--a", "reference", "--b", "network", "-n", "3")
    frame = scan_frame(columns=["reference", "network"])
    worst = frame.loc[(frame["reference"] - frame["network"]).abs().idxmax(), "eid"]
    assert str(worst) in capsys.readouterr().out


def test_regression_prints_univariable_and_model_tables_as_csv(cohort, capsys):
    call_command("report", "--format", "csv", "regression", "--dependent", "bmd_spine", "--explanatory", "age",
                 "--model", "age,sex", "--model", "age,sex,bmi")
    out = capsys.readouterr().out
    assert "Model 2" in out and "Sex (M)" in out and "age" in out
    assert out.count("\n") > 4


def test_unknown_columns_and_empty_comparisons_fail_clearly(cohort):
    with pytest.raises(CommandError, match="unknown column 'liver'"):
        call_command("report", "agreement", "--b", "liver")
    with pytest.raises(CommandError, match="at least 3 complete rows, got 0"):
        call_command("report", "agreement", "--b", "atlas")


def test_the_current_model_versions_value_is_reported():
    from ukbstudy.measurements.models import ModelVersion

    scan = make_scan()
    old = ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="1")
    current = ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version="2", is_current=True)
    measurement_record(scan=scan, quantity="liver_ff", method="network", value=7.0)  # no model version
    measurement_record(scan=scan, quantity="liver_ff", method="network", value=5.0, model_version=current)
    measurement_record(scan=scan, quantity="liver_ff", method="network", value=1.0, model_version=old)
    assert scan_frame(columns=["network"])["network"].tolist() == [5.0]
