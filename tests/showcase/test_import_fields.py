"""import_fields: subjects, their imaging visits, reference values and covariates from a showcase CSV."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from ml.ukb.showcase import ShowcaseError
from tests.snapshot import database_snapshot
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.showcase.services.fields import showcase_import_fields
from ukbstudy.subjects.models import ImportBatch, Subject, Visit

pytestmark = pytest.mark.django_db

BASKET = (
    "eid,31-0.0,21003-2.0,50-2.0,21001-2.0,54-2.0,22402-2.0,22436-2.0,23226-2.0,99999-2.0\n"
    "1000001,0,63,165.0,24.1,11025,3.4,,1.10,7\n"
    "1000002,1,70,180.5,27.9,11026,,5.1,1.25,\n"
    "1000003,1,58,175.0,31.0,11027,12.5,11.9,,\n"
)


@pytest.fixture
def basket(tmp_path):
    path = tmp_path / "basket.csv"
    path.write_text(BASKET)
    return path


def visit_values(eid: int, instance: int = 2) -> tuple:
    visit = Visit.all_objects.get(subject__eid=eid, instance=instance)
    return (visit.date, visit.age, visit.height_cm, visit.bmi, visit.centre)


def test_it_creates_subjects_with_their_attributes(basket):
    report = showcase_import_fields(path=basket)
    assert Subject.objects.get(eid=1000001).sex == "F"
    assert visit_values(1000001) == (None, 63, 165.0, 24.1, 11025)
    assert Subject.objects.get(eid=1000002).sex == "M"
    assert visit_values(1000002) == (None, 70, 180.5, 27.9, 11026)
    assert (report.subjects_created, report.visits_created, report.visits_updated) == (3, 3, 0)
    assert not Visit.all_objects.filter(instance=3).exists()  # the basket has no repeat-visit values


def test_it_stores_reference_values_and_covariates_with_units_and_batch(basket):
    report = showcase_import_fields(path=basket)
    reference = ReferenceValue.objects.get(subject__eid=1000003, field="22402-2.0")
    assert (reference.value, reference.unit) == (12.5, "%")
    assert reference.import_batch_id == report.batch_id
    assert ReferenceValue.objects.count() == 4
    assert CovariateValue.objects.get(subject__eid=1000002, field="23226-2.0").value == 1.25
    assert report.values_created == {"reference": 4, "covariate": 2}


def test_it_reports_unknown_columns(basket):
    report = showcase_import_fields(path=basket)
    assert report.unknown_columns == ["99999-2.0 (field 99999 is not in the showcase schema)"]


def test_reimporting_the_same_file_changes_nothing(basket):
    showcase_import_fields(path=basket)
    before = database_snapshot()
    report = showcase_import_fields(path=basket)
    assert not report.changed and report.batch_id is None
    assert report.values_unchanged == {"reference": 4, "covariate": 2}
    assert database_snapshot() == before


def test_a_changed_value_is_updated_in_a_new_batch(basket, tmp_path):
    showcase_import_fields(path=basket)
    changed = tmp_path / "basket2.csv"
    changed.write_text(BASKET.replace("1000003,1,58,175.0,31.0,11027,12.5", "1000003,1,58,175.0,31.5,11027,11.0"))
    report = showcase_import_fields(path=changed)
    assert (report.subjects_updated, report.visits_updated, report.values_updated["reference"]) == (0, 1, 1)
    assert Visit.objects.get(subject__eid=1000003, instance=2).bmi == 31.5
    assert Visit.objects.get(subject__eid=1000002, instance=2).bmi == 27.9
    value = ReferenceValue.objects.get(subject__eid=1000003, field="22402-2.0")
    assert value.value == 11.0 and value.import_batch_id == report.batch_id
    assert ImportBatch.objects.count() == 2


def test_a_non_numeric_value_rejects_the_whole_file(basket, tmp_path):
    showcase_import_fields(path=basket)
    before = database_snapshot()
    bad = tmp_path / "bad.csv"
    bad.write_text(BASKET + "1000004,0,60,160,22,11025,n/a,,,\n")
    with pytest.raises(ShowcaseError) as excinfo:
        showcase_import_fields(path=bad)
    assert "line 5, column 22402-2.0: 'n/a' is not a number" in excinfo.value.errors
    assert database_snapshot() == before


def test_an_impossible_value_rejects_the_whole_file(basket, tmp_path):
    showcase_import_fields(path=basket)
    before = database_snapshot()
    bad = tmp_path / "bad.csv"
    bad.write_text(BASKET.replace("1000002,1,70,", "1000002,1,999,"))
    with pytest.raises(ShowcaseError, match="line 3, column 21003-2.0: 999 is outside the plausible range"):
        showcase_import_fields(path=bad)
    assert database_snapshot() == before


def test_a_reference_row_for_an_unknown_eid_rejects_the_whole_file(basket, tmp_path):
    showcase_import_fields(path=basket)
    before = database_snapshot()
    references = tmp_path / "liver.csv"
    references.write_text("eid,22402-2.0\n1000001,3.0\n7654321,4.2\n")
    with pytest.raises(ShowcaseError, match="line 3: eid 7654321 is unknown"):
        showcase_import_fields(path=references)
    centre_only = tmp_path / "centre.csv"
    centre_only.write_text("eid,54-2.0,22402-2.0\n7777777,11025,5.0\n")
    with pytest.raises(ShowcaseError, match="line 2: eid 7777777 is unknown and the row has no sex"):
        showcase_import_fields(path=centre_only)
    assert database_snapshot() == before


def test_rows_of_withdrawn_participants_are_skipped(basket, tmp_path):
    showcase_import_fields(path=basket)
    Subject.objects.filter(eid=1000001).update(withdrawn=True)
    changed = tmp_path / "basket2.csv"
    changed.write_text(BASKET.replace("1000001,0,63,165.0,24.1", "1000001,0,64,165.0,26.0"))
    report = showcase_import_fields(path=changed)
    assert report.withdrawn_skipped == [1000001]
    assert visit_values(1000001) == (None, 63, 165.0, 24.1, 11025)
    assert not report.changed


def test_the_command_prints_counts_and_fails_loudly_on_bad_input(basket, tmp_path, capsys):
    call_command("import_fields", str(basket))
    out, err = capsys.readouterr()
    assert "header style: ukbconv, comma-separated" in out
    assert "3 rows: subjects 3 created" in out and "column not imported: 99999-2.0" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("eid,50-2.0\n1000001,tall\n")
    with pytest.raises(CommandError, match="nothing imported. bad.csv: 1 problem"):
        call_command("import_fields", str(bad))


def test_extra_fields_from_settings_are_imported(basket, tmp_path, settings):
    extra = tmp_path / "extra.csv"
    extra.write_text("field,key,name,kind,unit\n99999,special,A special covariate,covariate,mm\n")
    settings.UKB_EXTRA_FIELDS = str(extra)
    report = showcase_import_fields(path=basket)
    assert report.unknown_columns == []
    value = CovariateValue.objects.get(subject__eid=1000001, field="99999-2.0")
    assert (value.value, value.unit) == (7.0, "mm")


DXA_UKBCONV = ("eid,31-0.0,21001-2.0,23204-2.0,23226-2.0,23299-2.0,23247-2.0,23281-2.0,23288-2.0\n"
               "2000001,0,24.0,1.105,2.290,0.912,0.402,0.371,812\n"
               "2000002,1,28.5,1.240,,1.010,0.310,0.268,1420\n")
DXA_RAP = ("participant.eid,participant.p31,participant.p21001_i2,participant.p23204_i2,participant.p23226_i2,"
           "participant.p23299_i2,participant.p23247_i2,participant.p23281_i2,participant.p23288_i2\n"
           + DXA_UKBCONV.split("\n", 1)[1])


def ukbconv_r(text: str) -> str:
    """The basket as ukbconv's R output writes it: f.FIELD.I.A names, tabs, NA for missing."""
    header, body = text.split("\n", 1)
    names = ["f.eid"] + [f"f.{name.replace('-', '.')}" for name in header.split(",")[1:]]
    rows = ["\t".join(cell or "NA" for cell in line.split(",")) for line in body.splitlines()]
    return "\n".join(["\t".join(names), *rows]) + "\n"


