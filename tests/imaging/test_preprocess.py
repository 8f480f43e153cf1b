"""Preprocessing scans as a job: derived files recorded atomically, failures per scan, hints stored."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.archives import cohort_archives
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.jobs import preprocess_start
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def preprocess_archives(tmp_path_factory) -> list[Path]:
    clean = cohort_archives(tmp_path_factory.mktemp("pp-clean"), 2, seed=51)
    swapped = cohort_archives(tmp_path_factory.mktemp("pp-swap"), 1, seed=52, faults={"water_fat_swap": 1.0})
    return clean + swapped


@pytest.fixture
def scans(preprocess_archives) -> list[Scan]:
    report = scans_import_archives(paths=preprocess_archives)
    return [Scan.objects.get(pk=r.scan_id) for r in report.results]


def damage_stored_archive(scan: Scan, media_root: Path) -> None:
    """Overwrite the compressed bytes of one fat slice of station 2 inside the stored archive, keeping the
    file's size and modification time (as silent disk corruption would: the archive's stat check passes, so
    the pipeline's own reading must find it)."""
    stored = Path(media_root) / scan.archive_path
    index = __import__("json").loads(stored.with_name(stored.name + ".index.json").read_text())
    victim = index[scan.inventory["stations"]["2"]["F"]["series_uid"]][3]
    with zipfile.ZipFile(stored) as archive:
        info = archive.getinfo(victim)
    before = stored.stat()
    with open(stored, "r+b") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", handle.read(4))  # the local header's own lengths
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        handle.write(b"\xff" * min(64, info.compress_size))  # an invalid deflate block type: unreadable
    os.utime(stored, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_job_processes_every_scan_and_lists_failures(scans, media_root, django_capture_on_commit_callbacks):
    damage_stored_archive(scans[1], media_root)
    with django_capture_on_commit_callbacks(execute=True):
        job = preprocess_start(scans=scans)
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == (Job.Status.SUCCEEDED, 3, 3)
    assert [f["item"] for f in job.result["failed"]] == [str(scans[1].pk)]
    assert "station 2 F" in job.result["failed"][0]["reason"]
    states = dict(Scan.objects.values_list("pk", "processing_state"))
    assert states == {scans[0].pk: "processed", scans[1].pk: "failed", scans[2].pk: "processed"}
    failed = Scan.objects.get(pk=scans[1].pk)
    assert "cannot be read" in failed.processing_error and failed.derived == {}


def test_derived_files_and_hints_are_recorded(scans, media_root):
    for scan in (scans[0], scans[2]):
        assert scan_preprocess(scan=scan).ok
        scan.refresh_from_db()
        for name in ("fat", "water", "body_mask", "network_input", "network_input_array", "qc_fat_coronal"):
            assert (Path(media_root) / scan.derived[name]).is_file(), name
        assert scan.preprocessing["grid"]["shape_zyx"][0] == round(370 * 0.25)
    assert (scans[0].qc_hints, scans[0].hint_rank) == ([], 3)
    assert [h["code"] for h in scans[2].qc_hints] == ["water_fat_swap"] and scans[2].hint_rank == 0


def test_reprocessing_replaces_the_files_and_a_failed_rerun_keeps_the_last_results(
        scans, media_root, django_capture_on_commit_callbacks):
    scan = scans[0]
    scan_preprocess(scan=scan)
    scan.refresh_from_db()
    first = Path(media_root) / scan.derived["folder"]
    with django_capture_on_commit_callbacks(execute=True):  # the old folder goes once the new one is recorded
        scan_preprocess(scan=scan)
    scan.refresh_from_db()
    second = Path(media_root) / scan.derived["folder"]
    assert second != first and second.is_dir() and not first.exists()
    damage_stored_archive(scan, media_root)
    outcome = scan_preprocess(scan=scan)
    scan.refresh_from_db()
    assert not outcome.ok and scan.processing_state == "failed"
    assert Path(media_root) / scan.derived["folder"] == second and (second / "fat.nii.gz").is_file()
    assert sorted(p.name for p in second.parent.iterdir()) == [second.name]  # no half-written run left


@pytest.mark.django_db(transaction=True)  # the command's job starts when its transaction commits
def test_the_command_reports_failures_and_exits_non_zero(scans, media_root, capsys):
    damage_stored_archive(scans[2], media_root)
    with pytest.raises(CommandError, match="1 scan\\(s\\) failed"):
        call_command("preprocess", "--all")
    out, err = capsys.readouterr()
    assert "2 of 3 scan(s) processed, 1 failed" in out and f"failed    {scans[2]}" in err
    call_command("preprocess", "--eid", str(scans[0].subject.eid))
    assert "1 of 1 scan(s) processed" in capsys.readouterr().out


def test_qc_images_are_served_only_to_users_who_may_view_scans(scans, client, django_user_model):
    from django.contrib.auth.models import Permission

    scan_preprocess(scan=scans[0])
    url = f"/scans/{scans[0].pk}/images/qc_fat_coronal.png"
    assert client.get(url).status_code == 302  # to the login page
    user = django_user_model.objects.create_user("viewer", password="viewer-password-1")
    client.force_login(user)
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_scan"))
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(f"/scans/{scans[0].pk}/images/ff.png").status_code == 404


def test_a_killed_runs_folder_is_removed_by_the_next_run_of_that_scan(scans, media_root,
                                                                      django_capture_on_commit_callbacks):
    import os
    import time

    assert scan_preprocess(scan=scans[0]).ok
    scan = Scan.objects.get(pk=scans[0].pk)
    recorded = Path(media_root) / scan.derived["folder"]
    stale, running = recorded.parent / "run-20200101T000000-dead0000", recorded.parent / "run-20990101T000000-live0"
    for folder in (stale, running):
        folder.mkdir()
        (folder / "fat.nii.gz").write_bytes(b"partial")  # what a SIGKILLed worker leaves
    old = time.time() - 3600
    for path in (*stale.rglob("*"), stale, *recorded.rglob("*"), recorded):  # the recorded run is old too
        os.utime(path, (old, old))
    damage_stored_archive(scan, media_root)  # this run fails: the recorded results must survive it
    with django_capture_on_commit_callbacks(execute=True):
        assert not scan_preprocess(scan=scan).ok
    assert sorted(p.name for p in recorded.parent.iterdir()) == sorted([recorded.name, running.name])
    assert any(recorded.iterdir())  # its files too
