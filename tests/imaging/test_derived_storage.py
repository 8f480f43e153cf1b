"""The storage budget of a preprocessed scan: no fraction files, station volumes only on request, one reader
that serves old runs' files and new runs' computed fractions alike, and the storage report."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from django.core.management import call_command

from ml.imaging.fusion import fuse, fused_grid
from ml.imaging.maps import fractions, load_fraction
from ml.imaging.network_input import network_input
from ml.imaging.nifti import load_volume, save_volume, stored_signal
from ml.imaging.volumes import load_stations
from ml.marrow.regions import region_of
from tests.archives import cohort_archives
from ukbstudy.atlas.services.runs import scan_atlas_image
from ukbstudy.atlas.services.templates import atlas_template_add
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_slice_layout, scan_volume
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.marrow.services.slabs import scan_slab, slab_grid, slab_paths

pytestmark = pytest.mark.django_db
STORED_PRECISION = 1e-4  # an ff.nii.gz held 1/10,000


@pytest.fixture(scope="session")
def budget_archives(tmp_path_factory) -> list[Path]:
    return cohort_archives(tmp_path_factory.mktemp("budget"), 2, seed=81)


@pytest.fixture
def scans(budget_archives) -> list[Scan]:
    report = scans_import_archives(paths=budget_archives)
    scans = [Scan.objects.get(pk=r.scan_id) for r in report.results]
    for scan in scans:
        assert scan_preprocess(scan=scan).ok
        scan.refresh_from_db()
    return scans


def run_folder(scan: Scan, media_root) -> Path:
    return Path(media_root) / scan.derived["folder"]


def old_layout_fractions(archive: Path, scan: Scan, out: Path) -> tuple[dict[str, Path], object]:
    """ff.nii.gz and wf.nii.gz written as runs wrote them when they stored fractions (``save_volume``'s
    "fraction" files) from the fused signal at the precision the run stores it; and the fused grid."""
    volumes = load_stations(archive, scan.inventory["stations"])
    grid = fused_grid(volumes)
    fat, water = (stored_signal(v).astype(np.float32) for v in fuse(volumes, grid))
    paths = {kind: out / f"{kind}.nii.gz" for kind in ("ff", "wf")}
    for kind, volume in zip(("ff", "wf"), fractions(fat, water), strict=True):
        save_volume(paths[kind], volume, grid.affine_ras(), "fraction")
    return paths, grid


def test_a_run_stores_no_fractions_and_no_station_volumes_by_default(scans, media_root):
    names = sorted(p.name for p in run_folder(scans[0], media_root).iterdir())
    assert names == ["body_mask.nii.gz", "fat.nii.gz", "network_input.npy", "network_input.png", "preprocess.json",
                     "qc_fat_coronal.png", "qc_fat_sagittal.png", "qc_water_coronal.png", "qc_water_sagittal.png",
                     "water.nii.gz"]
    assert not {"ff", "wf", "station2_fat"} & set(scans[0].derived)
    assert set(scans[0].preprocessing["grid"]["stations"]) == {"1", "2", "3", "4", "5", "6"}


def test_the_setting_keeps_the_station_volumes(scans, media_root, settings):
    settings.IMAGING_KEEP_STATION_VOLUMES = True
    assert scan_preprocess(scan=scans[0]).ok
    scans[0].refresh_from_db()
    stations = sorted(name for name in scans[0].derived if name.startswith("station"))
    assert stations == sorted(f"station{n}_{kind}" for n in range(1, 7) for kind in ("fat", "water"))
    assert all((Path(media_root) / scans[0].derived[name]).is_file() for name in stations)


def test_fast_compression_writes_the_same_volumes_in_standard_gzip(scans, media_root, settings):
    small = {name: load_volume(Path(media_root) / scans[0].derived[name]) for name in ("fat", "water", "body_mask")}
    settings.IMAGING_VOLUME_COMPRESSION = "fast"
    assert scan_preprocess(scan=scans[0]).ok
    scans[0].refresh_from_db()
    for name, volume in small.items():
        path = Path(media_root) / scans[0].derived[name]
        assert gzip.decompress(path.read_bytes())[344:348] == b"n+1\x00"  # a gzip member holding a NIfTI-1
        np.testing.assert_array_equal(load_volume(path), volume)
    settings.IMAGING_VOLUME_COMPRESSION = "tiny"
    outcome = scan_preprocess(scan=scans[0])
    assert not outcome.ok and "unknown compression 'tiny'" in outcome.reason


def test_the_fraction_reader_equals_the_old_layouts_files_to_their_precision(scans, media_root, tmp_path):
    scan = scans[0]
    folder = run_folder(scan, media_root)
    old, grid = old_layout_fractions(Path(media_root) / scan.archive_path, scan, tmp_path)
    for kind in ("ff", "wf"):
        computed = load_fraction(folder / "fat.nii.gz", folder / "water.nii.gz", kind)
        stored = load_volume(old[kind])
        assert computed.shape == stored.shape and np.abs(computed - stored).max() <= STORED_PRECISION / 2 + 1e-6
    assert np.allclose(nib.load(old["ff"]).affine, nib.load(folder / "fat.nii.gz").affine)
    # the pipeline's own fraction, in memory when it made the network input, is the reader's to the bit
    ff = load_fraction(folder / "fat.nii.gz", folder / "water.nii.gz", "ff")
    image, _ = network_input(ff, load_volume(folder / "body_mask.nii.gz") > 0.5, grid.scale)
    np.testing.assert_array_equal(image, np.load(folder / "network_input.npy"))


def test_an_old_layout_scan_is_read_from_its_fraction_file(scans, media_root, tmp_path):
    """A run from before fractions were dropped keeps being read as it was: its ff.nii.gz, not a recomputation
    (made here half the computed fraction, so the two cannot be mistaken)."""
    scan = scans[0]
    folder = run_folder(scan, media_root)
    computed = scan_volume(scan=scan, name="ff")
    save_volume(folder / "ff.nii.gz", computed / 2, nib.load(folder / "fat.nii.gz").affine, "fraction")
    Scan.all_objects.filter(pk=scan.pk).update(derived={**scan.derived, "ff": f"{scan.derived['folder']}/ff.nii.gz"})
    scan.refresh_from_db()
    np.testing.assert_allclose(scan_volume(scan=scan, name="ff"), computed / 2, atol=STORED_PRECISION)
    np.testing.assert_allclose(scan_atlas_image(scan).ff, computed / 2, atol=STORED_PRECISION)
    mask = np.zeros(nib.load(folder / "fat.nii.gz").shape, np.uint8)
    mask[10:14, 10:14, 10:14] = 1
    nib.save(nib.Nifti1Image(mask, nib.load(folder / "ff.nii.gz").affine), tmp_path / "liver.nii.gz")
    assert atlas_template_add(scan=scan, mask_file=tmp_path / "liver.nii.gz").voxels == 64


def test_a_new_layout_scan_serves_the_atlas_the_computed_fraction(scans, media_root):
    folder = run_folder(scans[1], media_root)
    image = scan_atlas_image(scans[1])
    np.testing.assert_array_equal(image.ff, load_fraction(folder / "fat.nii.gz", folder / "water.nii.gz", "ff"))
    assert image.ff.shape == image.water.shape == image.body.shape and image.body.any()
    assert image.spacing == tuple(float(s) for s in reversed(nib.load(folder / "fat.nii.gz").header.get_zooms()))


def test_marrow_slabs_come_from_the_archive_as_the_station_files_held_them(scans, media_root, settings):
    scan, spine = scans[0], region_of("spine")
    from_archive, grid = scan_slab(scan, spine), slab_grid(scan, spine)
    assert slab_paths(scan, spine.station)[0] == Path(media_root) / scan.archive_path
    settings.IMAGING_KEEP_STATION_VOLUMES = True
    assert scan_preprocess(scan=scan).ok
    scan.refresh_from_db()
    from_files = scan_slab(scan, spine)
    for ours, theirs in zip(from_archive[:2], from_files[:2], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(from_archive[2], from_files[2], atol=1e-3)
    assert slab_grid(scan, spine)[0] == grid[0] and np.allclose(slab_grid(scan, spine)[1], grid[1], atol=1e-3)


def test_the_viewer_finds_the_station_seams_without_the_station_files(scans, settings):
    scan = scans[0]
    recorded = scan_slice_layout(scan=scan)
    settings.IMAGING_KEEP_STATION_VOLUMES = True
    assert scan_preprocess(scan=scan).ok
    scan.refresh_from_db()
    from_files = scan_slice_layout(scan=scan)
    assert len(recorded.seams) == 5 and recorded == from_files


def test_the_storage_report_counts_every_file_by_kind(scans, media_root, capsys):
    folders = [run_folder(scan, media_root) for scan in scans]
    call_command("storage", "--format", "json")
    report = json.loads(capsys.readouterr().out)
    rows = {(row["section"], row["kind"]): row for row in report["rows"]}
    assert (report["scans"], report["processed"]) == (2, 2)
    fat = sum((folder / "fat.nii.gz").stat().st_size for folder in folders)
    assert rows["derived", "fat"]["bytes"] == fat and rows["derived", "fat"]["mean_bytes"] == round(fat / 2)
    assert rows["derived", "fat"]["projected_bytes"] == round(fat / 2 * 100_000)
    every = sum(p.stat().st_size for folder in folders for p in folder.iterdir())
    assert rows["derived", "all"]["bytes"] == every and rows["derived", "station volumes"]["bytes"] == 0
    archives = sum((Path(media_root) / scan.archive_path).stat().st_size for scan in scans)
    assert rows["archives", "archive copies"]["bytes"] == archives
    call_command("storage")
    text = capsys.readouterr().out
    assert "2 scans, 2 processed" in text and "QC images" in text and "100,000 scans" in text
