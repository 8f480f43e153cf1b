"""Training and segmentation jobs: model versions, checked segmentations, BMFF only for OK unflagged ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.models import Job
from ukbstudy.marrow.models import Segmentation
from ukbstudy.marrow.services.jobs import marrow_segment_start
from ukbstudy.marrow.services.training import marrow_models_train
from ukbstudy.measurements.models import Measurement, ModelVersion

pytestmark = pytest.mark.django_db


def test_training_records_both_architectures_with_held_out_dice(trained, media_root):
    attention, baseline = trained
    assert (attention.name, attention.is_current, baseline.name, baseline.is_current) == (
        "roi_attention_unet", True, "unet", False)
    for version in trained:
        assert set(version.metrics["dice"]) == {"spine", "femoral_head", "total_hip", "diaphysis"}
        assert version.metrics["dice"]["spine"]["n"] == 2
        for spec in version.config["regions"].values():
            assert (Path(media_root) / spec["checkpoint"]).is_file()


def test_training_with_too_few_labels_leaves_no_model_behind(labelled, media_root):
    with pytest.raises(ValueError, match="too few to train"):
        marrow_models_train(config={"iterations": 1}, test_fraction=0.9)
    assert not ModelVersion.objects.exists()
    assert not any((Path(media_root) / "marrow" / "models").glob("*/*"))


def _segment_all(scans, capture):
    with capture(execute=True):
        job = marrow_segment_start(scans=scans)
    job.refresh_from_db()
    return job


def test_a_segmentation_job_checks_every_region_and_measures_only_ok_unflagged_ones(
        trained, django_capture_on_commit_callbacks):
    scans = list(Scan.objects.all())
    job = _segment_all(scans, django_capture_on_commit_callbacks)
    assert (job.status, job.progress_done) == (Job.Status.SUCCEEDED, len(scans)), job.result
    segmentations = Segmentation.objects.all()
    assert segmentations.count() == 4 * len(scans)
    for s in segmentations:
        assert (s.bmff is not None) == (s.status == "ok" and not s.flags)
    measured = Measurement.objects.filter(method="segmentation")
    assert measured.count() == segmentations.filter(bmff__isnull=False).count()
    for m in measured:
        assert m.details["status"] == "ok" and m.details["volume_ml"] > 0 and m.model_version == trained[0]
    again = _segment_all(scans, django_capture_on_commit_callbacks)
    assert again.status == Job.Status.SUCCEEDED and Segmentation.objects.count() == 4 * len(scans)


def test_a_swap_hinted_station_withholds_its_regions_values(trained, django_capture_on_commit_callbacks):
    scan = Scan.objects.first()
    Scan.objects.filter(pk=scan.pk).update(qc_hints=[{"code": "water_fat_swap", "severity": "high", "station": 4,
                                                      "message": "station 4: fat and water look swapped"}])
    _segment_all([scan], django_capture_on_commit_callbacks)
    for region in ("femoral_head", "total_hip"):
        s = Segmentation.objects.get(scan=scan, region=region)
        assert "water_fat_swap" in s.flags and s.bmff is None
        assert any("look swapped" in hint for hint in s.hints)
    assert not Measurement.objects.filter(scan=scan, quantity__in=["bmff_femoral_head", "bmff_total_hip"]).exists()


def test_a_failed_femoral_head_withholds_the_total_hip_on_its_slab(trained, django_capture_on_commit_callbacks,
                                                                    monkeypatch):
    from ukbstudy.marrow.services import segmenting

    models = segmenting.version_models(trained[0])
    real_check = segmenting.check_segmentation

    def head_cut_off(mask, statistics, connected):
        """As if a displaced slab had cut the femoral head off and the total hip looked fine by itself."""
        result = real_check(mask, statistics, connected)
        if statistics is models["femoral_head"].statistics:
            result.status = "small"
            result.hints.append("the region reaches the slab's head end: probably partly outside the slab")
        elif statistics is models["total_hip"].statistics:
            result.status, result.flags = "ok", []
        return result

    monkeypatch.setattr(segmenting, "check_segmentation", head_cut_off)
    scan = Scan.objects.first()
    _segment_all([scan], django_capture_on_commit_callbacks)
    hip = Segmentation.objects.get(scan=scan, region="total_hip", model_version=trained[0])
    assert "neighbour_failed" in hip.flags and hip.bmff is None
    assert any("Femoral head on the same slab is small" in hint for hint in hip.hints)
    assert not Measurement.objects.filter(scan=scan, quantity__in=["bmff_femoral_head", "bmff_total_hip"]).exists()
    spine = Segmentation.objects.get(scan=scan, region="spine", model_version=trained[0])
    assert "neighbour_failed" not in spine.flags  # another slab


def test_the_report_command_prints_baseline_beside_the_attention_model(trained, capsys):
    call_command("marrow", "report")
    out = capsys.readouterr().out
    assert "3D U-Net" in out and "ROI-attention U-Net" in out and "Femoral diaphysis" in out
