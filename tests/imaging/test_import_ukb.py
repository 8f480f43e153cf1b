"""import_ukb: neck-to-knee archives (real DICOM from the synthetic generator and from pydicom)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ml.ukb import protocol
from ml.ukb.archive import sha256_of
from tests.archives import archive_identity, cohort_archives, dicom_with, pydicom_test_file, rewrite_archive
from tests.snapshot import database_snapshot
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.subjects.models import ImportBatch, Subject
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def clean_archives(tmp_path_factory) -> list[Path]:
    return cohort_archives(tmp_path_factory.mktemp("clean"), 3, seed=11)


@pytest.fixture(scope="session")
def faulty_archive(tmp_path_factory):
    cache: dict[str, Path] = {}

    def make(fault: str) -> Path:
        if fault not in cache:
            cache[fault] = cohort_archives(tmp_path_factory.mktemp(fault), 1, seed=12, faults={fault: 1.0})[0]
        return cache[fault]

    return make


def import_one(path: Path):
    report = scans_import_archives(paths=[path])
    assert len(report.results) == 1
    return report.results[0]


def deviation_codes(scan: Scan) -> list[str]:
    return [d["code"] for d in scan.deviations]


def stored_files(media_root: Path) -> list[Path]:
    """Everything stored per participant (files and folders below archives/20201)."""
    return sorted((Path(media_root) / "archives" / "20201").rglob("*"))


def test_a_clean_archive_is_inventoried_station_by_station(clean_archives, media_root):
    result = import_one(clean_archives[0])
    assert result.status == "imported", result.reason
    scan = Scan.objects.get(pk=result.scan_id)
    eid = int(clean_archives[0].name.split("_")[0])
    assert (scan.subject.eid, scan.field_id, scan.instance, scan.array_index) == (eid, 20201, 2, 0)
    assert (scan.n_series, scan.deviations, scan.stations) == (24, [], [1, 2, 3, 4, 5, 6])
    for number, by_type in scan.inventory["stations"].items():
        spec = protocol.STATION_BY_NUMBER[int(number)].scaled(0.25)
        assert sorted(by_type) == sorted(protocol.SERIES_TYPES)
        assert by_type["F"]["description"].endswith("_F") and by_type["W"]["description"].endswith("_W")
        assert (by_type["F"]["rows"], by_type["F"]["columns"], by_type["F"]["slices"]) == \
            (spec.rows, spec.columns, spec.slices)
    tops = [scan.inventory["stations"][str(n)]["F"]["z_top"] for n in range(1, 7)]
    assert tops == sorted(tops, reverse=True)  # station 1 at the neck, station 6 at the knees
    assert scan.n_files == sum(by_type["F"]["slices"] * 4 for by_type in scan.inventory["stations"].values())
    stored = Path(media_root) / scan.archive_path
    assert sha256_of(stored) == scan.archive_sha256 == sha256_of(clean_archives[0])


def test_reimporting_an_archive_changes_nothing(clean_archives, media_root):
    import_one(clean_archives[0])
    before, files = database_snapshot(), stored_files(media_root)
    result = import_one(clean_archives[0])
    assert result.status == "duplicate" and "already imported" in result.reason
    assert database_snapshot() == before and stored_files(media_root) == files


def test_a_folder_import_reports_every_file(clean_archives, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    for path in clean_archives[:2]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "9999999_20201_2_0.zip").write_text("not a zip")
    import_one(clean_archives[0])
    report = scans_import_archives(paths=[folder])
    statuses = {Path(r.path).name: r.status for r in report.results}
    assert statuses == {clean_archives[0].name: "duplicate", clean_archives[1].name: "imported",
                        "9999999_20201_2_0.zip": "rejected"}
    assert report.counts == {"imported": 1, "duplicate": 1, "rejected": 1}
    assert ImportBatch.objects.get(pk=report.batch_id).summary == {"counts": report.counts}


def test_a_repeated_station_keeps_the_later_acquisition(faulty_archive):
    result = import_one(faulty_archive("repeated_station"))
    scan = Scan.objects.get(pk=result.scan_id)
    assert scan.n_series == 28 and "repeated_station" in deviation_codes(scan)
    repeated = next(d for d in scan.deviations if d["code"] == "repeated_station")
    kept = scan.inventory["stations"][str(repeated["station"])]
    numbers = [s["series_number"] for s in kept.values()]
    assert min(numbers) > 4  # the later acquisition has the higher series numbers
    assert scan.stations == [1, 2, 3, 4, 5, 6]


def test_water_stored_where_fat_is_expected_is_recorded_and_typed_by_header(faulty_archive):
    scan = Scan.objects.get(pk=import_one(faulty_archive("water_in_fat_slot")).scan_id)
    deviation = next(d for d in scan.deviations if d["code"] == "water_in_fat_slot")
    station = scan.inventory["stations"][str(deviation["station"])]
    assert station["F"]["description"].endswith("_F") and station["W"]["description"].endswith("_W")
    assert station["W"]["series_number"] < station["F"]["series_number"]


def test_a_missing_station_is_recorded_not_fatal(faulty_archive):
    scan = Scan.objects.get(pk=import_one(faulty_archive("missing_station")).scan_id)
    missing = [d["station"] for d in scan.deviations if d["code"] == "missing_station"]
    assert len(missing) == 1 and scan.n_series == 20
    assert scan.stations == sorted(set(range(1, 7)) - set(missing))


def test_an_extra_non_dixon_series_is_recorded_and_ignored(clean_archives, tmp_path):
    # An extra series of the same examination: pydicom's MR file given this archive's patient and study.
    extra = dicom_with(pydicom_test_file("MR_small.dcm").read_bytes(), **archive_identity(clean_archives[1]))
    path = rewrite_archive(clean_archives[1], tmp_path, add={"extra/MR_small.dcm": extra})
    scan = Scan.objects.get(pk=import_one(path).scan_id)
    assert "extra_series" in deviation_codes(scan) and scan.n_series == 25
    assert scan.stations == [1, 2, 3, 4, 5, 6]


def test_an_archive_without_manifest_is_imported_with_a_deviation(clean_archives, tmp_path):
    path = rewrite_archive(clean_archives[1], tmp_path, drop=lambda name: name.startswith("manifest"))
    scan = Scan.objects.get(pk=import_one(path).scan_id)
    assert deviation_codes(scan) == ["manifest_missing"]


def with_manifest(source: Path, target_dir: Path, edit) -> Path:
    """A copy of ``source`` whose manifest text is replaced by ``edit(text)``."""
    with zipfile.ZipFile(source) as archive:
        name = next(n for n in archive.namelist() if n.startswith("manifest"))
        text = archive.read(name).decode()
    return rewrite_archive(source, target_dir, drop=lambda member: member == name, add={name: edit(text).encode()})


def rewritten_manifest(text: str) -> str:
    """The same listing as a tool might rewrite it: our former header, dates quoted, the first two columns
    swapped (so only a lookup by name finds the file names), CRLF line ends and a byte-order mark."""
    quoted = re.sub(r"([A-Z][a-z]{2} \d{2}, \d{4})", r'"\1"', text).replace("series discription", "seriesdescription")
    swapped = [",".join([b, a, rest]) for a, b, rest in (line.split(",", 2) for line in quoted.splitlines())]
    return "\ufeff" + "\r\n".join(swapped) + "\r\n"


def test_a_rewritten_manifest_with_quoted_dates_matches_its_files(clean_archives, tmp_path):
    path = with_manifest(clean_archives[1], tmp_path, rewritten_manifest)
    result = import_one(path)
    assert result.status == "imported", result.reason
    assert Scan.objects.get(pk=result.scan_id).deviations == []


def test_a_manifest_listing_a_missing_file_is_a_deviation_not_a_rejection(clean_archives, tmp_path):
    path = with_manifest(clean_archives[1], tmp_path,
                         lambda text: text + "ghost.dcm,1,1.2,AWP,Aug 14, 2015,101500,Dixon_noBH_F,1.2.3\n")
    result = import_one(path)
    assert result.status == "imported", result.reason
    scan = Scan.objects.get(pk=result.scan_id)
    assert deviation_codes(scan) == ["manifest_mismatch"] and scan.stations == [1, 2, 3, 4, 5, 6]
    assert "1 listed files absent (e.g. ghost.dcm), 0 files not listed" in scan.deviations[0]["message"]


@pytest.mark.parametrize("case, expected", [
    ("truncated", "MR_truncated.dcm: truncated pixel data (8130 of 8192 bytes)"),
    ("not_dicom", "notes.dcm: not a DICOM file"),
    ("unsafe", "../../outside.dcm: unsafe path"),
    ("not_zip", "not a zip archive"),
    ("wrong_field", "field 20204 is not 20201"),
    ("wrong_instance", "instance 0 is not an imaging visit"),
])
def test_bad_archives_are_rejected_with_the_reason_and_nothing_is_written(case, expected, clean_archives, tmp_path,
                                                                          media_root):
    source = clean_archives[2]
    if case == "truncated":
        truncated = pydicom_test_file("MR_truncated.dcm").read_bytes()
        path = rewrite_archive(source, tmp_path, add={"MR_truncated.dcm": truncated})
    elif case == "not_dicom":
        path = rewrite_archive(source, tmp_path, add={"notes.dcm": b"some notes, not an image"})
    elif case == "unsafe":
        path = rewrite_archive(source, tmp_path, add={"../../outside.dcm": b"x"})
    elif case == "not_zip":
        path = tmp_path / source.name
        path.write_bytes(source.read_bytes()[: 1000])
    elif case == "wrong_field":
        path = rewrite_archive(source, tmp_path, name=source.name.replace("_20201_", "_20204_"))
    else:
        path = rewrite_archive(source, tmp_path, name=source.name.replace("_20201_2_", "_20201_0_"))
    before = database_snapshot()
    result = import_one(path)
    assert result.status == "rejected"
    assert expected in result.reason and path.name in result.reason
    assert database_snapshot() == before
    assert stored_files(media_root) == []


def test_a_zip_bomb_is_rejected_before_extraction(clean_archives, tmp_path, settings):
    settings.UKB_IMPORT_LIMITS = {**settings.UKB_IMPORT_LIMITS, "max_ratio": 50}
    path = rewrite_archive(clean_archives[2], tmp_path, add={"padding.dcm": b"\0" * (10 * 1024**2)})
    result = import_one(path)
    assert result.status == "rejected" and "zip bomb" in result.reason
    assert Scan.all_objects.count() == 0


def test_archives_of_withdrawn_participants_are_refused(clean_archives):
    eid = int(clean_archives[0].name.split("_")[0])
    Subject.all_objects.create(eid=eid)
    subjects_withdraw(eids=[eid])
    result = import_one(clean_archives[0])
    assert result.status == "rejected" and "withdrawn" in result.reason


def test_a_different_archive_for_the_same_visit_is_refused(clean_archives, tmp_path):
    import_one(clean_archives[0])
    changed = rewrite_archive(clean_archives[0], tmp_path, drop=lambda name: name.startswith("manifest"))
    result = import_one(changed)
    assert result.status == "rejected" and "already imported from a different archive" in result.reason
    assert Scan.objects.count() == 1


def test_the_command_lists_each_file_and_fails_when_something_was_rejected(clean_archives, tmp_path, capsys):
    bad = tmp_path / "1234567_20201_2_0.zip"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(CommandError, match="1 archive\\(s\\) rejected"):
        call_command("import_ukb", str(clean_archives[1]), str(bad))
    out, err = capsys.readouterr()
    assert "1 imported, 0 skipped as duplicate, 1 rejected" in out
    assert "rejected  1234567_20201_2_0.zip" in err
    assert list(Scan.objects.values_list("archive_name", flat=True)) == [clean_archives[1].name]
