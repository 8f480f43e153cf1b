"""Archives registered in place (``import_ukb --in-place``): recorded where they lie, never copied, written
beside or deleted, and checked on every read, so a moved or changed archive is reported and never read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ml.ukb.archive import sha256_of
from tests.archives import cohort_archives
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services import archives as archives_service
from ukbstudy.imaging.services import preprocessing
from ukbstudy.imaging.services.archive_files import ArchiveFileError, scan_archive_file
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.subjects.models import ImportBatch
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def delivered(tmp_path_factory) -> list[Path]:
    return cohort_archives(tmp_path_factory.mktemp("in-place"), 3, seed=61)


@pytest.fixture
def bulk(delivered, tmp_path) -> list[Path]:
    """A bulk folder of the test's own (tests move and edit its files)."""
    folder = tmp_path / "bulk"
    folder.mkdir()
    return [Path(shutil.copy2(path, folder / path.name)) for path in delivered]


@pytest.fixture
def read_only_bulk(bulk):
    """The bulk folder as UK Biobank's is mounted: files 0o444, folder 0o555 (restored for tmp_path's cleanup)."""
    for path in bulk:
        path.chmod(0o444)
    bulk[0].parent.chmod(0o555)
    yield bulk
    bulk[0].parent.chmod(0o755)
    for path in bulk:
        path.chmod(0o644)


def import_in_place(*paths: Path) -> list[Scan]:
    report = scans_import_archives(paths=list(paths), in_place=True)
    assert [r.status for r in report.results] == ["imported"] * len(paths), [r.reason for r in report.results]
    return [Scan.objects.get(pk=r.scan_id) for r in report.results]


def zips_under(media_root: Path) -> list[Path]:
    return sorted(Path(media_root).rglob("*.zip"))


def folder_state(folder: Path) -> tuple:
    """Names, sizes and times of a folder and its files: any file written, even removed again, shows."""
    return (folder.stat().st_mtime_ns,
            sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()))


def change_bytes_keeping_size(path: Path, *, keep_time: bool) -> None:
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    later = before.st_mtime_ns if keep_time else before.st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(before.st_atime_ns, later))


def test_an_archive_imported_in_place_is_recorded_where_it_lies_and_not_copied(bulk, media_root):
    [scan] = import_in_place(bulk[0])
    state = bulk[0].stat()
    assert scan.archive_in_place and scan.archive_path == str(bulk[0].absolute())
    assert (scan.archive_bytes, scan.archive_mtime_ns) == (state.st_size, state.st_mtime_ns)
    assert scan.archive_sha256 == sha256_of(bulk[0])
    assert zips_under(media_root) == []
    assert scan_preprocess(scan=scan).ok
    scan.refresh_from_db()
    assert scan.processing_state == "processed" and (Path(media_root) / scan.derived["fat"]).is_file()


def test_the_setting_makes_in_place_the_default_and_the_command_can_still_copy(bulk, media_root, settings):
    settings.IMAGING_ARCHIVES_IN_PLACE = True
    [result] = scans_import_archives(paths=[bulk[0]]).results
    assert Scan.objects.get(pk=result.scan_id).archive_in_place
    call_command("import_ukb", "--no-in-place", str(bulk[1]))
    copied = Scan.objects.get(archive_name=bulk[1].name)
    assert not copied.archive_in_place and [p.name for p in zips_under(media_root)] == [bulk[1].name]


def test_the_command_imports_a_folder_in_place(bulk, media_root, capsys):
    call_command("import_ukb", "--in-place", str(bulk[0].parent))
    assert "3 imported, 0 skipped as duplicate, 0 rejected" in capsys.readouterr().out
    assert Scan.objects.filter(archive_in_place=True).count() == 3 and zips_under(media_root) == []


def test_importing_from_a_read_only_folder_writes_nothing_there_and_preprocessing_works(read_only_bulk):
    folder = read_only_bulk[0].parent
    before = folder_state(folder)
    scans = import_in_place(*read_only_bulk[:2])
    assert scan_preprocess(scan=scans[0]).ok
    assert folder_state(folder) == before


def test_reimporting_an_archive_in_place_changes_nothing(bulk):
    [scan] = import_in_place(bulk[0])
    batches = ImportBatch.objects.count()
    [again] = scans_import_archives(paths=[bulk[0]], in_place=True).results
    assert (again.status, again.scan_id) == ("duplicate", scan.pk)
    assert Scan.objects.get().archive_path == scan.archive_path and ImportBatch.objects.count() == batches


def test_a_moved_archive_fails_its_scan_with_the_reason_and_is_not_read(bulk, monkeypatch):
    [scan] = import_in_place(bulk[0])
    moved = bulk[0].parent / "elsewhere" / bulk[0].name
    moved.parent.mkdir()
    bulk[0].rename(moved)
    monkeypatch.setattr(preprocessing.pipeline, "preprocess_archive",
                        lambda *a, **k: pytest.fail("the archive was read"))
    outcome = scan_preprocess(scan=scan)
    scan.refresh_from_db()
    assert not outcome.ok and scan.processing_state == "failed" and scan.derived == {}
    assert f"archive of scan {scan} at {bulk[0]} is missing" in scan.processing_error
    assert "import_ukb --in-place" in scan.processing_error


def test_importing_a_moved_archive_in_place_again_records_its_new_path(bulk):
    [scan] = import_in_place(bulk[0])
    moved = bulk[0].parent / "elsewhere" / bulk[0].name
    moved.parent.mkdir()
    bulk[0].rename(moved)
    [result] = scans_import_archives(paths=[moved], in_place=True).results
    assert result.status == "duplicate" and "now registered at" in result.reason
    scan.refresh_from_db()
    assert scan.archive_path == str(moved) and scan_archive_file(scan=scan) == moved
    assert scan_preprocess(scan=scan).ok


