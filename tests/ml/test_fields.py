"""The field catalogue against the showcase schema that fmrib-unpack ships (the source of truth)."""

import csv

import pytest

from ml.ukb import schema
from ml.ukb.fields import CATALOGUE, CENTRE_NAMES, FIELD_BY_KEY, FIELDS, VISIT_INSTANCES, basket_field, load_catalogue

# Concept -> (showcase id, title, unit) as the showcase names them. The expected titles and units here are
# what funpack/schema/field.txt says; the test compares them with that file, so a mistyped id (23226, head
# BMD, for the spine) fails twice: here and against the schema.
EXPECTED = {
    "sex": (31, "Sex", ""),
    "date": (53, "Date of attending assessment centre", ""),
    "age": (21003, "Age when attended assessment centre", "years"),
    "height": (50, "Standing height", "cm"),
    "bmi": (21001, "Body mass index (BMI)", "Kg/m2"),
    "centre": (54, "UK Biobank assessment centre", ""),
    "liver_pdff_22402": (22402, "Proton density fat fraction (PDFF)", "percent"),
    "liver_pdff_22436": (22436, "10P Liver PDFF (proton density fat fraction)", "percent"),
    "bmd_spine": (23204, "L1-L4 BMD (bone mineral density)", "g/cm2"),
    "tscore_spine": (23205, "L1-L4 BMD (bone mineral density) T-score", "Std.Devs"),
    "bmd_femoral_neck": (23299, "Femur neck BMD (bone mineral density) (left)", "g/cm2"),
    "tscore_femoral_neck": (23300, "Femur neck BMD (bone mineral density) T-score (left)", "Std.Devs"),
    "bmd_total_hip": (23291, "Femur total BMD (bone mineral density) (left)", "g/cm2"),
    "tscore_total_hip": (23293, "Femur total BMD (bone mineral density) T-score (left)", "Std.Devs"),
    "bmd_femoral_shaft": (23290, "Femur shaft BMD (bone mineral density) (left)", "g/cm2"),
    "fat_pct_android": (23247, "Android tissue fat fraction", "fraction"),
    "fat_pct_gynoid": (23264, "Gynoid tissue fat fraction", "fraction"),
    "fat_pct_legs": (23276, "Legs tissue fat fraction", "fraction"),
    "fat_pct_trunk": (23286, "Trunk tissue fat fraction", "fraction"),
    "fat_pct_total": (23281, "Total tissue fat fraction", "frction"),  # sic in the showcase
    "vat_mass": (23288, "VAT (visceral adipose tissue) mass", "g"),
}


def test_every_field_the_app_names_is_the_showcase_field_of_that_concept():
    fields = schema.load_fields()
    assert set(FIELD_BY_KEY) == set(EXPECTED)
    for key, (field_id, title, unit) in EXPECTED.items():
        spec, entry = FIELD_BY_KEY[key], fields[field_id]
        assert spec.field == field_id, key
        assert (entry.title, entry.units) == (title, unit), key
        assert (spec.name, spec.showcase_unit) == (entry.title, entry.units), key


def test_numeric_concepts_are_numeric_in_the_schema_and_coded_ones_are_coded():
    fields = schema.load_fields()
    for spec in FIELDS:
        entry = fields[spec.field]
        if spec.key in ("sex", "centre"):
            assert entry.coded, spec.key
        elif spec.key == "date":
            assert entry.value_type_name == "date", spec.key
        else:
            assert entry.numeric, spec.key


def test_what_is_measured_at_every_visit_is_kept_on_the_imaging_visits():
    assert VISIT_INSTANCES == (2, 3)
    assert {spec.key for spec in FIELDS if spec.kind == "visit"} == {"date", "age", "height", "bmi", "centre"}
    assert [(spec.key, spec.subject_instance) for spec in FIELDS if spec.kind == "subject"] == [("sex", 0)]


def test_fat_fractions_are_converted_to_percent_once():
    for key in ("fat_pct_android", "fat_pct_gynoid", "fat_pct_legs", "fat_pct_trunk", "fat_pct_total"):
        spec = FIELD_BY_KEY[key]
        assert (spec.scale, spec.unit, spec.label) == (100.0, "%", f"{spec.name} (%)")
    assert {spec.scale for spec in FIELDS if not spec.key.startswith("fat_pct_")} == {1.0}
    assert FIELD_BY_KEY["liver_pdff_22402"].unit == "%"


def test_fields_the_app_does_not_model_keep_their_showcase_title_and_unit():
    head_bmd, _ = basket_field(23226, CATALOGUE)
    assert (head_bmd.name, head_bmd.unit, head_bmd.kind) == ("Head BMD (bone mineral density)", "g/cm2", "covariate")
    assert head_bmd.key not in FIELD_BY_KEY  # never taken for the spine
    assert basket_field(20002, CATALOGUE)[0] is None  # categorical: not a covariate
    assert basket_field(99999, CATALOGUE) == (None, "field 99999 is not in the showcase schema")


def test_the_codings_we_carry_are_the_schemas_encodings_of_those_fields():
    fields = schema.load_fields()
    with (schema.schema_dir() / "encoding.txt").open(newline="", encoding="utf-8") as handle:
        encodings = {int(row["encoding_id"]): row for row in csv.DictReader(handle, delimiter="\t")}
    assert (fields[31].encoding, encodings[9]["title"]) == (9, "Sex")
    assert (fields[54].encoding, encodings[10]["title"]) == (10, "Assessment Centre")
    assert len(CENTRE_NAMES) <= int(encodings[10]["num_members"])


def test_extra_fields_take_title_and_unit_from_the_schema_when_left_empty(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("field,key,name,kind,unit,scale\n23226,bmd_head,,covariate,,\n23251,fat_arm_left,,covariate,%,100\n")
    catalogue = load_catalogue(extra)
    assert (catalogue[23226].name, catalogue[23226].unit) == ("Head BMD (bone mineral density)", "g/cm2")
    assert (catalogue[23251].unit, catalogue[23251].scale) == ("%", 100.0)


def test_a_schema_folder_can_be_configured(tmp_path, monkeypatch):
    (tmp_path / "field.txt").write_text("field_id\ttitle\tvalue_type\tunits\tmain_category\tencoding_id\n"
                                        "22402\tPDFF\t31\tpercent\t126\t0\n")
    monkeypatch.setenv("UKB_SCHEMA_DIR", str(tmp_path))
    assert schema.load_fields(str(schema.schema_dir()))[22402].title == "PDFF"
    (tmp_path / "field.txt").write_text("not a schema\n")
    schema.load_fields.cache_clear()
    with pytest.raises(schema.SchemaError, match="field.txt"):
        schema.load_fields(str(tmp_path))
    schema.load_fields.cache_clear()


def test_correcting_a_built_in_field_keeps_its_conversion_unless_told(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("field,key,name,kind,unit\n23247,android_fat,,covariate,\n")
    spec = load_catalogue(extra)[23247]
    assert (spec.key, spec.scale, spec.unit) == ("android_fat", 100.0, "%")
