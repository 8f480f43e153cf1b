"""Slice tiles of the fused fat and water volumes for the QC viewer: made once from the NIfTI, cached beside
the derived files, served as small PNGs only to users who may view scans; the review page gets their layout."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from PIL import Image

from tests.archives import cohort_archives
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_slice_layout
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def slice_archives(tmp_path_factory) -> list[Path]:
    return cohort_archives(tmp_path_factory.mktemp("slices"), 1, seed=71)


@pytest.fixture
def scan(slice_archives) -> Scan:
    report = scans_import_archives(paths=slice_archives)
    scan = Scan.objects.get(pk=report.results[0].scan_id)
    assert scan_preprocess(scan=scan).ok
    scan.refresh_from_db()
    return scan


@pytest.fixture
def viewer(client):
    client.force_login(user_create(username="vic", password="a-long-password-1", role="viewer"))
    return client


def png(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def test_a_slice_is_a_small_png_of_square_millimetres(scan, viewer):
    nz, ny, nx = scan.preprocessing["grid"]["shape_zyx"]
    dz, _, dx = scan.preprocessing["grid"]["spacing_zyx_mm"]
    for kind in ("fat", "water"):
        response = viewer.get(f"/scans/{scan.pk}/slices/{kind}/{ny // 2}.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, max-age=3600"
        picture = png(response)
        assert (picture.format, picture.mode, picture.size) == ("PNG", "L", (nx, round(nz * dz / dx)))
        assert 200 < len(response.content) < 20_000  # about 3.5 kB here, 40 kB at full scale: never the NIfTI
        assert np.asarray(picture).max() > 0


def test_slices_of_fat_and_water_differ_and_follow_the_index(scan, viewer):
    ny = scan.preprocessing["grid"]["shape_zyx"][1]
    tiles = {(kind, i): viewer.get(f"/scans/{scan.pk}/slices/{kind}/{i}.png").content
             for kind in ("fat", "water") for i in (ny // 3, ny // 2)}
    assert len(set(tiles.values())) == 4


def test_the_stack_is_made_once_and_kept_in_the_viewer_cache_not_with_the_derived_files(scan, viewer, media_root,
                                                                                          settings, tmp_path):
    settings.IMAGING_VIEWER_CACHE_ROOT = tmp_path / "viewer-cache"
    folder = Path(media_root) / scan.derived["folder"]
    viewer.get(f"/scans/{scan.pk}/slices/fat/0.png")
    cached = tmp_path / "viewer-cache" / scan.derived["folder"] / "coronal_fat.npy"
    made = cached.stat().st_mtime_ns
    assert cached.is_file() and not (cached.parent / "coronal_water.npy").exists()
    assert not list(folder.glob("coronal_*.npy"))  # the scan's storage is not touched
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".")]  # no temporary file left
    viewer.get(f"/scans/{scan.pk}/slices/fat/1.png")
    assert np.load(cached).shape[0] == scan.preprocessing["grid"]["shape_zyx"][1]
    assert cached.stat().st_size and cached.stat().st_mtime_ns >= made


def test_the_viewer_cache_keeps_to_its_size_dropping_the_stack_looked_at_longest_ago(scan, viewer, settings,
                                                                                     tmp_path):
    settings.IMAGING_VIEWER_CACHE_ROOT = tmp_path / "viewer-cache"
    viewer.get(f"/scans/{scan.pk}/slices/fat/0.png")
    fat = tmp_path / "viewer-cache" / scan.derived["folder"] / "coronal_fat.npy"
    os.utime(fat, ns=(1, 1))  # looked at long ago
    settings.IMAGING_VIEWER_CACHE_BYTES = fat.stat().st_size + 1  # room for one stack
    viewer.get(f"/scans/{scan.pk}/slices/water/0.png")
    water = fat.with_name("coronal_water.npy")
    assert water.is_file() and not fat.exists()
    assert viewer.get(f"/scans/{scan.pk}/slices/fat/0.png").status_code == 200  # made again when asked for
    assert fat.is_file() and not water.exists()


def test_an_older_runs_stack_beside_its_derived_files_is_still_read(scan, viewer, media_root, settings, tmp_path):
    settings.IMAGING_VIEWER_CACHE_ROOT = tmp_path / "viewer-cache"
    folder = Path(media_root) / scan.derived["folder"]
    ny, nz, nx = (scan.preprocessing["grid"]["shape_zyx"][i] for i in (1, 0, 2))
    np.save(folder / "coronal_fat.npy", np.full((ny, nz, nx), 77, np.uint8))
    picture = png(viewer.get(f"/scans/{scan.pk}/slices/fat/0.png"))
    assert np.asarray(picture).max() == 77 and not (tmp_path / "viewer-cache").exists()


def test_slices_need_a_login_and_the_permission_to_view_scans(scan, client, django_user_model):
    url = f"/scans/{scan.pk}/slices/fat/0.png"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    user = django_user_model.objects.create_user("nobody", password="a-long-password-1")
    client.force_login(user)
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_scan"))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("path", ["fat/9999.png", "ff/0.png", "body_mask/0.png", "station1_fat/0.png"])
def test_only_the_fused_fat_and_water_slices_that_exist_are_served(scan, viewer, path):
    assert viewer.get(f"/scans/{scan.pk}/slices/{path}").status_code == 404


def test_no_slices_for_an_unprocessed_scan_or_a_withdrawn_participant(scan, viewer):
    from tests.factories import make_scan

    assert viewer.get(f"/scans/{make_scan().pk}/slices/fat/0.png").status_code == 404
    subjects_withdraw(eids=[scan.subject.eid])
    assert viewer.get(f"/scans/{scan.pk}/slices/fat/0.png").status_code == 404


def test_the_layout_has_one_seam_between_each_pair_of_stations(scan):
    layout = scan_slice_layout(scan=scan)
    nz, ny, nx = scan.preprocessing["grid"]["shape_zyx"]
    assert (layout.count, layout.rows, layout.columns) == (ny, nz, nx)
    assert [(s.upper, s.lower) for s in layout.seams] == [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    positions = [s.position for s in layout.seams]
    assert positions == sorted(positions) and 0 < positions[0] and positions[-1] < 1


def test_the_review_page_gets_the_viewer_with_its_tiles_and_seams(scan, viewer):
    page = viewer.get(f"/qc/scan/{scan.pk}/").content.decode()
    version = scan.derived["folder"].rsplit("/", 1)[-1]
    start = scan.preprocessing["network_input"]["coronal_row"]
    assert f'data-tiles="/scans/{scan.pk}/slices/{{kind}}/{{index}}.png?v={version}"' in page
    assert f'src="/scans/{scan.pk}/slices/fat/{start}.png?v={version}"' in page
    assert page.count('class="seam"') == 5 and 'title="seam between stations 1 and 2"' in page
    assert "<figcaption>Fat, coronal (mean projection)</figcaption>" in page
    assert 'data-aspect=""' in page and 'data-aspect="' in page.split("figure-network_input", 1)[1]


def test_the_network_input_is_given_its_size_in_millimetres(scan, viewer):
    page = viewer.get(f"/qc/scan/{scan.pk}/").content.decode()
    figure = page.split('<figure class="figure-network_input">', 1)[1].split("</figure>", 1)[0]
    grid, used = scan.preprocessing["grid"], scan.preprocessing["network_input"]
    dz, dy, dx = grid["spacing_zyx_mm"]
    width, height = grid["shape_zyx"][2] * dx + used["sagittal_rows"] * dy, used["slices"] * dz
    assert f'data-aspect="{width:.1f} / {height:.1f}"' in figure
    assert "<figcaption>Network input: fat fraction 0-50 %, coronal | sagittal slice</figcaption>" in figure
