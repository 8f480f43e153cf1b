"""The bone marrow page: Dice report and review list for viewers, failure causes by raters, jobs by analysts."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.marrow.models import Segmentation
from ukbstudy.measurements.models import ModelVersion

pytestmark = pytest.mark.django_db


def login(role):
    user = user_create(username=role, password="pw-long-enough-1", role=role)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def segmentations():
    dice = {r: {"n": 2, "mean": 0.9, "sd": 0.01, "min": 0.89} for r in ("spine", "femoral_head", "total_hip",
                                                                          "diaphysis")}
    current = ModelVersion.objects.create(task="bmff_segmentation", name="roi_attention_unet", version="v1",
                                          is_current=True, metrics={"dice": dice}, config={"regions": {}})
    ModelVersion.objects.create(task="bmff_segmentation", name="unet", version="v1", metrics={"dice": dice})
    scan = make_scan(make_subject(eid=1234567), processing_state="processed")
    common = {"scan": scan, "model_version": current, "volume_ml": 1.0}
    ok = Segmentation.objects.create(region="spine", status="ok", volume_voxels=300, bmff=55.0, **common)
    small = Segmentation.objects.create(region="diaphysis", status="small", volume_voxels=10,
                                        hints=["the region reaches the slab's foot end: "
                                               "probably partly outside the slab"],
                                        **common)
    return ok, small


def test_a_viewer_sees_the_dice_report_and_the_review_list_but_may_not_assign_causes(segmentations):
    _, client = login("viewer")
    page = client.get("/marrow/").content.decode()
    assert "3D U-Net" in page and "ROI-attention U-Net" in page and "0.900" in page
    assert "1234567" in page and "partly outside" in page and "<select" not in page
    assert client.post(f"/marrow/segmentations/{segmentations[1].pk}/cause/", {"cause": "other"}).status_code == 403
    assert client.post("/marrow/segment/").status_code == 403


def test_a_rater_assigns_a_failure_cause_to_a_failed_segmentation_only(segmentations):
    ok, small = segmentations
    user, client = login("rater")
    page = client.get("/marrow/").content.decode()
    assert '<option value="outside_slab_partial" selected>' in page  # suggested from the hint
    client.post(f"/marrow/segmentations/{small.pk}/cause/", {"cause": "outside_slab_partial", "note": "table moved"})
    small.refresh_from_db()
    assert (small.failure_cause, small.cause_note, small.cause_by) == ("outside_slab_partial", "table moved", user)
    client.post(f"/marrow/segmentations/{ok.pk}/cause/", {"cause": "other"})
    ok.refresh_from_db()
    assert ok.failure_cause == ""
    client.post(f"/marrow/segmentations/{small.pk}/cause/", {"cause": "bogus"})
    small.refresh_from_db()
    assert small.failure_cause == "outside_slab_partial"
