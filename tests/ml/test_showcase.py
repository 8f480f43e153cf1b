"""Showcase CSV parsing, without Django."""

from datetime import date

import pytest

from ml.ukb.fields import load_catalogue, parse_column
from ml.ukb.showcase import ShowcaseError, parse_showcase

CATALOGUE = load_catalogue()


def write(tmp_path, text, name="basket.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_are_parsed_into_field_instance_and_array():
    column = parse_column("22402-2.0")
    assert (column.field, column.instance, column.array, column.text) == (22402, 2, 0, "22402-2.0")
    assert parse_column("eid") is None and parse_column("22402-2") is None


def test_rows_split_into_subject_visit_reference_and_covariate_values(tmp_path):
    path = write(tmp_path, "eid,31-0.0,21001-2.0,22402-2.0,23226-2.0,21001-3.0,21001-0.0\n"
                           "1000001,0,24.5,3.2,1.1,25.0,23.0\n")
    parsed = parse_showcase(path, CATALOGUE)
    row = parsed.rows[0]
    assert row.eid == 1000001
    assert row.subject == {"sex": "F"}
    # the repeat-visit BMI goes on its own visit rather than overwriting the first imaging visit's
    assert row.visits == {2: {"bmi": 24.5}, 3: {"bmi": 25.0}}
    assert row.reference == {"22402-2.0": 3.2}
    # a BMI of a visit without imaging (instance 0) stays a covariate
    assert row.covariate == {"23226-2.0": 1.1, "21001-0.0": 23.0}


def test_empty_cells_are_missing_values(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,22402-2.0,50-2.0\n1000001,,\n"), CATALOGUE)
    assert parsed.rows[0].reference == {} and parsed.rows[0].subject == {} and parsed.rows[0].visits == {}


def test_unknown_columns_are_reported_not_dropped_silently(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,99999-2.0,notes,31-0.0,20002-2.0,53-0.0\n"
                                            "1000001,5,hello,1,1065,2008-05-01\n"), CATALOGUE)
    assert parsed.unknown_columns == [
        "99999-2.0 (field 99999 is not in the showcase schema)",
        "notes (not a field column of the ukbconv style, e.g. 22402-2.0)",
        "20002-2.0 (field 20002 (Non-cancer illness code, self-reported) is categorical (multiple), not a number)",
        "53-0.0 (Date of attending assessment centre is kept for the imaging visits (instances 2, 3) only)",
    ]
    assert parsed.rows[0].visits == {}


def test_an_instance_the_showcase_schema_does_not_hold_is_reported_not_imported(tmp_path):
    # The schema (fmrib-unpack's copy) holds liver PDFF 22402 and 22436 at instance 2 only, DXA 23204 up to 3.
    parsed = parse_showcase(write(tmp_path, "eid,22402-2.0,22402-3.0,22436-3.0,23204-3.0\n"
                                            "1000001,4.5,6.5,7.0,1.1\n"), CATALOGUE)
    assert parsed.unknown_columns == [
        "22402-3.0 (field 22402 (Proton density fat fraction (PDFF)) has no instance 3 in the showcase schema: "
        "its instances go up to 2)",
        "22436-3.0 (field 22436 (10P Liver PDFF (proton density fat fraction)) has no instance 3 in the showcase "
        "schema: its instances go up to 2)",
    ]
    assert parsed.rows[0].reference == {"22402-2.0": 4.5} and parsed.rows[0].covariate == {"23204-3.0": 1.1}


def test_every_bad_cell_is_named_by_line_and_column(tmp_path):
    path = write(tmp_path, "eid,22402-2.0,31-0.0\n1000001,3.1,0\n1000002,high,1\n1000003,2.0,7\nabc,1,1\n")
    with pytest.raises(ShowcaseError) as excinfo:
        parse_showcase(path, CATALOGUE)
    assert excinfo.value.errors == [
        "line 3, column 22402-2.0: 'high' is not a number",
        "line 4, column 31-0.0: '7' is not a valid sex",
        "line 5, column eid: 'abc' is not a participant id",
    ]
    assert "basket.csv" in str(excinfo.value)


def test_a_repeated_eid_is_an_error(tmp_path):
    with pytest.raises(ShowcaseError, match="line 3: eid 1000001 already appears on line 2"):
        parse_showcase(write(tmp_path, "eid,50-2.0\n1000001,170\n1000001,171\n"), CATALOGUE)


def test_a_file_without_eid_column_is_an_error(tmp_path):
    with pytest.raises(ShowcaseError, match="no participant id column"):
        parse_showcase(write(tmp_path, "id,50-2.0\n1,170\n"), CATALOGUE)


def test_extra_fields_extend_the_catalogue(tmp_path):
    extra = write(tmp_path, "field,key,name,kind,unit\n40061,liver_pdff_10p,10P Liver PDFF,reference,%\n",
                  name="extra.csv")
    parsed = parse_showcase(write(tmp_path, "eid,40061-2.0\n1000001,4.5\n"), load_catalogue(extra))
    assert parsed.rows[0].reference == {"40061-2.0": 4.5}


def test_strict_numbers_and_eids(tmp_path):
    path = write(tmp_path, "eid,22402-2.0\n1000001,1_5\n²,1\n99999999999,2\n1000004,nan\n")
    with pytest.raises(ShowcaseError) as excinfo:
        parse_showcase(path, CATALOGUE)
    assert excinfo.value.errors == [
        "line 2, column 22402-2.0: '1_5' is not a number",
        "line 3, column eid: '²' is not a participant id",
        "line 4, column eid: '99999999999' is not a participant id",
        "line 5, column 22402-2.0: 'nan' is not a number",
    ]


def test_another_array_index_of_a_visit_field_does_not_overwrite_the_visit(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,21001-2.0,21001-2.1\n1000001,24.0,40.0\n"), CATALOGUE)
    assert parsed.rows[0].visits == {2: {"bmi": 24.0}}
    assert parsed.rows[0].covariate == {"21001-2.1": 40.0}


def test_unnamed_trailing_columns_are_accepted_while_empty(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,50-2.0,,\r\n1000001,170,,\r\n"), CATALOGUE)
    assert parsed.rows[0].visits == {2: {"height": 170.0}}
    with pytest.raises(ShowcaseError, match="line 2: a value in a column without a name"):
        parse_showcase(write(tmp_path, "eid,50-2.0,\n1000001,170,x\n", name="b.csv"), CATALOGUE)


# One basket with real DXA columns in the three header styles labs have.
UKBCONV = ("eid,31-0.0,21001-2.0,54-2.0,22402-2.0,23204-2.0,23226-2.0,23247-2.0,23288-2.0\n"
           "1000001,0,24.5,11025,3.2,1.12,2.31,0.352,950\n"
           "1000002,1,27.0,11026,,0.98,,0.281,\n")
RAP_HEADER = ("participant.eid,participant.p31,participant.p21001_i2,participant.p54_i2,participant.p22402_i2,"
              "participant.p23204_i2,participant.p23226_i2,participant.p23247_i2,participant.p23288_i2\n")
R_TAB = ("f.eid\tf.31.0.0\tf.21001.2.0\tf.54.2.0\tf.22402.2.0\tf.23204.2.0\tf.23226.2.0\tf.23247.2.0\tf.23288.2.0\n"
         "1000001\t0\t24.5\t11025\t3.2\t1.12\t2.31\t0.352\t950\n"
         "1000002\t1\t27.0\t11026\tNA\t0.98\tNA\t0.281\tNA\n")


def rows_of(parsed):
    return [(row.eid, row.subject, row.visits, row.reference, row.covariate) for row in parsed.rows]


def test_the_three_header_styles_read_to_the_same_rows(tmp_path):
    ukbconv = parse_showcase(write(tmp_path, UKBCONV, "a.csv"), CATALOGUE)
    rap = parse_showcase(write(tmp_path, RAP_HEADER + UKBCONV.split("\n", 1)[1], "b.csv"), CATALOGUE)
    bare_rap = parse_showcase(write(tmp_path, RAP_HEADER.replace("participant.", "") + UKBCONV.split("\n", 1)[1],
                                    "c.csv"), CATALOGUE)
    r_tab = parse_showcase(write(tmp_path, R_TAB, "d.tab"), CATALOGUE)
    rap_tsv = parse_showcase(write(tmp_path, RAP_HEADER.replace(",", "\t") + R_TAB.split("\n", 1)[1], "e.tsv"),
                             CATALOGUE)  # the table exporter's TSV output
    assert [p.style for p in (ukbconv, rap, bare_rap, r_tab, rap_tsv)] == [
        "ukbconv, comma-separated", "Research Analysis Platform, comma-separated",
        "Research Analysis Platform, comma-separated", "ukbconv R, tab-separated",
        "Research Analysis Platform, tab-separated"]
    assert rows_of(ukbconv) == rows_of(rap) == rows_of(bare_rap) == rows_of(r_tab) == rows_of(rap_tsv)
    assert not (ukbconv.unknown_columns or rap.unknown_columns or r_tab.unknown_columns)


def test_dxa_columns_land_under_their_own_field_and_fractions_become_percent(tmp_path):
    row = parse_showcase(write(tmp_path, UKBCONV), CATALOGUE).rows[0]
    assert row.covariate["23204-2.0"] == 1.12  # L1-L4 BMD: bmd_spine
    assert row.covariate["23226-2.0"] == 2.31  # head BMD: kept under its own field, never the spine's
    assert row.covariate["23247-2.0"] == pytest.approx(35.2)  # android tissue fat fraction 0.352 -> 35.2 %
    assert row.covariate["23288-2.0"] == 950


def test_a_fat_fraction_given_in_percent_is_named_not_stored(tmp_path):
    with pytest.raises(ShowcaseError) as excinfo:
        parse_showcase(write(tmp_path, "eid,23247-2.0\n1000001,35.2\n"), CATALOGUE)
    assert excinfo.value.errors == ["line 2, column 23247-2.0: 35.2 is outside the plausible range of Android "
                                    "tissue fat fraction: 0 to 1 (showcase unit: fraction)"]


def test_impossible_values_are_named_with_the_range_they_break(tmp_path):
    path = write(tmp_path, "eid,21003-2.0,22402-2.0,50-2.0,23288-2.0,23205-2.0\n"
                           "1000001,999,-40,170,800,-1.2\n1000002,63.5,5,2000,812.5,44\n1000003,63,3.1,170,900,-2\n")
    with pytest.raises(ShowcaseError) as excinfo:
        parse_showcase(path, CATALOGUE)
    assert excinfo.value.errors == [
        "line 2, column 21003-2.0: 999 is outside the plausible range of Age when attended assessment centre: "
        "18 to 110 (showcase unit: years)",
        "line 2, column 22402-2.0: -40 is outside the plausible range of Proton density fat fraction (PDFF): "
        "-5 to 100 (showcase unit: percent)",
        "line 3, column 21003-2.0: 63.5 is not a whole number (the showcase stores Age when attended assessment "
        "centre as an integer)",
        "line 3, column 50-2.0: 2000 is outside the plausible range of Standing height: 100 to 230 (showcase "
        "unit: cm)",
        "line 3, column 23288-2.0: 812.5 is not a whole number (the showcase stores VAT (visceral adipose "
        "tissue) mass as an integer)",
        "line 3, column 23205-2.0: 44 is outside the plausible range of L1-L4 BMD (bone mineral density) "
        "T-score: -10 to 10 (showcase unit: Std.Devs)",
    ]


def test_rap_arrays_and_uninstanced_fields_map_onto_field_instance_array(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,p31,p21001_i2_a0,p21001_i3\n1000001,1,24.0,25.5\n"), CATALOGUE)
    assert rows_of(parsed) == [(1000001, {"sex": "M"}, {2: {"bmi": 24.0}, 3: {"bmi": 25.5}}, {}, {})]


def test_coded_values_are_read_as_codes_or_their_meanings(tmp_path):
    parsed = parse_showcase(write(tmp_path, "participant.eid,participant.p31,participant.p54_i2\n"
                                            "1000001,Female,Reading (imaging)\n1000002,1,11027\n"), CATALOGUE)
    assert [row.subject for row in parsed.rows] == [{"sex": "F"}, {"sex": "M"}]
    assert [row.visits for row in parsed.rows] == [{2: {"centre": 11026}}, {2: {"centre": 11027}}]


def test_a_field_given_twice_in_two_spellings_is_an_error(tmp_path):
    with pytest.raises(ShowcaseError, match="'p31' is field 31-0.0 again"):
        parse_showcase(write(tmp_path, "participant.eid,participant.p31,p31\n1000001,1,1\n"), CATALOGUE)


def test_non_finite_numbers_are_refused(tmp_path):
    with pytest.raises(ShowcaseError) as excinfo:
        parse_showcase(write(tmp_path, "eid,22402-2.0,23226-2.0\n1000001,1e400,-1e999\n"), CATALOGUE)
    assert excinfo.value.errors == ["line 2, column 22402-2.0: '1e400' is not a number",
                                    "line 2, column 23226-2.0: '-1e999' is not a number"]


def test_a_byte_order_mark_does_not_hide_the_eid_column(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfeid,50-2.0\n1000001,170\n")
    assert parse_showcase(path, CATALOGUE).rows[0].visits == {2: {"height": 170.0}}


def test_other_fields_in_percent_are_not_held_to_0_100(tmp_path):
    # FEV1 % predicted (20154) above 100 and a negative augmentation index (12681) are real values
    parsed = parse_showcase(write(tmp_path, "eid,20154-0.0,12681-2.0,22402-2.0\n1000001,112.5,-3,-0.2\n"), CATALOGUE)
    assert parsed.rows[0].covariate == {"20154-0.0": 112.5, "12681-2.0": -3.0}
    assert parsed.rows[0].reference == {"22402-2.0": -0.2}  # a PDFF fit near zero


def test_coded_visit_fields_of_other_visits_are_reported_not_read_as_numbers(tmp_path):
    parsed = parse_showcase(write(tmp_path, "participant.eid,participant.p54_i0,participant.p54_i1,participant.p54_i2,"
                                            "participant.p54_i3\n1000001,Leeds,11010,Reading (imaging),11027\n"),
                            CATALOGUE)
    assert parsed.rows[0].visits == {2: {"centre": 11026}, 3: {"centre": 11027}}
    assert parsed.rows[0].subject == {} and parsed.rows[0].covariate == {}
    assert parsed.unknown_columns == [
        "participant.p54_i0 (UK Biobank assessment centre is kept for the imaging visits (instances 2, 3) only)",
        "participant.p54_i1 (UK Biobank assessment centre is kept for the imaging visits (instances 2, 3) only)"]


def test_centre_of_the_first_assessment_is_an_unknown_column_with_the_reason(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,31-0.0,54-0.0,54-2.0\n1000001,1,11010,11025\n"), CATALOGUE)
    assert parsed.unknown_columns == [
        "54-0.0 (UK Biobank assessment centre is kept for the imaging visits (instances 2, 3) only)"]
    assert rows_of(parsed) == [(1000001, {"sex": "M"}, {2: {"centre": 11025}}, {}, {})]


def test_visit_attributes_of_both_imaging_visits_are_read_onto_their_own_visit(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,31-0.0,53-2.0,21003-2.0,50-2.0,21001-2.0,54-2.0,"
                                            "53-3.0,21003-3.0,50-3.0,21001-3.0,54-3.0,21003-0.0\n"
                                            "1000001,0,2015-03-02,63,165.0,24.1,11025,"
                                            "2020-06-15,68,164.5,25.3,11027,55\n"), CATALOGUE)
    assert parsed.rows[0].visits == {
        2: {"date": date(2015, 3, 2), "age": 63.0, "height": 165.0, "bmi": 24.1, "centre": 11025},
        3: {"date": date(2020, 6, 15), "age": 68.0, "height": 164.5, "bmi": 25.3, "centre": 11027},
    }
    assert parsed.rows[0].covariate == {"21003-0.0": 55.0}  # age at the first assessment stays a covariate
    assert parsed.unknown_columns == []


@pytest.mark.parametrize("cell", ["2014-13-01", "01/05/2014", "2014-02-30", "2005-12-31", "2041-01-01",
                                  "2014-5-1", "20140501", "2014-05-01T10:00"])
def test_a_date_that_is_not_an_iso_day_of_the_study_is_named_by_line_and_column(tmp_path, cell):
    path = write(tmp_path, f"eid,53-2.0,53-3.0\n1000001,2014-05-01,2019-05-01\n1000002,2014-05-01,{cell}\n")
    with pytest.raises(ShowcaseError) as excinfo:
        parse_showcase(path, CATALOGUE)
    assert excinfo.value.errors == [f"line 3, column 53-3.0: {cell!r} is not a date (YYYY-MM-DD, 2006 to 2040)"]


def test_the_first_and_last_days_of_the_date_range_are_dates(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,53-2.0,53-3.0\n1000001,2006-01-01,2040-12-31\n"), CATALOGUE)
    assert parsed.rows[0].visits == {2: {"date": date(2006, 1, 1)}, 3: {"date": date(2040, 12, 31)}}


# One basket of both imaging visits' attributes in the three header styles.
VISITS_UKBCONV = ("eid,31-0.0,53-2.0,21003-2.0,21001-2.0,54-2.0,53-3.0,21003-3.0,50-3.0,21001-3.0,54-3.0\n"
                  "1000001,0,2015-03-02,63,24.1,11025,2020-06-15,68,164.5,25.3,11027\n"
                  "1000002,1,2016-11-30,70,27.9,11026,,,,,\n")
VISITS_R = ("f.eid\tf.31.0.0\tf.53.2.0\tf.21003.2.0\tf.21001.2.0\tf.54.2.0\tf.53.3.0\tf.21003.3.0\tf.50.3.0\t"
            "f.21001.3.0\tf.54.3.0\n"
            "1000001\t0\t2015-03-02\t63\t24.1\t11025\t2020-06-15\t68\t164.5\t25.3\t11027\n"
            "1000002\t1\t2016-11-30\t70\t27.9\t11026\tNA\tNA\tNA\tNA\tNA\n")
VISITS_RAP = ("participant.eid,participant.p31,participant.p53_i2,participant.p21003_i2,participant.p21001_i2,"
              "participant.p54_i2,participant.p53_i3,participant.p21003_i3,participant.p50_i3,participant.p21001_i3,"
              "participant.p54_i3\n"
              "1000001,Female,2015-03-02,63,24.1,Cheadle (imaging),2020-06-15,68,164.5,25.3,Newcastle (imaging)\n"
              "1000002,Male,2016-11-30,70,27.9,Reading (imaging),,,,,\n")


def test_visit_attributes_read_the_same_in_the_three_header_styles(tmp_path):
    parsed = [parse_showcase(write(tmp_path, text, name), CATALOGUE)
              for text, name in ((VISITS_UKBCONV, "a.csv"), (VISITS_R, "b.tab"), (VISITS_RAP, "c.csv"))]
    assert [p.style for p in parsed] == ["ukbconv, comma-separated", "ukbconv R, tab-separated",
                                         "Research Analysis Platform, comma-separated"]
    assert rows_of(parsed[0]) == rows_of(parsed[1]) == rows_of(parsed[2])
    assert parsed[0].rows[0].visits[3] == {"date": date(2020, 6, 15), "age": 68.0, "height": 164.5, "bmi": 25.3,
                                           "centre": 11027}
    assert parsed[0].rows[1].visits == {2: {"date": date(2016, 11, 30), "age": 70.0, "bmi": 27.9, "centre": 11026}}
    assert not any(p.unknown_columns for p in parsed)
