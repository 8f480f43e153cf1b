"""Zip safety and manifest parsing, without Django."""

import re
import zipfile

import pytest

from ml.ukb.archive import ArchiveError, ArchiveLimits, SafeZip, manifest_filenames, parse_archive_name
from ml.ukb.identity import MemberIdentity, check_consistent, check_member
from ml.ukb.manifest import ManifestRow, parse_manifest


def make_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_archive_name_gives_eid_field_instance_and_array():
    name = parse_archive_name("/data/1234567_20201_3_0.zip")
    assert (name.eid, name.field, name.instance, name.array) == (1234567, 20201, 3, 0)


@pytest.mark.parametrize("name", ["scan.zip", "1234567_20201_2.zip", "abc_20201_2_0.zip", "1234567_20201_2_0.tar"])
def test_archive_name_of_another_form_is_refused(name):
    with pytest.raises(ArchiveError, match="file name is not of the form"):
        parse_archive_name(name)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "1_20201_2_0.zip"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ArchiveError, match="not a zip archive"):
        SafeZip(path)


@pytest.mark.parametrize("member", ["../evil.dcm", "a/../../evil.dcm", "/etc/passwd", "C:/evil.dcm", "..\\evil.dcm"])
def test_members_escaping_the_archive_are_refused(tmp_path, member):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {"ok.dcm": b"x", member: b"y"})
    with pytest.raises(ArchiveError, match="unsafe path") as excinfo:
        SafeZip(path)
    assert excinfo.value.member == member


def test_a_zip_bomb_is_refused_before_extraction(tmp_path):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {"bomb.dcm": b"\0" * (20 * 1024**2)})
    with pytest.raises(ArchiveError, match=r"compression ratio \d+ is above 100 \(zip bomb\?\)"):
        SafeZip(path, ArchiveLimits(max_ratio=100))


def test_total_uncompressed_size_is_capped(tmp_path):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {f"{i}.dcm": bytes(range(256)) * 400 for i in range(5)},
                    compression=zipfile.ZIP_STORED)
    with pytest.raises(ArchiveError, match="uncompressed size"):
        SafeZip(path, ArchiveLimits(max_uncompressed_bytes=300_000))


def test_a_member_whose_data_is_damaged_is_named(tmp_path):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {"a.dcm": b"A" * 5000 + bytes(range(256)) * 20},
                    compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"AAAA")
    raw[start:start + 10] = b"BBBBBBBBBB"  # CRC no longer matches
    path.write_bytes(bytes(raw))
    with SafeZip(path) as archive, pytest.raises(ArchiveError, match="cannot be read") as excinfo:
        archive.read(archive.members[0])
    assert excinfo.value.member == "a.dcm"


def test_symbolic_links_are_refused(tmp_path):
    path = tmp_path / "1_20201_2_0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("link.dcm")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="symbolic links"):
        SafeZip(path)


def test_manifest_names_survive_unquoted_dates_and_a_bad_header():
    text = ("filename,patientid,studyid,aetitle,date,time\n"
            "1.3.12.2.1107.5.2.18.41754.1.dcm,1234567,1.3.12,AWP41754,Mar 12, 2017,142231\n"
            "\n"
            "1.3.12.2.1107.5.2.18.41754.2.dcm,1234567,1.3.12,AWP41754,Mar 12, 2017,142232\n")
    assert manifest_filenames(text) == {"1.3.12.2.1107.5.2.18.41754.1.dcm", "1.3.12.2.1107.5.2.18.41754.2.dcm"}


REAL_HEADER = "filename,patientid,studyid,aetitle,date,time,series discription,seriesid"
OLD_HEADER = "filename,patientid,studyid,aetitle,date,time,seriesdescription"


def test_manifest_of_the_real_layout_keeps_descriptions_after_the_unquoted_date():
    text = (f"{REAL_HEADER}\n"
            "a.dcm,1234567,1.2.3,AWP41754,Aug 14, 2015,101500,Dixon_noBH_F,1.2.3.4\n"
            "b.dcm,1234567,1.2.3,AWP41754,Aug 14, 2015,101700,Dixon_BH_17s_W,1.2.3.5\n")
    assert parse_manifest(text) == [ManifestRow("a.dcm", "Dixon_noBH_F"), ManifestRow("b.dcm", "Dixon_BH_17s_W")]


def test_manifest_of_our_old_layout_is_read_by_its_seriesdescription_column():
    text = f"{OLD_HEADER}\na.dcm,1234567,1.2.3,AWP41754,Mar 02, 2017,142231,Dixon_noBH_opp\n"
    assert parse_manifest(text) == [ManifestRow("a.dcm", "Dixon_noBH_opp")]


def test_manifest_with_a_quoted_date_is_not_shifted():
    text = f'{REAL_HEADER}\na.dcm,1234567,1.2.3,AWP41754,"Aug 14, 2015",101500,Dixon_noBH_in,1.2.3.4\n'
    assert parse_manifest(text) == [ManifestRow("a.dcm", "Dixon_noBH_in")]


