"""Showcase CSV parsing, without Django."""

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
    assert (column.field, column.instance, column.array, column.field_id) == (22402, 2, 0, "22402-2.0")
    assert parse_column("eid") is None and parse_column("22402-2") is None


def test_rows_split_into_subject_reference_and_covariate_values(tmp_path):
    path = write(tmp_path, "eid,31-0.0,21001-2.0,22402-2.0,23226-2.0,21001-3.0\n1000001,0,24.5,3.2,1.1,25.0\n")
    parsed = parse_showcase(path, CATALOGUE)
    row = parsed.rows[0]
    assert row.eid == 1000001
    assert row.subject == {"sex": "F", "bmi": 24.5}
    assert row.reference == {"22402-2.0": 3.2}
    # the repeat-visit BMI is kept as a covariate rather than overwriting the subject's BMI
    assert row.covariate == {"23226-2.0": 1.1, "21001-3.0": 25.0}


def test_empty_cells_are_missing_values(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,22402-2.0,50-2.0\n1000001,,\n"), CATALOGUE)
    assert parsed.rows[0].reference == {} and parsed.rows[0].subject == {}


def test_unknown_columns_are_reported_not_dropped_silently(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,99999-2.0,notes,31-0.0\n1000001,5,hello,1\n"), CATALOGUE)
    assert parsed.unknown_columns == ["99999-2.0 (field 99999 is not in the field catalogue)",
                                      "notes (not of the form FIELD-INSTANCE.ARRAY)"]


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
    with pytest.raises(ShowcaseError, match="no 'eid' column"):
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


def test_another_array_index_of_a_subject_field_does_not_overwrite_the_subject(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,21001-2.0,21001-2.1\n1000001,24.0,40.0\n"), CATALOGUE)
    assert parsed.rows[0].subject == {"bmi": 24.0}
    assert parsed.rows[0].covariate == {"21001-2.1": 40.0}


def test_unnamed_trailing_columns_are_accepted_while_empty(tmp_path):
    parsed = parse_showcase(write(tmp_path, "eid,50-2.0,,\r\n1000001,170,,\r\n"), CATALOGUE)
    assert parsed.rows[0].subject == {"height": 170.0}
    with pytest.raises(ShowcaseError, match="line 2: a value in a column without a name"):
        parse_showcase(write(tmp_path, "eid,50-2.0,\n1000001,170,x\n", name="b.csv"), CATALOGUE)
