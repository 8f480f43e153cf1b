"""Import jobs run as Celery tasks and report through their Job row (on a real worker in CI)."""

import pytest

from tests.archives import cohort_archives
from tests.jobs.conftest import wait_for
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.jobs import import_archives_start, preprocess_start
from ukbstudy.jobs.models import Job
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.showcase.services.jobs import import_fields_start
from ukbstudy.subjects.models import ImportBatch, Subject

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_fields_import_job_succeeds_and_records_its_result(job_worker, tmp_path):
    path = tmp_path / "basket.csv"
    path.write_text("eid,31-0.0,21003-2.0,22402-2.0\n1000001,0,63,3.4\n1000002,1,70,\n")
    job = wait_for(import_fields_start(path=path))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["subjects_created"] == 2
    assert job.started_at and job.finished_at and job.started_at <= job.finished_at
    assert ReferenceValue.objects.get(subject__eid=1000001).value == 3.4


def test_a_failing_job_records_why_and_writes_nothing(job_worker, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("eid,31-0.0,21003-2.0\n1000001,0,63\n1000002,1,old\n")
    job = wait_for(import_fields_start(path=path))
    assert job.status == Job.Status.FAILED
    assert "line 3, column 21003-2.0: 'old' is not a number" in job.error
    assert Subject.all_objects.count() == 0


def test_an_archive_import_job_reports_progress_per_file(job_worker, tmp_path):
    archives = cohort_archives(tmp_path / "cohort", 2, seed=21)
    job = wait_for(import_archives_start(paths=[tmp_path / "cohort" / "archives"]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total) == (2, 2)
    assert job.result["counts"] == {"imported": 2, "duplicate": 0, "rejected": 0}
    assert sorted(Scan.objects.values_list("archive_name", flat=True)) == sorted(p.name for p in archives)


def test_an_archive_import_fans_out_one_item_per_archive_and_lists_each_rejected_one(job_worker, tmp_path):
    archives = cohort_archives(tmp_path / "cohort", 2, seed=23)
    other = tmp_path / "elsewhere" / "deep" / "er"
    other.mkdir(parents=True)
    (other / "1234567_20201_2_0.zip").write_bytes(b"not a zip")
    job = wait_for(import_archives_start(paths=[tmp_path / "cohort" / "archives", other]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total, job.parameters["archives"]) == (3, 3, 3)
    assert job.result["counts"] == {"imported": 2, "duplicate": 0, "rejected": 1}
    (failed,) = job.result["failed"]
    assert failed["item"].endswith("/1234567_20201_2_0.zip") and "1234567_20201_2_0.zip" in failed["reason"]
    batch = ImportBatch.objects.get(pk=job.parameters["batch"])
    assert set(Scan.objects.values_list("import_batch_id", flat=True)) == {batch.pk}
    assert batch.summary == {"counts": job.result["counts"]}
    again = wait_for(import_archives_start(paths=archives))
    assert again.result["counts"] == {"imported": 0, "duplicate": 2, "rejected": 0}
    assert "batch" not in again.parameters and ImportBatch.objects.count() == 1  # nothing imported: no batch
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    none = wait_for(import_archives_start(paths=[nothing]))
    assert none.status == Job.Status.SUCCEEDED
    assert none.result["counts"] == {"imported": 0, "duplicate": 0, "rejected": 0}


def test_an_import_job_copies_or_registers_in_place_as_decided_when_it_starts(job_worker, tmp_path, settings):
    cohort_archives(tmp_path / "cohort", 1, seed=24)
    job = import_archives_start(paths=[tmp_path / "cohort" / "archives"], in_place=True)
    settings.IMAGING_ARCHIVES_IN_PLACE = False  # changed meanwhile: the job keeps its own choice
    job = wait_for(job)
    assert job.parameters["in_place"] is True and job.result["counts"]["imported"] == 1
    scan = Scan.objects.get()
    assert scan.archive_in_place and scan.archive_path.startswith(str(tmp_path))


def test_a_preprocessing_job_fans_out_over_scans(job_worker, tmp_path, media_root):
    archives = cohort_archives(tmp_path / "cohort", 2, seed=22)
    scans_import_archives(paths=archives)
    job = wait_for(preprocess_start(scans=Scan.objects.all()))
    assert (job.status, job.progress_done, job.result.get("failed", [])) == (Job.Status.SUCCEEDED, 2, [])
    for scan in Scan.objects.all():
        assert scan.processing_state == Scan.State.PROCESSED
        assert (media_root / scan.derived["network_input"]).is_file()