def test_manifest_header_in_capitals_after_a_byte_order_mark_is_read_by_name():
    text = ("\ufeffFILENAME,PATIENTID,STUDYID,AETITLE,DATE,TIME,SERIES DISCRIPTION,SERIESID\r\n"
            "a.dcm,1234567,1.2.3,AWP41754,Aug 14, 2015,101500,Dixon_noBH_W,1.2.3.4\r\n\r\n")
    assert parse_manifest(text) == [ManifestRow("a.dcm", "Dixon_noBH_W")]


def test_manifest_filename_column_is_found_wherever_it_stands():
    text = ("PatientID,FileName,Series_Description,Date\n"
            "1234567,a.dcm,Dixon_noBH_in,Aug 14, 2015\n")
    assert parse_manifest(text) == [ManifestRow("a.dcm", "Dixon_noBH_in")]
    assert manifest_filenames(text) == {"a.dcm"}


def test_manifest_without_a_filename_column_falls_back_to_the_first_column():
    text = "name,patient,date\na.dcm,1234567,Aug 14, 2015\nb.dcm,1234567,Aug 14, 2015\n"
    assert manifest_filenames(text) == {"a.dcm", "b.dcm"}


def test_an_empty_manifest_lists_nothing():
    assert manifest_filenames("\ufeff\n\n") == set()


def test_archive_errors_survive_pickling_for_celery():
    import pickle

    error = pickle.loads(pickle.dumps(ArchiveError("/x/1_20201_2_0.zip", "not a DICOM file", member="a.dcm")))
    assert (str(error), error.member) == ("1_20201_2_0.zip: a.dcm: not a DICOM file", "a.dcm")


def test_two_members_of_one_name_are_refused(tmp_path):
    path = tmp_path / "1_20201_2_0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.dcm", b"first")
        with pytest.warns(UserWarning):
            archive.writestr("a.dcm", b"second")
    with pytest.raises(ArchiveError, match="two members of this name"):
        SafeZip(path)


def test_a_directory_that_overstates_compressed_sizes_is_refused(tmp_path):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {"a.dcm": b"\0" * 100_000})
    raw = bytearray(path.read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 20:central + 24] = (60 * 1024**2).to_bytes(4, "little")  # compressed size field
    path.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError, match="damaged zip directory"):
        SafeZip(path)


def test_the_number_of_members_is_capped(tmp_path):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {f"{i}.dcm": b"x" for i in range(6)})
    with pytest.raises(ArchiveError, match="6 members, above the limit of 5"):
        SafeZip(path, ArchiveLimits(max_members=5))


def test_encrypted_members_are_refused(tmp_path):
    path = make_zip(tmp_path / "1_20201_2_0.zip", {"a.dcm": b"secret"}, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = raw.index(signature)
        raw[at + flag_offset] |= 0x1
    path.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError, match="encrypted members"):
        SafeZip(path)


def identity(member: str, patient_id: str = "1234567", name: str = "1234567", study: str = "1.2.3",
             modality: str = "MR") -> MemberIdentity:
    return MemberIdentity(member, modality, patient_id, name, study)


def test_the_odd_member_is_named_even_when_it_comes_first():
    members = [identity("odd.dcm", patient_id="7654321")] + [identity(f"{i}.dcm") for i in range(3)]
    with pytest.raises(ArchiveError, match="PatientID '7654321' differs from '1234567' of the other 3") as excinfo:
        check_consistent("1234567_20201_2_0.zip", members)
    assert excinfo.value.member == "odd.dcm"


def test_members_without_a_patient_name_do_not_disagree_with_those_that_have_one():
    check_consistent("1234567_20201_2_0.zip", [identity("a.dcm"), identity("b.dcm", name=""), identity("c.dcm")])


@pytest.mark.parametrize("eid_in_headers, patient_id, message", [
    (True, "7654321", "PatientID '7654321' in the DICOM header is not the eid 1234567"),
    (True, "", "PatientID '' in the DICOM header is not the eid 1234567"),
    (False, "7654321", None),
])
def test_the_patient_id_is_compared_with_the_file_name_only_where_headers_carry_the_eid(eid_in_headers, patient_id,
                                                                                       message):
    member = identity("a.dcm", patient_id=patient_id)
    if message is None:
        check_member("1234567_20201_2_0.zip", member, 1234567, eid_in_headers)
    else:
        with pytest.raises(ArchiveError, match=re.escape(message)):
            check_member("1234567_20201_2_0.zip", member, 1234567, eid_in_headers)


def test_a_member_that_is_not_mr_is_refused_whatever_its_patient():
    with pytest.raises(ArchiveError, match="Modality is CT, not MR"):
        check_member("1234567_20201_2_0.zip", identity("ct.dcm", modality="CT"), 1234567, False)
