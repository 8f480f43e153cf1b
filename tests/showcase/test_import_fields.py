"""import_fields: subjects, reference values and covariates from a showcase CSV."""

import pytest
from django.core.management import CommandError, call_command

from ml.ukb.showcase import ShowcaseError
from tests.snapshot import database_snapshot
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.showcase.services.fields import showcase_import_fields
from ukbstudy.subjects.models import ImportBatch, Subject

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


def test_it_creates_subjects_with_their_attributes(basket):
    showcase_import_fields(path=basket)
    subject = Subject.objects.get(eid=1000001)
    assert (subject.sex, subject.age, subject.height_cm, subject.bmi, subject.centre) == ("F", 63, 165.0, 24.1, 11025)
    assert Subject.objects.get(eid=1000002).sex == "M"


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
    assert (report.subjects_updated, report.values_updated["reference"]) == (1, 1)
    assert Subject.objects.get(eid=1000003).bmi == 31.5
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
    assert Subject.all_objects.get(eid=1000001).bmi == 24.1


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
    return sorted(CovariateValue.objects.values_list("subject__eid", "field", "value", "unit"))


@pytest.mark.parametrize("text", [DXA_RAP, DXA_R], ids=["rap", "ukbconv-r"])
def test_a_basket_imports_to_the_same_rows_in_every_header_style(tmp_path, text):
    (tmp_path / "ukbconv.csv").write_text(DXA_UKBCONV)
    (tmp_path / "other.txt").write_text(text)
    showcase_import_fields(path=tmp_path / "ukbconv.csv")
    expected = stored_values()
    report = showcase_import_fields(path=tmp_path / "other.txt")  # the same basket in another style
    assert not report.changed and report.header_style != "ukbconv, comma-separated"
    CovariateValue.all_objects.all().delete()
    Subject.all_objects.all().delete()
    showcase_import_fields(path=tmp_path / "other.txt")
    assert stored_values() == expected


def test_real_dxa_columns_are_stored_under_their_concept_and_head_bmd_under_its_own(tmp_path):
    from ukbstudy.measurements.selectors.frames import subject_frame

    (tmp_path / "dxa.csv").write_text(DXA_UKBCONV)
    showcase_import_fields(path=tmp_path / "dxa.csv")
    frame = subject_frame(columns=["bmd_spine", "bmd_femoral_neck", "fat_pct_android", "fat_pct_total", "vat_mass",
                                   "23226-2.0"]).set_index("eid")
    assert frame.loc[2000001].to_dict() == pytest.approx({
        "bmd_spine": 1.105, "bmd_femoral_neck": 0.912, "fat_pct_android": 40.2, "fat_pct_total": 37.1,
        "vat_mass": 812, "23226-2.0": 2.290})
    head = CovariateValue.objects.get(subject__eid=2000001, field="23226-2.0")
    assert head.unit == "g/cm2"
    assert CovariateValue.objects.get(subject__eid=2000001, field="23247-2.0").unit == "%"