def test_an_archive_changed_in_place_is_detected_by_its_hash(bulk):
    [scan] = import_in_place(bulk[0])
    change_bytes_keeping_size(bulk[0], keep_time=False)
    with pytest.raises(ArchiveFileError, match="is changed: modified .* SHA-256 is now") as caught:
        scan_archive_file(scan=scan)
    assert (caught.value.kind, caught.value.path, caught.value.eid) == ("changed", bulk[0], scan.subject.eid)
    assert not scan_preprocess(scan=scan).ok
    assert "is changed" in Scan.objects.get(pk=scan.pk).processing_error


def test_an_archive_of_another_size_is_changed_without_hashing(bulk, monkeypatch):
    [scan] = import_in_place(bulk[0])
    with open(bulk[0], "ab") as handle:
        handle.write(b"appended")
    monkeypatch.setattr("ukbstudy.imaging.services.archive_files.sha256_of", lambda *a: pytest.fail("hashed"))
    with pytest.raises(ArchiveFileError, match=f"{scan.archive_bytes + 8} bytes, {scan.archive_bytes} when imported"):
        scan_archive_file(scan=scan)


def test_a_touched_but_unchanged_archive_is_hashed_once_and_its_new_time_recorded(bulk, monkeypatch):
    [scan] = import_in_place(bulk[0])
    later = scan.archive_mtime_ns + 7_000_000_000
    os.utime(bulk[0], ns=(later, later))
    assert scan_archive_file(scan=scan) == bulk[0]
    assert Scan.objects.get(pk=scan.pk).archive_mtime_ns == later
    monkeypatch.setattr("ukbstudy.imaging.services.archive_files.sha256_of", lambda *a: pytest.fail("hashed"))
    assert scan_archive_file(scan=Scan.objects.get(pk=scan.pk)) == bulk[0]  # a stat again


def test_a_copy_goes_through_the_same_check(bulk, media_root):
    [result] = scans_import_archives(paths=[bulk[0]]).results
    scan = Scan.objects.get(pk=result.scan_id)
    assert not scan.archive_in_place and scan_archive_file(scan=scan) == Path(media_root) / scan.archive_path
    (Path(media_root) / scan.archive_path).unlink()
    assert not scan_preprocess(scan=scan).ok
    assert "is missing: no file there (the copy under MEDIA_ROOT" in Scan.objects.get(pk=scan.pk).processing_error


def test_a_scan_imported_before_times_were_kept_is_hashed_once(bulk):
    [scan] = import_in_place(bulk[0])
    Scan.objects.filter(pk=scan.pk).update(archive_mtime_ns=None)
    assert scan_archive_file(scan=Scan.objects.get(pk=scan.pk)) == bulk[0]
    assert Scan.objects.get(pk=scan.pk).archive_mtime_ns == bulk[0].stat().st_mtime_ns


def test_an_archive_that_changes_while_imported_in_place_is_rejected(bulk, monkeypatch, media_root):
    real = archives_service.inventory_archive

    def inventory_then_touch(path, *args, **kwargs):
        inventory = real(path, *args, **kwargs)
        os.utime(path, ns=(1, 1))
        return inventory

    monkeypatch.setattr(archives_service, "inventory_archive", inventory_then_touch)
    [result] = scans_import_archives(paths=[bulk[0]], in_place=True).results
    assert result.status == "rejected" and "changed while it was being imported" in result.reason
    assert Scan.all_objects.count() == 0 and bulk[0].is_file()
    assert [p for p in Path(media_root).rglob("*") if p.is_file()] == []


def test_check_archives_reports_each_problem_and_exits_non_zero(bulk, capsys):
    scans = import_in_place(*bulk)
    bulk[0].unlink()
    with open(bulk[1], "ab") as handle:
        handle.write(b"x")
    change_bytes_keeping_size(bulk[2], keep_time=True)  # beyond a stat: only --hash sees it
    with pytest.raises(CommandError, match="2 archive\\(s\\) missing, changed or unreadable"):
        call_command("check_archives")
    out, err = capsys.readouterr()
    assert f"missing    eid {scans[0].subject.eid} instance 2 {bulk[0]}: no file there" in err
    assert f"changed    eid {scans[1].subject.eid} instance 2 {bulk[1]}: it has" in err
    assert str(bulk[2]) not in err and "3 archive(s) checked" in out and "(1 changed, 1 missing)" in out
    with pytest.raises(CommandError, match="3 archive\\(s\\)"):
        call_command("check_archives", "--hash")
    assert f"changed    eid {scans[2].subject.eid} instance 2 {bulk[2]}: modified" in capsys.readouterr().err


def test_check_archives_passes_when_every_archive_is_intact(bulk, capsys):
    import_in_place(bulk[0])
    scans_import_archives(paths=[bulk[1]])  # a copy is checked too
    call_command("check_archives", "--hash")
    assert "2 archive(s) checked (SHA-256): 0 problem(s)" in capsys.readouterr().out


def test_withdrawing_a_participant_leaves_their_archive_in_place(bulk):
    [scan] = import_in_place(bulk[0])
    sha = sha256_of(bulk[0])
    subjects_withdraw(eids=[scan.subject.eid])
    assert bulk[0].is_file() and sha256_of(bulk[0]) == sha


def test_a_failed_import_in_place_never_deletes_the_archive(bulk, monkeypatch, media_root):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(archives_service, "_create_scan", fail)
    [result] = scans_import_archives(paths=[bulk[0]], in_place=True).results
    assert result.status == "rejected" and "database went away" in result.reason
    assert bulk[0].is_file() and Scan.all_objects.count() == 0
    assert [p for p in Path(media_root).rglob("*") if p.is_file()] == []  # its index is gone too
