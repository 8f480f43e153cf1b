"""Atlas templates, runs as jobs with per-scan failures, the correction on A and the stored measurements."""

from __future__ import annotations

import csv

import nibabel as nib
import numpy as np
import pytest

from tests.atlas.conftest import REFERENCE, label_of
from ukbstudy.atlas.models import AtlasReadout
from ukbstudy.atlas.services.runs import atlas_run_start
from ukbstudy.atlas.services.templates import TemplateError, atlas_template_add, template_set_current
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Measurement, ModelVersion
from ukbstudy.measurements.selectors.frames import scan_frame

pytestmark = pytest.mark.django_db


def add_templates(clean, scans, n=3):
    return [atlas_template_add(scan=scan, mask_file=label_of(clean, scan)) for scan in scans[:n]]


def test_a_template_mask_must_match_the_scans_grid_and_be_binary(study, tmp_path):
    clean, scans = study
    good = label_of(clean, scans[0])
    template = atlas_template_add(scan=scans[0], mask_file=good, note="manual")
    assert template.voxels == int(np.asarray(nib.load(good).dataobj).sum()) > 0 and template.active
    with pytest.raises(TemplateError, match="already a template"):
        atlas_template_add(scan=scans[0], mask_file=good)
    with pytest.raises(TemplateError, match=r"shape .* differs from the scan's fused grid"):
        atlas_template_add(scan=scans[1], mask_file=_nifti(tmp_path / "small.nii", np.zeros((4, 4, 4), np.uint8)))
    image = nib.load(good)
    labels = np.asarray(image.dataobj).astype(np.uint8) * 2
    with pytest.raises(TemplateError, match="bad.nii: a mask holds only 0 and 1"):
        atlas_template_add(scan=scans[0], mask_file=_nifti(tmp_path / "bad.nii", labels, image.affine))
    with pytest.raises(TemplateError, match="affine differs"):
        atlas_template_add(scan=scans[0], mask_file=_nifti(tmp_path / "moved.nii", labels // 2, image.affine + 5))
    with pytest.raises(TemplateError, match="missing.nii.gz: cannot be read"):
        atlas_template_add(scan=scans[0], mask_file=tmp_path / "missing.nii.gz")


def _nifti(path, data, affine=None):
    nib.save(nib.Nifti1Image(data, np.eye(4) if affine is None else affine), path)
    return path


def test_a_run_measures_every_scan_fails_the_missing_station_with_a_reason_and_stores_corrected_values(
        study, django_capture_on_commit_callbacks):
    clean, scans = study
    add_templates(clean, scans)
    with django_capture_on_commit_callbacks(execute=True):
        job = atlas_run_start(scans=scans)
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == (Job.Status.SUCCEEDED, 6, 6)
    assert [f["item"] for f in job.result["failed"]] == [str(scans[5].pk)]
    assert "missing station" in job.result["failed"][0]["reason"]
    truth = {int(r["eid"]): float(r["liver_ff_image"]) for r in csv.DictReader(clean.ground_truth_csv.open())}
    readouts = {r.scan_id: r for r in AtlasReadout.objects.all()}
    assert sorted(readouts) == sorted(s.pk for s in scans[:5])
    for scan in scans[:5]:
        assert readouts[scan.pk].raw == pytest.approx(truth[scan.subject.eid], abs=1.5)
    version = ModelVersion.objects.get(task="liver_ff_atlas", is_current=True)
    correction = version.config["correction"]
    assert correction["n"] == 4 and correction["reference_field"] == REFERENCE
    assert version.config["template_set"] == template_set_current().fingerprint
    measurements = Measurement.objects.filter(method="atlas", quantity="liver_ff", model_version=version)
    assert measurements.count() == 5
    for m in measurements:
        raw = readouts[m.scan_id].raw
        assert m.details["raw"] == raw and m.value == pytest.approx(correction["intercept"] + correction["slope"] * raw)
    frame = scan_frame(columns=["atlas"]).set_index("eid")["atlas"]
    assert frame[scans[0].subject.eid] == pytest.approx(measurements.get(scan=scans[0]).value)
    assert np.isnan(frame[scans[5].subject.eid])


def test_without_enough_of_dataset_a_the_job_fails_and_writes_no_measurement(study,
                                                                            django_capture_on_commit_callbacks):
    clean, scans = study
    add_templates(clean, scans)
    with django_capture_on_commit_callbacks(execute=True):
        job = atlas_run_start(scans=scans[3:5])
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "at least 3 subjects of dataset A" in job.error
    assert AtlasReadout.objects.count() == 2 and not Measurement.objects.exists()


def test_a_run_needs_templates(study):
    with pytest.raises(TemplateError, match="no active atlas templates"):
        atlas_run_start(scans=study[1])


def test_the_command_adds_lists_and_deactivates_templates(study, capsys):
    from django.core.management import CommandError, call_command

    clean, scans = study
    eid = scans[0].subject.eid
    call_command("atlas", "templates", "add", "--eid", str(eid), "--from-labels", str(clean.labels_dir))
    call_command("atlas", "templates", "list")
    out = capsys.readouterr().out
    assert f"eid {eid} visit 2" in out and "active" in out
    template_id = template_set_current().templates[0].pk
    call_command("atlas", "templates", "deactivate", str(template_id))
    assert template_set_current().templates == ()
    with pytest.raises(CommandError, match="no active atlas templates"):
        call_command("atlas", "run", "--dataset", "A")
    with pytest.raises(CommandError, match="liver.nii.gz: cannot be read"):
        call_command("atlas", "templates", "add", "--eid", str(eid), "--from-labels", "/nonexistent")
