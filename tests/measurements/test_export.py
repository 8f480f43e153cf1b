"""CSV exports: long and wide (one row per scan: participant and visit), streamed, admins only, withdrawn left out,
formulas escaped, recorded."""

import csv
import io

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.test import Client

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.measurements.models import Export, ModelVersion
from ukbstudy.measurements.selectors.exports import escape_cell
from ukbstudy.measurements.services import measurement_record
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def values():
    kept, leaving = make_scan(make_subject(eid=3000001)), make_scan(make_subject(eid=3000002))
    version = ModelVersion.objects.create(task="liver_ff_regression", name="=cmd|' /C calc'!A0", version="1",
                                          is_current=True)
    measurement_record(scan=kept, quantity="liver_ff", method="network", value=4.25, model_version=version)
    measurement_record(scan=kept, quantity="liver_ff", method="manual", value=-1.5)
    measurement_record(scan=kept, quantity="bmff_spine", method="segmentation", value=55.0)
    measurement_record(scan=leaving, quantity="liver_ff", method="manual", value=9.0)
    subjects_withdraw(eids=[3000002])
    return kept


def client_for(role):
    client = Client()
    client.force_login(user_create(username=role, password="pw-long-enough-1", role=role))
    return client


def read(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_long_export_lists_every_measurement_with_provenance(values):
    rows = read(client_for("admin").get("/exports/measurements.csv?layout=long"))
    assert rows[0] == ["eid", "instance", "scan", "quantity", "method", "value", "unit", "model_version",
                       "model_version_name", "job", "created"]
    scan = str(values.pk)
    assert [r[:6] for r in rows[1:]] == [["3000001", "2", scan, "bmff_spine", "segmentation", "55.0"],
                                         ["3000001", "2", scan, "liver_ff", "manual", "-1.5"],
                                         ["3000001", "2", scan, "liver_ff", "network", "4.25"]]
    version = ModelVersion.objects.get()
    assert rows[3][7:9] == [str(version.pk), "'=cmd|' /C calc'!A0@1"]  # name escaped: a spreadsheet shows text
    assert rows[2][7:10] == ["", "", ""]  # a manual value has no model version and no job


def test_the_csv_and_the_api_name_a_value_s_model_version_and_job_alike(values):
    admin = client_for("admin")
    api = {row["method"]: row for row in admin.get("/api/measurements/?quantity=liver_ff").json()["results"]}
    csv_rows = read(admin.get("/exports/measurements.csv?layout=long&quantity=liver_ff"))
    header, rows = csv_rows[0], [dict(zip(csv_rows[0], row, strict=True)) for row in csv_rows[1:]]
    assert {"model_version", "model_version_name", "job"} <= set(header) & set(api["network"])
    for row in rows:
        given = api[row["method"]]
        assert row["model_version"] == str(given["model_version"] or "")
        assert row["model_version_name"].lstrip("'") == (given["model_version_name"] or "")
        assert row["job"] == str(given["job"] or "")
    assert api["network"]["model_version_name"] == "=cmd|' /C calc'!A0@1"


def test_wide_export_has_one_row_per_scan(values):
    rows = read(client_for("admin").get("/exports/measurements.csv?layout=wide&quantity=liver_ff"))
    assert rows == [["eid", "instance", "scan", "liver_ff:manual", "liver_ff:network"],
                    ["3000001", "2", str(values.pk), "-1.5", "4.25"]]
    assert Export.Format.WIDE.label == "Wide (one row per participant and visit)"


def test_two_visits_are_two_wide_rows_and_out_of_fold_values_have_their_own_column(values):
    first = values
    repeat = make_scan(first.subject, instance=3)
    measurement_record(scan=repeat, quantity="liver_ff", method="network", value=6.5,
                       model_version=ModelVersion.objects.get())
    cv = ModelVersion.objects.create(task="liver_ff_regression", name="resnet18", version="cv-job1")
    measurement_record(scan=first, quantity="liver_ff", method="network", value=3.75, model_version=cv,
                       details={"dataset": "A", "fold": 2, "out_of_fold": True})
    admin = client_for("admin")
    wide = read(admin.get("/exports/measurements.csv?layout=wide&quantity=liver_ff"))
    assert wide == [["eid", "instance", "scan", "liver_ff:manual", "liver_ff:network", "liver_ff:network_oof"],
                    ["3000001", "2", str(first.pk), "-1.5", "4.25", "3.75"],  # the trained model's and the fold's
                    ["3000001", "3", str(repeat.pk), "", "6.5", ""]]  # the repeat visit: its own scan's value only
    long = read(admin.get("/exports/measurements.csv?layout=long&quantity=liver_ff&method=network"))
    assert [r[:6] for r in long[1:]] == [["3000001", "2", str(first.pk), "liver_ff", "network", "4.25"],
                                         ["3000001", "2", str(first.pk), "liver_ff", "network", "3.75"],
                                         ["3000001", "3", str(repeat.pk), "liver_ff", "network", "6.5"]]
    tidy = read(admin.get(f"/exports/measurements.csv?layout=tidy&quantity=liver_ff&model_version={cv.pk}"))
    assert tidy == [["eid", "instance", "liver_ff:network_oof"], ["3000001", "2", "3.75"], ["3000001", "3", ""]]


def test_exports_are_for_admins_and_are_recorded(values):
    assert client_for("analyst").get("/exports/measurements.csv").status_code == 403
    admin = client_for("admin")
    read(admin.get("/api/measurements/export/?layout=long&method=manual"))
    export = Export.objects.get()
    assert (export.format, export.rows, export.channel, export.filters) == ("long", 1, "api", {"methods": ["manual"]})
    assert export.exported_by.username == "admin"
    assert admin.get("/exports/measurements.csv?layout=xml").status_code == 400
    assert admin.get("/exports/measurements.csv?created_after=yesterday").status_code == 400


def test_the_command_writes_a_file(values, tmp_path):
    out = tmp_path / "m.csv"
    call_command("export_measurements", "--format", "wide", "--out", str(out))
    lines = out.read_text().splitlines()
    assert lines[0] == "eid,instance,scan,bmff_spine:segmentation,liver_ff:manual,liver_ff:network"
    assert lines[1:] == [f"3000001,2,{values.pk},55.0,-1.5,4.25"]
    assert Export.objects.get().channel == "command"


def test_text_cells_that_look_like_formulas_are_escaped_but_numbers_are_not():
    assert [escape_cell(v) for v in ("=1+1", "+x", "-x", "@x", "plain", -2.5, 3)] == [
        "'=1+1", "'+x", "'-x", "'@x", "plain", "-2.5", "3"]


def test_odd_parameters_are_refused_not_crashed_on(values):
    admin = client_for("admin")
    for query in ("model_version=9223372036854775808", "created_after=0001-01-01T00:00:00%2B15:00",
                  "model_version=abc"):
        assert admin.get(f"/exports/measurements.csv?{query}").status_code == 400, query
    assert admin.get("/exports/measurements.csv?created_after=2000-01-01T00:00:00%2B15:30").status_code == 200


def test_unknown_quantities_and_methods_are_refused(values):
    admin = client_for("admin")
    assert admin.get("/exports/measurements.csv?method=%00x").status_code == 400
    assert admin.get("/exports/measurements.csv?quantity=liver").status_code == 400
