"""scan_frame: one row per scan (per participant and visit), each row reading its own visit's attributes,
showcase values and the scan's own measurements; ``@I`` columns read another visit; out-of-fold values and
model versions; unknown columns refused; withdrawn participants left out."""

from __future__ import annotations

import math

import pytest

from tests.factories import make_scan, make_subject, make_visit
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.selectors.frames import UnknownColumn, frame_column, scan_frame
from ukbstudy.measurements.services import measurement_record
from ukbstudy.showcase.models import CovariateValue, ReferenceValue

pytestmark = pytest.mark.django_db


def network(scan, value, **details):
    return measurement_record(scan=scan, quantity="liver_ff", method="network", value=value, details=details)


def showcase(model, scan, field, value):
    return model.objects.create(subject=scan.subject, field=field, value=value, import_batch=scan.import_batch)


@pytest.fixture
def cohort() -> dict:
    """1002 (first imaging visit only) is created before 1001 (both visits), so rows come in eid order, not
    creation order; 1003 has only an out-of-fold value; 1009 withdrew."""
    later = make_subject(eid=1002, sex="M", age=60.0, bmi=30.0, centre=11026)
    b2 = make_scan(later, 2, processing_state="processed")
    both = make_subject(eid=1001, sex="F", age=50.0, bmi=25.0, height_cm=165.0, centre=11025)
    make_visit(both, 3, age=52.0, bmi=26.5, height_cm=164.0, centre=11027)
    a3 = make_scan(both, 3, processing_state="processed")  # the repeat visit's scan first: its pk is lower
    a2 = make_scan(both, 2, processing_state="processed")
    oof_only = make_subject(eid=1003, sex="F", age=70.0)
    c2 = make_scan(oof_only, 2, processing_state="processed")
    gone = make_subject(eid=1009, sex="M", age=40.0, withdrawn=True)
    d2, d3 = make_scan(gone, 2), make_scan(gone, 3)
    for scan, value in ((a2, 5.0), (a3, 6.5), (b2, 10.0), (d2, 1.0), (d3, 2.0)):
        network(scan, value)
    network(c2, 9.0, out_of_fold=True, fold=1)
    for scan, field, value in ((a2, "22402-2.0", 4.0), (a3, "22402-3.0", 5.5), (b2, "22402-2.0", 11.0),
                               (d2, "22402-2.0", 3.0)):
        showcase(ReferenceValue, scan, field, value)
    for scan, field, value in ((a2, "23204-2.0", 1.10), (a3, "23204-3.0", 1.05), (d3, "23204-3.0", 0.9)):
        showcase(CovariateValue, scan, field, value)
    return {"a2": a2, "a3": a3, "b2": b2, "c2": c2}


def rows(frame) -> list[tuple]:
    return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in frame.itertuples(index=False)]


def test_every_visit_is_a_row_of_its_own_with_that_visits_attributes_and_its_scans_value(cohort):
    frame = scan_frame(columns=["age", "bmi", "height", "centre", "sex", "network"], instance=None)
    a2, a3, b2, c2 = (cohort[k].pk for k in ("a2", "a3", "b2", "c2"))
    assert list(frame.columns) == ["scan", "eid", "instance", "age", "bmi", "height", "centre", "sex", "network"]
    assert rows(frame) == [
        (a2, 1001, 2, 50.0, 25.0, 165.0, 11025, "F", 5.0),
        (a3, 1001, 3, 52.0, 26.5, 164.0, 11027, "F", 6.5),
        (b2, 1002, 2, 60.0, 30.0, None, 11026, "M", 10.0),
        (c2, 1003, 2, 70.0, None, None, None, "F", None),
    ]


def test_the_first_imaging_visit_is_the_default(cohort):
    frame = scan_frame(columns=["age", "network"])
    assert list(frame["instance"]) == [2, 2, 2]
    assert list(frame["eid"]) == [1001, 1002, 1003]
    assert list(frame["age"])[:2] == [50.0, 60.0]
    assert list(scan_frame(columns=["network"], instance=3)["scan"]) == [cohort["a3"].pk]


def test_scans_restricts_the_rows(cohort):
    frame = scan_frame(columns=["network"], instance=None, scans=Scan.objects.filter(subject__eid=1001))
    assert list(frame["scan"]) == [cohort["a2"].pk, cohort["a3"].pk]
    assert list(frame["network"]) == [5.0, 6.5]


