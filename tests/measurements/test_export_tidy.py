"""The tidy collaborator file: one row per participant and visit, the current model version's values, and on
request the QC status, reference values and DXA covariates of that visit, each number with its unit's
decimals; withdrawn participants never in it; a fixed number of queries however many participants."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.measurements.models import Export, ModelVersion
from ukbstudy.measurements.selectors.exports import DECIMALS, ExportFilters, fixed
from ukbstudy.measurements.services import export_csv, measurement_record
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.subjects.models import ImportBatch
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db

ALL = "&include=qc_status&include=reference&include=covariates"
REFERENCE = ["liver_pdff_22402", "liver_pdff_22436"]
COVARIATES = ["bmd_spine", "tscore_spine", "bmd_femoral_neck", "tscore_femoral_neck", "bmd_total_hip",
              "tscore_total_hip", "bmd_femoral_shaft", "fat_pct_android", "fat_pct_gynoid", "fat_pct_legs",
              "fat_pct_trunk", "fat_pct_total", "vat_mass"]


def showcase(model, subject, field, value, unit):
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.FIELDS, source="test")
    model.all_objects.create(subject=subject, field=field, value=value, unit=unit, import_batch=batch)


@pytest.fixture
def study():
    """4000001: two visits (an old and the current network version, a manual value, QC at the first visit,
    reference and DXA values at both); 4000002: one visit, nothing measured, a covariate; 4000003: showcase
    values but no scan; 4000009: everything, then withdrawn."""
    first, second, no_scan, leaving = (make_subject(eid=eid) for eid in (4000001, 4000002, 4000003, 4000009))
    visit2, visit3, leaving_scan = make_scan(first), make_scan(first, instance=3), make_scan(leaving)
    make_scan(second)
    old = ModelVersion.objects.create(task="liver_ff_regression", name="resnet", version="0")
    current = ModelVersion.objects.create(task="liver_ff_regression", name="resnet", version="1", is_current=True)
    measurement_record(scan=visit2, quantity="liver_ff", method="network", value=9.9, model_version=old)
    measurement_record(scan=visit2, quantity="liver_ff", method="network", value=4.256, model_version=current)
    measurement_record(scan=visit2, quantity="liver_ff", method="manual", value=-0.004)
    measurement_record(scan=visit2, quantity="bmff_spine", method="segmentation", value=55.0)
    measurement_record(scan=visit3, quantity="liver_ff", method="network", value=3.1, model_version=current)
    measurement_record(scan=leaving_scan, quantity="liver_ff", method="manual", value=7.0)
    raters = [user_create(username=f"r{i}", password="pw-long-enough-1", role="rater") for i in (1, 2)]
    qc_decision_record(scan=visit2, rater=raters[0], verdict="pass")
    qc_decision_record(scan=visit2, rater=raters[1], verdict="fail", reason="motion")  # the newest wins
    qc_decision_record(scan=leaving_scan, rater=raters[0], verdict="pass")
    showcase(ReferenceValue, first, "22402-2.0", 4.5, "%")
    showcase(ReferenceValue, first, "22402-3.0", 3.0, "%")
    showcase(ReferenceValue, first, "22436-2.0", 4.444, "%")
    showcase(CovariateValue, first, "23204-2.0", 1.23456, "g/cm2")  # bmd_spine
    showcase(CovariateValue, first, "23205-2.0", -1.26, "Std.Devs")  # tscore_spine
    showcase(CovariateValue, first, "23247-2.0", 35.5, "%")  # fat_pct_android
    showcase(CovariateValue, first, "23288-2.0", 1234.6, "g")  # vat_mass
    showcase(CovariateValue, first, "23288-3.0", 1100.0, "g")
    showcase(CovariateValue, second, "23204-2.0", 0.9, "g/cm2")
    showcase(ReferenceValue, no_scan, "22402-2.0", 2.0, "%")
    showcase(ReferenceValue, leaving, "22402-2.0", 8.0, "%")
    showcase(CovariateValue, leaving, "23204-2.0", 1.1, "g/cm2")
    subjects_withdraw(eids=[4000009])
    return {"old": old, "current": current}


def admin_client() -> Client:
    client = Client()
    client.force_login(user_create(username="admin", password="pw-long-enough-1", role="admin"))
    return client


def read(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def header(response) -> list[str]:
    assert response.status_code == 200, response.content
    return next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_tidy_file_has_one_row_per_participant_and_visit_with_every_column_asked_for(study):
    response = admin_client().get(f"/exports/measurements.csv?layout=tidy{ALL}")
    assert response["Content-Disposition"].startswith('attachment; filename="measurements-tidy-')
    rows = read(response)
    assert list(rows[0]) == ["eid", "instance", "qc_status", "bmff_spine:segmentation", "liver_ff:manual",
                             "liver_ff:network", *REFERENCE, *COVARIATES]
    assert [(row["eid"], row["instance"]) for row in rows] == [("4000001", "2"), ("4000001", "3"), ("4000002", "2")]
    first, repeat, unmeasured = rows
    assert (first["qc_status"], repeat["qc_status"], unmeasured["qc_status"]) == ("fail", "", "")
    assert first["liver_ff:network"] == "4.26"  # the current version's value, not the old version's 9.9
    assert (first["liver_ff:manual"], first["bmff_spine:segmentation"]) == ("0.00", "55.00")
    assert (first["liver_pdff_22402"], first["liver_pdff_22436"]) == ("4.50", "4.44")
    assert (first["bmd_spine"], first["tscore_spine"], first["fat_pct_android"], first["vat_mass"]) == (
        "1.235", "-1.3", "35.50", "1235")
    assert (repeat["liver_ff:network"], repeat["liver_pdff_22402"], repeat["vat_mass"]) == ("3.10", "3.00", "1100")
    assert repeat["bmd_spine"] == repeat["liver_ff:manual"] == ""  # values of the other visit stay there
    assert unmeasured["liver_ff:network"] == "" and unmeasured["bmd_spine"] == "0.900"


def test_without_optional_columns_the_tidy_file_holds_the_measurements_only(study):
    response = admin_client().get("/exports/measurements.csv?layout=tidy&quantity=liver_ff")
    assert header(response) == ["eid", "instance", "liver_ff:manual", "liver_ff:network"]


def test_a_model_version_asked_for_replaces_the_current_one(study):
    rows = read(admin_client().get(f"/exports/measurements.csv?layout=tidy&model_version={study['old'].pk}"))
    assert [(row["eid"], row["instance"], row["liver_ff:network"]) for row in rows] == [
        ("4000001", "2", "9.90"), ("4000001", "3", ""), ("4000002", "2", "")]


def test_withdrawn_participants_never_appear_in_the_tidy_file(study):
    text = b"".join(admin_client().get(f"/exports/measurements.csv?layout=tidy{ALL}").streaming_content).decode()
    assert "4000009" not in text and "7.00" not in text and "8.00" not in text and "1.100" not in text


@pytest.mark.parametrize(("value", "unit", "written"), [
    (4.256, "%", "4.26"), (1.23456, "g/cm2", "1.235"), (1234.6, "g", "1235"), (24.96, "kg/m2", "25.0"),
    (27.04, "Kg/m2", "27.0"), (-1.26, "Std.Devs", "-1.3"), (-0.004, "%", "0.00"), (0.123456789, "ml", 0.123456789),
    (None, "%", ""),
])
def test_numbers_carry_the_decimal_places_of_their_unit(value, unit, written):
    assert fixed(value, unit) == written


def test_the_decimal_places_are_defined_once_for_every_unit_the_catalogue_exports():
    from ukbstudy.measurements.selectors.exports import SHOWCASE_GROUPS

    units = {spec.unit for specs in SHOWCASE_GROUPS.values() for spec in specs} | {"%"}
    assert units <= set(DECIMALS), units - set(DECIMALS)


def test_the_tidy_file_costs_the_same_queries_for_ten_times_the_participants(study):
    def queries() -> int:
        filters = ExportFilters(include=["qc_status", "reference", "covariates"])
        with CaptureQueriesContext(connection) as captured:
            assert sum(1 for _ in export_csv(format="tidy", filters=filters, channel="command"))
        return len(captured)

    few = queries()
    current = study["current"]
    for index in range(30):
        scan = make_scan(make_subject(eid=4100000 + index))
        measurement_record(scan=scan, quantity="liver_ff", method="network", value=index, model_version=current)
        showcase(CovariateValue, scan.subject, "23204-2.0", 1.0, "g/cm2")
    assert queries() == few <= 8  # the audit row, its count, the columns, scans, values, reference, covariates


def test_the_tidy_layout_is_offered_by_the_api_and_the_command_and_recorded(study, tmp_path):
    rows = read(admin_client().get("/api/measurements/export/?layout=tidy&include=qc_status"))
    assert [row["qc_status"] for row in rows] == ["fail", "", ""]
    export = Export.objects.get()
    assert (export.format, export.rows, export.channel, export.filters) == ("tidy", 3, "api",
                                                                            {"include": ["qc_status"]})
    out = tmp_path / "tidy.csv"
    call_command("export_measurements", "--format", "tidy", "--include", "reference", "--out", str(out))
    assert out.read_text().splitlines()[0].split(",")[-2:] == REFERENCE


def test_optional_columns_are_refused_for_the_long_and_wide_layouts_and_unknown_ones_for_any(study):
    client = admin_client()
    for query in ("layout=long&include=qc_status", "layout=wide&include=reference", "layout=tidy&include=sex",
                  "include=qc_status"):
        response = client.get(f"/exports/measurements.csv?{query}")
        assert response.status_code == 400, query
        assert b"include" in response.content
    with pytest.raises(CommandError, match="--include needs --format tidy"):
        call_command("export_measurements", "--format", "wide", "--include", "qc_status")


def test_the_export_page_offers_every_layout_and_the_optional_columns_to_admins_only(study):
    page = admin_client().get("/exports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'action="/exports/measurements.csv"' in html and 'method="get"' in html
    for name, value in (("layout", "long"), ("layout", "wide"), ("layout", "tidy"), ("include", "qc_status"),
                        ("include", "reference"), ("include", "covariates")):
        assert f'name="{name}" value="{value}"' in html, (name, value)
    viewer = Client()
    viewer.force_login(user_create(username="analyst", password="pw-long-enough-1", role="analyst"))
    assert viewer.get("/exports/").status_code == 403
