"""Cross-validation, training and inference as jobs, with their records (in-process Celery)."""

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.liverfat.conftest import TINY, make_study
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat.models import FoldAssignment
from ukbstudy.liverfat.services.registry import current_model_version, liverfat_model_make_current
from ukbstudy.liverfat.services.runs import RunError, cross_validation_start, inference_start, training_start
from ukbstudy.measurements.models import Measurement, ModelVersion
from ukbstudy.measurements.selectors.datasets import dataset_scans

# Jobs are queued when their transaction commits, so these tests commit (and run the tasks in-process then).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasable_qc_history")]


def fresh(job):
    job.refresh_from_db()
    return job


def network_values(version):
    return dict(Measurement.objects.filter(model_version=version).values_list("scan_id", "value"))


def test_cross_validation_stores_folds_out_of_fold_values_and_metrics(study):
    job = fresh(cross_validation_start(config="quick", overrides=TINY, folds=5, seed=1))
    assert job.status == Job.Status.SUCCEEDED, job.error
    version = ModelVersion.objects.get(pk=job.result["model_version"])
    assert version.version == f"cv-job{job.pk}" and version.config["kind"] == "cross_validation"
    assert version.trained_by == job and len(version.data_fingerprint) == 64
    folds = dict(FoldAssignment.objects.filter(job=job).values_list("scan_id", "fold"))
    assert set(folds) == {scan.pk for scan in study.with_reference} and set(folds.values()) == set(range(5))
    values = Measurement.objects.filter(model_version=version)
    assert {m.scan_id for m in values} == set(folds)
    assert all(m.details["fold"] == folds[m.scan_id] and m.job_id == job.pk for m in values)
    assert set(version.metrics) >= {"mae", "r2", "loa_lower", "loa_upper", "roc_auc", "sensitivity", "specificity"}
    assert version.metrics["n"] == 20
    assert len(job.metrics["loss"]) == 5 and len(job.metrics["loss"][0]) == TINY["iterations"]
    assert job.progress_done == job.progress_total == 5 * TINY["iterations"]


def test_training_registers_a_current_model_with_checkpoint_and_cv_metrics(study, media_root):
    cv = fresh(cross_validation_start(config="quick", overrides=TINY, folds=4))
    job = fresh(training_start(config="quick", overrides=TINY))
    assert job.status == Job.Status.SUCCEEDED, job.error
    version = current_model_version()
    assert version.pk == job.result["model_version"] and version.config["kind"] == "trained"
    assert (media_root / version.checkpoint_path).is_file()
    cv_version = ModelVersion.objects.get(pk=cv.result["model_version"])
    assert version.metrics["cross_validation"] == cv_version.version
    assert version.metrics["mae"] == cv_version.metrics["mae"]
    assert version.data_fingerprint == cv_version.data_fingerprint
    losses = job.metrics["loss"]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])  # training reduces the loss


def test_inference_fills_dataset_b_once_and_can_be_repeated(study):
    fresh(training_start(config="quick", overrides=TINY))
    version = current_model_version()
    job = fresh(inference_start(chunk_size=4))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert set(network_values(version)) == {scan.pk for scan in study.without_reference}
    assert job.result["inferred_now"] == 10 and job.progress_done == 10
    again = fresh(inference_start())
    assert again.result == again.result | {"inferred_now": 0, "already_inferred": 10}
    assert Measurement.objects.filter(model_version=version).count() == 10


def test_dataset_a_leaves_out_failed_and_unreviewed_scans(media_root, rater):
    study = make_study(media_root, rater, n=8, n_reference=6, verdicts={0: "fail", 1: "questionable"})
    a = list(dataset_scans("A"))
    assert a == study.with_reference[2:]
    c = list(dataset_scans("C", c_size=1))
    assert len(c) == 1 and c[0] in study.without_reference


def test_a_failed_inference_leaves_no_values(study, media_root):
    fresh(training_start(config="quick", overrides=TINY))
    broken = study.without_reference[7]
    (media_root / broken.derived["network_input_array"]).write_bytes(b"broken")
    job = fresh(inference_start(chunk_size=2))
    assert job.status == Job.Status.FAILED
    assert f"scan {broken.subject.eid}_2: cannot read" in job.error
    assert not Measurement.objects.filter(job=job).exists()