def test_the_reference_is_read_at_the_rows_visit_unless_its_instance_is_fixed(cohort):
    frame = scan_frame(columns=["reference", "reference:22402-2.0", "reference:22402", "reference@2"],
                       instance=None)
    assert rows(frame[["eid", "instance", "reference", "reference:22402-2.0", "reference:22402", "reference@2"]]) == [
        (1001, 2, 4.0, 4.0, 4.0, 4.0),
        (1001, 3, 5.5, 4.0, 5.5, 4.0),
        (1002, 2, 11.0, 11.0, 11.0, 11.0),
        (1003, 2, None, None, None, None),
    ]


def test_a_covariate_key_is_read_at_the_rows_visit(cohort):
    frame = scan_frame(columns=["bmd_spine", "23204-2.0"], instance=None)
    assert rows(frame[["instance", "bmd_spine", "23204-2.0"]]) == [
        (2, 1.10, 1.10), (3, 1.05, 1.10), (2, None, None), (2, None, None)]


def test_out_of_fold_values_have_their_own_column(cohort):
    frame = scan_frame(columns=["network", "network_oof"])
    assert rows(frame[["eid", "network", "network_oof"]]) == [(1001, 5.0, None), (1002, 10.0, None),
                                                               (1003, None, 9.0)]


def test_a_column_at_the_first_visit_gives_the_change_between_visits(cohort):
    frame = scan_frame(columns=["network", "network@2", "network@3"], instance=None)
    assert rows(frame[["eid", "instance", "network", "network@2", "network@3"]]) == [
        (1001, 2, 5.0, 5.0, 6.5),
        (1001, 3, 6.5, 5.0, 6.5),
        (1002, 2, 10.0, 10.0, None),
        (1003, 2, None, None, None),
    ]
    repeat = frame[frame["instance"] == 3]
    assert list(repeat["network"] - repeat["network@2"]) == [pytest.approx(1.5)]


def test_the_current_model_versions_value_wins_over_an_older_or_newer_one(cohort):
    current = ModelVersion.objects.create(task="liver_ff_regression", name="resnet", version="2", is_current=True)
    other = ModelVersion.objects.create(task="liver_ff_regression", name="resnet", version="1")
    scan = make_scan(make_subject(eid=1004, age=55.0), 2, processing_state="processed")
    measurement_record(scan=scan, quantity="liver_ff", method="network", value=2.0, model_version=current)
    measurement_record(scan=scan, quantity="liver_ff", method="network", value=3.0, model_version=other)  # newer
    repeat = make_scan(scan.subject, 3, processing_state="processed")
    measurement_record(scan=repeat, quantity="liver_ff", method="network", value=7.0, model_version=other)
    measurement_record(scan=repeat, quantity="liver_ff", method="network", value=4.0, model_version=current)
    frame = scan_frame(columns=["network", "network@2"], instance=None, scans=Scan.objects.filter(subject__eid=1004))
    assert rows(frame[["instance", "network", "network@2"]]) == [(2, 2.0, 2.0), (3, 4.0, 2.0)]


@pytest.mark.parametrize("text", ["bogus", "network@4", "network@x", "age@2", "sex@3", "network:bogus",
                                  "atlas_oof", "reference:bogus"])
def test_unknown_columns_are_refused(text):
    with pytest.raises(UnknownColumn):
        frame_column(text)


def test_known_columns_parse():
    assert frame_column("network@2").at_instance == 2
    assert frame_column("bmd_spine").field == 23204
    assert frame_column("bmd_spine@3").field_at(2) == "23204-3.0"
    assert frame_column("reference:22402-2.0").field_at(3) == "22402-2.0"
    assert frame_column("network_oof").out_of_fold


def test_withdrawn_participants_never_appear(cohort):
    frame = scan_frame(columns=["network", "network@2", "reference", "bmd_spine"], instance=None)
    assert 1009 not in set(frame["eid"])
    assert 1009 not in set(scan_frame(columns=["age"], instance=3)["eid"])
    assert scan_frame(columns=["network"], scans=Scan.objects.filter(subject__eid=1009)).empty