DXA_R = ukbconv_r(DXA_UKBCONV)


def stored_values():
    return (sorted(CovariateValue.objects.values_list("subject__eid", "field", "value", "unit")),
            sorted(Visit.objects.values_list("subject__eid", "instance", "date", "age", "height_cm", "bmi",
                                             "centre")))


@pytest.mark.parametrize("text", [DXA_RAP, DXA_R], ids=["rap", "ukbconv-r"])
def test_a_basket_imports_to_the_same_rows_in_every_header_style(tmp_path, text):
    (tmp_path / "ukbconv.csv").write_text(DXA_UKBCONV)
    (tmp_path / "other.txt").write_text(text)
    showcase_import_fields(path=tmp_path / "ukbconv.csv")
    expected = stored_values()
    report = showcase_import_fields(path=tmp_path / "other.txt")  # the same basket in another style
    assert not report.changed and report.header_style != "ukbconv, comma-separated"
    CovariateValue.all_objects.all().delete()
    Visit.all_objects.all().delete()
    Subject.all_objects.all().delete()
    showcase_import_fields(path=tmp_path / "other.txt")
    assert stored_values() == expected
    assert expected[1] == [(2000001, 2, None, None, None, 24.0, None), (2000002, 2, None, None, None, 28.5, None)]


def test_real_dxa_columns_are_stored_under_their_concept_and_head_bmd_under_its_own(tmp_path):
    from tests.factories import make_scan
    from ukbstudy.measurements.selectors.frames import scan_frame

    (tmp_path / "dxa.csv").write_text(DXA_UKBCONV)
    showcase_import_fields(path=tmp_path / "dxa.csv")
    make_scan(Subject.objects.get(eid=2000001))
    frame = scan_frame(columns=["bmd_spine", "bmd_femoral_neck", "fat_pct_android", "fat_pct_total", "vat_mass",
                                "23226-2.0", "bmi"], instance=2).set_index("eid")
    assert list(frame.index) == [2000001]
    assert frame.loc[2000001].drop(["scan", "instance"]).to_dict() == pytest.approx({
        "bmd_spine": 1.105, "bmd_femoral_neck": 0.912, "fat_pct_android": 40.2, "fat_pct_total": 37.1,
        "vat_mass": 812, "23226-2.0": 2.290, "bmi": 24.0})
    head = CovariateValue.objects.get(subject__eid=2000001, field="23226-2.0")
    assert head.unit == "g/cm2"
    assert CovariateValue.objects.get(subject__eid=2000001, field="23247-2.0").unit == "%"


