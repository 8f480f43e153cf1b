"""The marrow review list: each row links to the participant's page and shows the region's slab with the mask,
a PNG made on demand from the stored files (login required, 404 for an unknown scan or region), cached."""

from __future__ import annotations

import io
import os

import nibabel as nib
import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client
from PIL import Image

from ml.marrow.overlays import LONGEST_SIDE_PX
from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.models import Scan
from ukbstudy.marrow.models import ManualSegmentation, Segmentation
from ukbstudy.marrow.services import overlays
from ukbstudy.measurements.models import ModelVersion

pytestmark = pytest.mark.django_db

SHAPE = (40, 30, 50)  # (z, y, x) of the synthetic slab
AFFINE = np.diag([2.0, 2.0, 3.0, 1.0])
ORANGE = (255, 140, 0)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def viewer():
    client = Client()
    client.force_login(user_create(username="viewer", password="pw-long-enough-1", role="viewer"))
    return client


def save(path, volume_zyx, dtype):
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(volume_zyx, dtype=dtype).transpose(2, 1, 0), AFFINE), path)


def mask_volume():
    mask = np.zeros(SHAPE, np.uint8)
    mask[15:25, 12:18, 20:30] = 1
    return mask


@pytest.fixture
def model_version():
    return ModelVersion.objects.create(
        task="bmff_segmentation", name="roi_attention_unet", version="v1", is_current=True,
        config={"regions": {"spine": {"box": {"start": [4, 0, 5], "size": [32, 30, 40]}}}})


def slab_scan(media_root, eid=1234567):
    """A processed scan whose station 2 slab is fat 80 %, water 20 % (marrow-like) over a 10 % background."""
    scan = make_scan(make_subject(eid=eid), processing_state=Scan.State.PROCESSED)
    fat, water = np.full(SHAPE, 100.0), np.full(SHAPE, 900.0)
    fat[10:30, 8:22, 15:35], water[10:30, 8:22, 15:35] = 800.0, 200.0
    derived = {}
    for kind, volume in (("fat", fat), ("water", water)):
        relative = f"derived/{eid}/station2_{kind}.nii.gz"
        save(media_root / relative, volume, np.uint16)
        derived[f"station2_{kind}"] = relative
    Scan.all_objects.filter(pk=scan.pk).update(derived=derived)
    scan.refresh_from_db()
    return scan


def segmentation(media_root, model_version, scan, *, region="spine", status="small", with_mask=True, **extra):
    mask_path = ""
    if with_mask:
        mask_path = f"marrow/segmentations/{scan.subject.eid}/{region}.nii.gz"
        save(media_root / mask_path, mask_volume(), np.uint8)
    return Segmentation.objects.create(scan=scan, model_version=model_version, region=region, status=status,
                                       volume_voxels=600 if with_mask else 0, volume_ml=7.2,
                                       centre=[19.5, 14.5, 24.5] if with_mask else None, mask_path=mask_path,
                                       **extra)


def overlay_url(scan, region="spine"):
    return f"/marrow/scans/{scan.pk}/{region}/overlay.png"


def picture(response) -> np.ndarray:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def orange_pixels(image: np.ndarray) -> int:
    return int((image == ORANGE).all(axis=2).sum())


def test_each_row_links_to_the_participants_page_and_shows_the_slab_with_the_mask(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan)
    page = viewer().get("/marrow/").content.decode()
    assert '<a href="/results/participants/1234567/">1234567</a>' in page
    assert f'<img src="{overlay_url(scan)}" loading="lazy"' in page


def test_the_overlay_is_a_png_of_the_mask_over_the_fat_fraction_slab(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan)
    image = picture(viewer().get(overlay_url(scan)))
    assert max(image.shape[:2]) == LONGEST_SIDE_PX
    # the box's 32 slices of 3 mm by 40 columns of 2 mm (z by x): 96 x 80 mm, square pixels
    assert image.shape[0] / image.shape[1] == pytest.approx((33 * 3) / (41 * 2), rel=0.05)
    assert orange_pixels(image) > 0  # the mask's outline
    grey = image[(image[..., 0] == image[..., 1]) & (image[..., 1] == image[..., 2])][:, 0]
    assert {26, 204} <= set(grey.tolist())  # background 10 % and marrow 80 % fat fraction, 0-100 % -> 0-255


