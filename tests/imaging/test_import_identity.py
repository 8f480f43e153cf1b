"""import_ukb: an archive's images must belong to the participant and examination it is imported as."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.archives import (
    archive_identity,
    cohort_archives,
    dicom_members,
    pydicom_test_file,
    rewrite_archive,
    rewrite_headers,
)
from tests.snapshot import database_snapshot
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def two_archives(tmp_path_factory) -> list[Path]:
    """Archives of two participants, A and B."""
    return cohort_archives(tmp_path_factory.mktemp("identity"), 2, seed=21)


def eid_of(path: Path) -> int:
    return int(path.name.split("_")[0])


def import_one(path: Path):
    report = scans_import_archives(paths=[path])
    assert len(report.results) == 1
    return report.results[0]


def assert_rejected_and_nothing_written(path: Path, media_root: Path, expected: str) -> str:
    before = database_snapshot()
    result = import_one(path)
    assert result.status == "rejected", result
    assert result.reason.startswith(f"{path.name}: ") and expected in result.reason, result.reason
    assert database_snapshot() == before
    assert sorted((Path(media_root) / "archives" / "20201").rglob("*")) == []  # no archive, index or folder kept
    return result.reason


def renamed(source: Path, to_eid: int, target_dir: Path) -> Path:
    return rewrite_archive(source, target_dir, name=source.name.replace(str(eid_of(source)), str(to_eid), 1))


def with_pydicom_file(source: Path, target_dir: Path, name: str) -> Path:
    """A copy of ``source`` with one of pydicom's test files (another patient and study) added."""
    return rewrite_archive(source, target_dir, add={name: pydicom_test_file(name).read_bytes()})


def one_member_of(path: Path) -> str:
    return dicom_members(path)[len(dicom_members(path)) // 2]


def test_a_copy_of_another_participants_archive_renamed_to_this_eid_is_rejected(two_archives, tmp_path, media_root):
    a, b = two_archives
    path = renamed(a, eid_of(b), tmp_path)
    reason = assert_rejected_and_nothing_written(
        path, media_root, f"PatientID '{eid_of(a)}' in the DICOM header is not the eid {eid_of(b)} of the file name")
    assert ".dcm: PatientID" in reason and "UKB_ARCHIVE_EID_IN_HEADERS" in reason


def test_a_member_of_another_patient_is_rejected_and_named(two_archives, tmp_path, media_root):
    a, b = two_archives
    member = one_member_of(a)
    other = str(eid_of(b))
    path = rewrite_headers(a, tmp_path, lambda name: name == member, PatientID=other, PatientName=other)
    assert_rejected_and_nothing_written(path, media_root, f"{member}: PatientID '{other}' in the DICOM header is not")


def test_a_ct_file_in_the_archive_is_rejected(two_archives, tmp_path, media_root):
    path = with_pydicom_file(two_archives[0], tmp_path, "CT_small.dcm")
    assert_rejected_and_nothing_written(path, media_root, "CT_small.dcm: Modality is CT, not MR")


def test_an_mr_file_of_another_patient_and_study_is_rejected(two_archives, tmp_path, media_root):
    path = with_pydicom_file(two_archives[0], tmp_path, "MR_small.dcm")
    assert_rejected_and_nothing_written(path, media_root, "MR_small.dcm: PatientID '4MR1' in the DICOM header is not")


def test_a_member_of_another_study_of_the_same_patient_is_rejected(two_archives, tmp_path, media_root):
    a = two_archives[0]
    member = one_member_of(a)
    path = rewrite_headers(a, tmp_path, lambda name: name == member, StudyInstanceUID="1.2.826.0.1.3680043.2.1")
    usual = archive_identity(a)["StudyInstanceUID"]
    assert_rejected_and_nothing_written(
        path, media_root, f"{member}: StudyInstanceUID '1.2.826.0.1.3680043.2.1' differs from '{usual}'")


def test_a_member_with_another_patient_name_is_rejected(two_archives, tmp_path, media_root):
    a = two_archives[0]
    member = one_member_of(a)
    path = rewrite_headers(a, tmp_path, lambda name: name == member, PatientName="Someone^Else")
    assert_rejected_and_nothing_written(path, media_root, f"{member}: PatientName 'Someone^Else' differs from")


def test_headers_without_the_eid_are_rejected_by_default(two_archives, tmp_path, media_root):
    path = rewrite_headers(two_archives[0], tmp_path, lambda name: True, PatientID="ANON0001", PatientName="ANON0001")
    assert_rejected_and_nothing_written(path, media_root, "PatientID 'ANON0001' in the DICOM header is not the eid")


@pytest.fixture
def eid_not_in_headers(settings):
    settings.UKB_ARCHIVE_EID_IN_HEADERS = False


def test_without_eid_in_headers_an_archive_whose_headers_carry_no_eid_imports(eid_not_in_headers, two_archives,
                                                                              tmp_path):
    source = two_archives[0]
    path = rewrite_headers(source, tmp_path, lambda name: True, PatientID="ANON0001", PatientName="ANON0001")
    result = import_one(path)
    assert result.status == "imported", result.reason
    scan = Scan.objects.get(pk=result.scan_id)
    assert scan.subject.eid == eid_of(source) and scan.stations == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("case, expected", [
    ("other_patient", "PatientID '9999999' differs from"),
    ("MR_small.dcm", "MR_small.dcm: PatientID '4MR1' differs from"),
    ("CT_small.dcm", "CT_small.dcm: Modality is CT, not MR"),
])
def test_without_eid_in_headers_mixed_members_are_still_rejected(case, expected, eid_not_in_headers, two_archives,
                                                                  tmp_path, media_root):
    source = two_archives[0]
    if case == "other_patient":
        member = one_member_of(source)
        path = rewrite_headers(source, tmp_path, lambda name: name == member, PatientID="9999999")
        expected = f"{member}: {expected} '{eid_of(source)}' of the other"
    else:
        path = with_pydicom_file(source, tmp_path, case)  # another patient and study
    assert_rejected_and_nothing_written(path, media_root, expected)