# Both imaging visits' attributes: the first imaging visit (instance 2) and the repeat imaging visit (3).
VISITS = ("eid,31-0.0,53-2.0,21003-2.0,50-2.0,21001-2.0,54-2.0,53-3.0,21003-3.0,50-3.0,21001-3.0,54-3.0,21001-0.0\n"
          "1000001,0,2015-03-02,63,165.0,24.1,11025,2020-06-15,68,164.5,25.3,11027,23.0\n"
          "1000002,1,2016-11-30,70,180.5,27.9,11026,,,,,,\n")
VISITS_R = ukbconv_r(VISITS)
VISITS_RAP = ("participant.eid,participant.p31,participant.p53_i2,participant.p21003_i2,participant.p50_i2,"
              "participant.p21001_i2,participant.p54_i2,participant.p53_i3,participant.p21003_i3,participant.p50_i3,"
              "participant.p21001_i3,participant.p54_i3,participant.p21001_i0\n" + VISITS.split("\n", 1)[1])


@pytest.fixture
def visits(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text(VISITS)
    return path


def test_repeat_visit_attributes_create_a_second_visit_with_its_own_values(visits):
    report = showcase_import_fields(path=visits)
    assert (report.visits_created, report.visits_updated) == (3, 0)
    assert visit_values(1000001, 2) == (date(2015, 3, 2), 63, 165.0, 24.1, 11025)
    assert visit_values(1000001, 3) == (date(2020, 6, 15), 68, 164.5, 25.3, 11027)
    assert list(Visit.objects.filter(subject__eid=1000002).values_list("instance", flat=True)) == [2]
    # the BMI of the first assessment (instance 0) is a covariate, on no visit
    assert CovariateValue.objects.get(subject__eid=1000001, field="21001-0.0").value == 23.0
    assert not Visit.all_objects.exclude(instance__in=(2, 3)).exists()


def test_the_date_of_attending_is_stored_on_each_visit(visits):
    showcase_import_fields(path=visits)
    dates = Visit.objects.order_by("subject__eid", "instance").values_list("subject__eid", "instance", "date")
    assert list(dates) == [(1000001, 2, date(2015, 3, 2)), (1000001, 3, date(2020, 6, 15)),
                           (1000002, 2, date(2016, 11, 30))]


@pytest.mark.parametrize("cell", ["2014-13-01", "01/05/2014"])
def test_a_bad_date_rejects_the_whole_file_naming_line_and_column(visits, tmp_path, cell):
    showcase_import_fields(path=visits)
    before = database_snapshot()
    bad = tmp_path / "bad.csv"
    bad.write_text(VISITS.replace("2020-06-15", cell) + "1000003,1,2017-01-09,61,170.0,25.0,11028,,,,,,\n")
    with pytest.raises(ShowcaseError) as excinfo:
        showcase_import_fields(path=bad)
    assert excinfo.value.errors == [f"line 2, column 53-3.0: {cell!r} is not a date (YYYY-MM-DD, 2006 to 2040)"]
    assert database_snapshot() == before
    assert not Subject.all_objects.filter(eid=1000003).exists()


def test_a_bad_date_in_a_first_import_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("eid,31-0.0,53-2.0,21001-2.0\n1000001,0,2014-05-01,24.1\n1000002,1,2014-13-01,27.9\n")
    with pytest.raises(ShowcaseError, match=r"line 3, column 53-2.0: '2014-13-01' is not a date"):
        showcase_import_fields(path=bad)
    assert not Subject.all_objects.exists() and not Visit.all_objects.exists()
    assert not ImportBatch.objects.exists()


def test_a_changed_repeat_visit_bmi_updates_only_that_visit_in_a_new_batch(visits, tmp_path):
    first = showcase_import_fields(path=visits)
    untouched = {(v.subject.eid, v.instance): v.updated_at for v in Visit.objects.select_related("subject")}
    changed = tmp_path / "visits2.csv"
    changed.write_text(VISITS.replace("164.5,25.3,11027", "164.5,26.1,11027"))
    report = showcase_import_fields(path=changed)
    assert (report.visits_created, report.visits_updated, report.subjects_updated) == (0, 1, 0)
    assert report.changed and report.batch_id not in (None, first.batch_id)
    assert ImportBatch.objects.count() == 2
    assert visit_values(1000001, 3) == (date(2020, 6, 15), 68, 164.5, 26.1, 11027)
    assert visit_values(1000001, 2) == (date(2015, 3, 2), 63, 165.0, 24.1, 11025)
    updated = {(v.subject.eid, v.instance): v.updated_at for v in Visit.objects.select_related("subject")}
    assert [key for key in untouched if updated[key] != untouched[key]] == [(1000001, 3)]
    before = database_snapshot()
    again = showcase_import_fields(path=changed)
    assert not again.changed and again.batch_id is None
    assert (again.visits_created, again.visits_updated) == (0, 0)
    assert database_snapshot() == before


def test_reimporting_visits_changes_nothing(visits):
    showcase_import_fields(path=visits)
    before = database_snapshot()
    report = showcase_import_fields(path=visits)
    assert not report.changed and (report.visits_created, report.visits_updated) == (0, 0)
    assert database_snapshot() == before


def test_a_visit_the_archive_import_created_gets_the_attributes(visits):
    from tests.factories import make_scan, make_subject

    scan = make_scan(make_subject(eid=1000001, sex="F"), instance=3)
    report = showcase_import_fields(path=visits)
    assert (report.subjects_created, report.visits_created, report.visits_updated) == (1, 2, 1)
    scan.refresh_from_db()
    assert (scan.visit.instance, scan.visit.bmi, scan.visit.date) == (3, 25.3, date(2020, 6, 15))
    assert Visit.all_objects.filter(subject__eid=1000001).count() == 2


def test_the_centre_of_another_visit_is_reported_as_an_unknown_column(tmp_path):
    path = tmp_path / "centre.csv"
    path.write_text("eid,31-0.0,54-0.0,53-1.0,54-2.0\n1000001,0,11010,2012-05-01,11025\n")
    report = showcase_import_fields(path=path)
    assert report.unknown_columns == [
        "54-0.0 (UK Biobank assessment centre is kept for the imaging visits (instances 2, 3) only)",
        "53-1.0 (Date of attending assessment centre is kept for the imaging visits (instances 2, 3) only)"]
    assert visit_values(1000001) == (None, None, None, None, 11025)
    assert not CovariateValue.objects.exists()


@pytest.mark.parametrize("text", [VISITS_R, VISITS_RAP], ids=["ukbconv-r", "rap"])
def test_visits_import_the_same_in_every_header_style(tmp_path, text):
    (tmp_path / "ukbconv.csv").write_text(VISITS)
    (tmp_path / "other.txt").write_text(text)
    showcase_import_fields(path=tmp_path / "ukbconv.csv")
    expected = stored_values()
    assert len(expected[1]) == 3
    report = showcase_import_fields(path=tmp_path / "other.txt")  # the same basket in another style
    assert not report.changed and report.header_style != "ukbconv, comma-separated"
    assert report.unknown_columns == []
    CovariateValue.all_objects.all().delete()
    Visit.all_objects.all().delete()
    Subject.all_objects.all().delete()
    report = showcase_import_fields(path=tmp_path / "other.txt")
    assert report.visits_created == 3
    assert stored_values() == expected