def test_the_overlay_needs_a_login(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan)
    response = Client().get(overlay_url(scan))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unknown_scan_region_or_segmentation_is_not_found(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan)
    client = viewer()
    assert client.get(f"/marrow/scans/{scan.pk + 1000}/spine/overlay.png").status_code == 404
    assert client.get(overlay_url(scan, "elbow")).status_code == 404
    assert client.get(overlay_url(scan, "diaphysis")).status_code == 404  # not segmented


def test_a_withdrawn_participants_overlay_is_not_found(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan)
    scan.subject.__class__.all_objects.filter(pk=scan.subject_id).update(withdrawn=True)
    assert viewer().get(overlay_url(scan)).status_code == 404


def test_a_segmentation_whose_slab_is_missing_says_so_and_its_overlay_is_not_found(model_version):
    scan = make_scan(make_subject(eid=7654321), processing_state=Scan.State.PROCESSED)
    Segmentation.objects.create(scan=scan, model_version=model_version, region="spine", status="empty",
                                flags=["station_missing"], volume_voxels=0, volume_ml=0.0)
    client = viewer()
    assert "no slab: the station is missing" in client.get("/marrow/").content.decode()
    assert client.get(overlay_url(scan)).status_code == 404


def test_an_empty_segmentation_shows_the_slab_around_the_regions_box_without_a_mask(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan, status="empty", with_mask=False)
    client = viewer()
    assert "no mask: the slab around the region's usual place" in client.get("/marrow/").content.decode()
    image = picture(client.get(overlay_url(scan)))
    assert orange_pixels(image) == 0 and (image[..., 0] == image[..., 2]).all()


def test_the_overlay_is_made_once_and_again_when_the_mask_is_rewritten(media_root, model_version, monkeypatch):
    scan = slab_scan(media_root)
    made = segmentation(media_root, model_version, scan)
    renders = []
    render = overlays._render
    monkeypatch.setattr(overlays, "_render", lambda s: renders.append(s.pk) or render(s))
    client = viewer()
    first = client.get(overlay_url(scan)).content
    assert client.get(overlay_url(scan)).content == first and len(renders) == 1
    stat = (media_root / made.mask_path).stat()
    os.utime(media_root / made.mask_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # re-segmented
    client.get(overlay_url(scan))
    assert len(renders) == 2


def test_a_model_that_segmented_nothing_yet_says_what_to_do(model_version):
    page = viewer().get("/marrow/").content.decode()
    assert 'id="review-empty"' in page and "No scan segmented by this model yet" in page


def test_a_model_whose_segmentations_are_all_ok_says_there_is_nothing_to_review(media_root, model_version):
    scan = slab_scan(media_root)
    segmentation(media_root, model_version, scan, status="ok", bmff=55.0)
    page = viewer().get("/marrow/").content.decode()
    assert "nothing to review" in page and "<img" not in page


def test_the_overlay_draws_a_manual_label_on_a_preprocessed_scans_slab(labelled, media_root):
    """The stored files as the pipeline writes them: a real station slab and a mask on its grid."""
    label = ManualSegmentation.objects.select_related("scan").filter(region="femoral_head").first()
    version = ModelVersion.objects.create(task="bmff_segmentation", name="roi_attention_unet", version="v2",
                                          is_current=True, config={"regions": {}})
    mask = np.asanyarray(nib.load(media_root / label.path).dataobj).transpose(2, 1, 0)
    centre = [float(c) for c in np.argwhere(mask).mean(axis=0)]
    Segmentation.objects.create(scan=label.scan, model_version=version, region="femoral_head", status="small",
                                volume_voxels=int(mask.sum()), volume_ml=1.0, centre=centre, mask_path=label.path)
    image = picture(viewer().get(overlay_url(label.scan, "femoral_head")))
    assert orange_pixels(image) > 0 and max(image.shape[:2]) == LONGEST_SIDE_PX