def test_runs_need_data_and_a_model():
    with pytest.raises(RunError, match="no trained liver fat model"):
        inference_start()
    job = fresh(cross_validation_start(config="quick", overrides=TINY))
    assert job.status == Job.Status.FAILED and "dataset A has 0 scans" in job.error
    with pytest.raises(ValueError, match="unknown configuration keys"):
        training_start(overrides={"epochs": 2})


def test_only_one_version_is_current(study):
    first = ModelVersion.objects.get(pk=fresh(training_start(config="quick", overrides=TINY)).result["model_version"])
    second = ModelVersion.objects.get(pk=fresh(training_start(config="quick", overrides=TINY)).result["model_version"])
    assert current_model_version() == second
    liverfat_model_make_current(model_version=first)
    assert list(ModelVersion.objects.filter(is_current=True)) == [first]


def test_the_command_runs_the_same_services(study, capsys):
    overrides = [f"--set={key}={value}" for key, value in TINY.items()]
    call_command("liverfat", "cv", "--folds", "4", *overrides)
    call_command("liverfat", "train", *overrides)
    call_command("liverfat", "infer", "--dataset", "B")
    call_command("liverfat", "models")
    out = capsys.readouterr().out
    assert "succeeded" in out and "(trained, n=20)" in out and "(cross_validation, n=20)" in out
    assert Measurement.objects.filter(model_version=current_model_version()).count() == 10
    with pytest.raises(CommandError, match="no liver fat model version 999"):
        call_command("liverfat", "current", "999")


def test_a_redelivered_run_reports_what_an_earlier_delivery_stored(study):
    from ukbstudy.jobs.services import run_job
    from ukbstudy.liverfat.services.runs import cross_validation_run

    job = fresh(cross_validation_start(config="quick", overrides=TINY, folds=4))
    stored = Measurement.objects.filter(job=job).count()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, result={})  # as if the worker died at the end
    run_job(job_id=job.pk, body=cross_validation_run)
    job = fresh(job)
    assert job.status == Job.Status.SUCCEEDED and job.result["model_version"] == ModelVersion.objects.get().pk
    assert Measurement.objects.filter(job=job).count() == stored == 20


def test_a_list_of_fields_takes_each_subjects_first_plausible_reference(media_root, rater):
    from ukbstudy.liverfat.services.inputs import reference_values
    from ukbstudy.results.services import outlier_verdict_record
    from ukbstudy.showcase.models import ReferenceValue
    from ukbstudy.subjects.models import ImportBatch

    study = make_study(media_root, rater, n=12, n_reference=4)  # 22402 for the first four subjects
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.FIELDS, source="test")
    for index, scan in enumerate(study.scans[2:7]):  # 22436 for subjects 2-6: two overlap with 22402
        ReferenceValue.objects.create(subject=scan.subject, field="22436-2.0", value=50.0 + index,
                                      import_batch=batch)
    both = "22402-2.0,22436-2.0"
    a = list(dataset_scans("A", field=both))
    assert [s.pk for s in a] == sorted((s.pk for s in study.scans[:7]), key=lambda pk: next(
        s.subject.eid for s in study.scans if s.pk == pk))
    assert len(dataset_scans("B", field=both)) == 5
    values = dict(zip([s.pk for s in a], reference_values(a, both), strict=True))
    assert values[study.scans[2].pk] == pytest.approx(study.truth[study.scans[2].pk], abs=0.01)  # 22402 first
    assert values[study.scans[5].pk] == 53.0  # 22436 only

    # a 22402 value marked implausible gives way to the subject's 22436 value, and leaves 22402's dataset A
    outlier_verdict_record(verdict="reference_implausible", subject=study.scans[3].subject, scan=study.scans[3],
                           reviewer=rater, method_a="reference", method_b="network")
    assert study.scans[3] not in list(dataset_scans("A"))
    a = list(dataset_scans("A", field=both))
    assert study.scans[3] in a and dict(zip([s.pk for s in a], reference_values(a, both), strict=True))[
        study.scans[3].pk] == 51.0
    outlier_verdict_record(verdict="reference_implausible", subject=study.scans[0].subject, scan=study.scans[0],
                           reviewer=rater, method_a="reference", method_b="network")
    assert study.scans[0] not in list(dataset_scans("A", field=both))  # no other field to fall back on

    job = fresh(cross_validation_start(config="quick", overrides=TINY, folds=2, field=both))
    assert job.status == Job.Status.SUCCEEDED and job.result["metrics"]["n"] == 6
