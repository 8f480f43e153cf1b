"""Import of values a lab already has: checked as a whole, written in one go with an import batch as
provenance, a no-op when imported again, and an update when a value changed."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_scan, make_subject
from ukbstudy.measurements.importing import MeasurementImportError, measurements_import
from ukbstudy.measurements.models import Measurement, method_label
from ukbstudy.subjects.models import ImportBatch

pytestmark = pytest.mark.django_db

GOOD = """eid,instance,quantity,method,value,unit
1000001,2,liver_ff,imported,4.25,%
1000001,2,bmff_spine,imported,51.5,
1000002,3,liver_ff,lab_v1,12,%
1000009,2,liver_ff,imported,7,%
"""


@pytest.fixture
def cohort(db) -> dict:
    """Two active participants (the second scanned at the repeat visit) and a withdrawn one."""
    first, second = make_subject(eid=1_000_001), make_subject(eid=1_000_002)
    withdrawn = make_subject(eid=1_000_009, withdrawn=True)
    return {"scans": [make_scan(first), make_scan(second, instance=3), make_scan(withdrawn)],
            "withdrawn": withdrawn}


def write(tmp_path, text: str, name: str = "values.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def stored() -> list[tuple]:
    return list(Measurement.all_objects.order_by("subject__eid", "quantity", "method").values_list(
        "subject__eid", "scan__instance", "quantity", "method", "value", "unit"))


def test_a_good_file_creates_values_with_provenance(tmp_path, cohort, django_user_model):
    admin = django_user_model.objects.create_user("importer", password="a-long-test-password-7")
    path = write(tmp_path, GOOD)
    report = measurements_import(path_or_file=path, imported_by=admin)
    assert (report.rows, report.created, report.updated, report.unchanged, report.withdrawn_skipped) == (4, 3, 0, 0, 1)
    assert stored() == [(1000001, 2, "bmff_spine", "imported", 51.5, "%"),
                        (1000001, 2, "liver_ff", "imported", 4.25, "%"),
                        (1000002, 3, "liver_ff", "lab_v1", 12.0, "%")]
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.kind, batch.source, batch.created_by) == (ImportBatch.Kind.MEASUREMENTS, str(path), admin)
    assert batch.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    liver = Measurement.all_objects.get(subject__eid=1000002)
    assert liver.scan == cohort["scans"][1] and liver.import_batch == batch and liver.model_version is None
    assert liver.details == {"file": "values.csv", "line": 4}
    assert not Measurement.all_objects.filter(subject=cohort["withdrawn"]).exists()


def test_importing_the_same_file_again_writes_nothing(tmp_path, cohort):
    path = write(tmp_path, GOOD)
    measurements_import(path_or_file=path)
    again = measurements_import(path_or_file=path)
    assert (again.created, again.updated, again.unchanged, again.batch_id) == (0, 0, 3, None)
    assert ImportBatch.objects.filter(kind=ImportBatch.Kind.MEASUREMENTS).count() == 1


def test_a_changed_value_updates_the_stored_one_under_a_new_batch(tmp_path, cohort):
    first = measurements_import(path_or_file=write(tmp_path, GOOD))
    changed = GOOD.replace("1000002,3,liver_ff,lab_v1,12,%", "1000002,3,liver_ff,lab_v1,12.5,%")
    report = measurements_import(path_or_file=write(tmp_path, changed, "values-v2.csv"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    value = Measurement.all_objects.get(subject__eid=1000002)
    assert value.value == 12.5 and value.import_batch_id == report.batch_id != first.batch_id
    assert value.details == {"file": "values-v2.csv", "line": 4}
    assert Measurement.all_objects.count() == 3


def test_columns_may_come_in_any_order_and_the_file_may_start_with_a_bom(tmp_path, cohort):
    path = tmp_path / "values.csv"
    path.write_bytes("\ufeffvalue,method,quantity,instance,eid\n3.5,imported,liver_ff,2,1000001\n".encode())
    assert measurements_import(path_or_file=path).created == 1
    assert stored() == [(1000001, 2, "liver_ff", "imported", 3.5, "%")]


@pytest.mark.parametrize("row, error", [
    ("1000001,2,liver_fat,imported,4", "line 2, column quantity: 'liver_fat' is not a known quantity (liver_ff,"),
    ("1000001,4,liver_ff,imported,4", "line 2, column instance: '4' is not an imaging visit (2, 3)"),
    ("1000001,2,liver_ff,network,4", "line 2, column method: 'network' is one of the app's own methods"),
    ("1000001,2,liver_ff,Lab V1,4", "line 2, column method: 'Lab V1' is not a method label"),
    ("1000001,2,liver_ff,imported,abc", "line 2, column value: 'abc' is not a number"),
    ("1000001,2,liver_ff,imported,nan", "line 2, column value: 'nan' is not a number"),
    ("1000001,2,liver_ff,imported,150", "line 2, column value: 150 is outside 0-100"),
    ("1000001,2,liver_ff,imported,4,mg/g", "line 2, column unit: 'mg/g' is not '%'"),
    ("x,2,liver_ff,imported,4", "line 2, column eid: 'x' is not an eid"),
    ("1000003,2,liver_ff,imported,4", "line 2, column eid: no participant with eid 1000003 in the study"),
    ("1000002,2,liver_ff,imported,4", "line 2, column instance: participant 1000002 has no scan (field 20201) of "
                                      "instance 2 imported yet"),
    ("1000001,2,liver_ff,imported,4,%,extra", "line 2: 7 cells but the header has 6 columns"),
])
def test_a_bad_row_is_named_by_line_and_column_and_nothing_is_written(tmp_path, cohort, row, error):
    text = f"eid,instance,quantity,method,value,unit\n{row}\n1000001,2,bmff_spine,imported,50,%\n"
    with pytest.raises(MeasurementImportError) as caught:
        measurements_import(path_or_file=write(tmp_path, text))
    assert len(caught.value.errors) == 1 and caught.value.errors[0].startswith(error)
    assert not Measurement.all_objects.exists() and not ImportBatch.objects.filter(kind="measurements").exists()


def test_the_app_methods_are_refused_with_a_label_to_use_instead(tmp_path, cohort):
    for method in ("network", "atlas", "segmentation", "manual"):
        text = f"eid,instance,quantity,method,value\n1000001,2,liver_ff,{method},4\n"
        with pytest.raises(MeasurementImportError, match="choose another label, such as 'imported'"):
            measurements_import(path_or_file=write(tmp_path, text))


def test_labels_that_name_another_report_column_are_refused(tmp_path, cohort):
    for method in ("network_oof", "lab_oof", "reference", "age", "bmd_spine", "eid"):
        text = f"eid,instance,quantity,method,value\n1000001,2,liver_ff,{method},4\n"
        with pytest.raises(MeasurementImportError, match="names another column of reports and exports"):
            measurements_import(path_or_file=write(tmp_path, text))
    assert not Measurement.all_objects.exists()


def test_a_duplicate_row_names_both_lines(tmp_path, cohort):
    text = GOOD + "1000001,2,liver_ff,imported,4.5,%\n"
    with pytest.raises(MeasurementImportError) as caught:
        measurements_import(path_or_file=write(tmp_path, text))
    assert caught.value.errors == ["line 6: the same eid, instance, quantity and method as line 2 "
                                   "(1000001, 2, liver_ff, imported)"]
    assert not Measurement.all_objects.exists()


def test_every_problem_of_a_file_is_collected_in_line_order(tmp_path, cohort):
    text = ("eid,instance,quantity,method,value\n"
            "1000003,2,liver_ff,imported,4\n"
            "1000001,4,liver_fat,imported,abc\n")
    with pytest.raises(MeasurementImportError) as caught:
        measurements_import(path_or_file=write(tmp_path, text))
    assert [error.split(":")[0] for error in caught.value.errors] == [
        "line 2, column eid", "line 3, column instance", "line 3, column quantity", "line 3, column value"]


def test_a_withdrawn_participant_needs_no_scan_and_is_only_counted(tmp_path, cohort):
    text = "eid,instance,quantity,method,value\n1000009,3,liver_ff,imported,4\n"
    report = measurements_import(path_or_file=write(tmp_path, text))
    assert (report.rows, report.withdrawn_skipped, report.created, report.batch_id) == (1, 1, 0, None)


def test_a_visit_with_two_scans_is_refused(tmp_path, cohort):
    make_scan(cohort["scans"][0].subject, array_index=1)
    text = "eid,instance,quantity,method,value\n1000001,2,liver_ff,imported,4\n"
    with pytest.raises(MeasurementImportError, match="line 2, column instance: participant 1000001 has 2 scans"):
        measurements_import(path_or_file=write(tmp_path, text))


@pytest.mark.parametrize("text, error", [
    ("", "line 1: the file has no header"),
    ("eid,instance,quantity,value\n1000001,2,liver_ff,4\n", "line 1: column method is missing"),
    ("eid,instance,quantity,method,value,site\n1000001,2,liver_ff,imported,4,x\n",
     "line 1, column site: unknown column"),
    ("eid,instance,quantity,method,value,value\n", "line 1, column value: given twice"),
    ("eid,instance,quantity,method,value\n", "the file has no measurements"),
])
def test_a_malformed_file_is_refused(tmp_path, cohort, text, error):
    with pytest.raises(MeasurementImportError, match=error):
        measurements_import(path_or_file=write(tmp_path, text))


def test_a_file_that_is_not_utf8_is_refused(tmp_path, cohort):
    path = tmp_path / "values.csv"
    path.write_bytes("eid,instance,quantity,method,value\n1000001,2,liver_ff,importé,4\n".encode("latin-1"))
    with pytest.raises(MeasurementImportError, match="not UTF-8"):
        measurements_import(path_or_file=path)


def test_a_file_wrong_throughout_reports_the_first_problems_and_a_count(tmp_path, cohort):
    text = "eid,instance,quantity,method,value\n" + "1000001,2,liver_ff,imported,abc\n" * 60
    with pytest.raises(MeasurementImportError) as caught:
        measurements_import(path_or_file=write(tmp_path, text))
    assert len(caught.value.errors) == 60
    assert caught.value.reported[-1] == "... and 10 more" and len(caught.value.reported) == 51


def test_pages_show_the_app_label_or_the_imported_label_itself():
    assert method_label("atlas") == "Multi-atlas"
    assert method_label("imported") == "imported"


def test_the_command_prints_the_report_and_fails_loudly_on_a_bad_file(tmp_path, capsys, cohort):
    call_command("import_measurements", str(write(tmp_path, GOOD)))
    out = capsys.readouterr().out
    assert "4 rows: 3 created, 0 updated, 0 unchanged, 1 of withdrawn participants skipped (import batch" in out
    bad = write(tmp_path, "eid,instance,quantity,method,value\n1000001,2,liver_ff,manual,4\n", "bad.csv")
    with pytest.raises(CommandError, match="nothing imported:\n  line 2, column method: 'manual'"):
        call_command("import_measurements", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_measurements", str(tmp_path / "missing.csv"))
    assert Measurement.all_objects.count() == 3
