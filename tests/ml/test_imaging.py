"""The image pipeline against the synthetic cohort's ground truth (scale 0.25, no Django)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from ml.imaging.maps import load_fraction
from ml.imaging.network_input import HEIGHT, SAGITTAL_WIDTH
from ml.imaging.nifti import volume_image
from ml.imaging.pipeline import preprocess_archive
from ml.imaging.volumes import ImagingError
from ml.synthetic import make_cohort
from ml.ukb.inventory import inventory_archive

SCALE = 0.25


def processed(root: Path, out: Path) -> list[dict]:
    """Every archive of a cohort preprocessed: ground truth row, inventory and result per archive."""
    rows = {row["archive"]: row for row in csv.DictReader((root / "ground_truth.csv").open())}
    results = []
    for archive in sorted((root / "archives").glob("*.zip")):
        inventory = inventory_archive(archive)
        target = out / archive.stem
        target.mkdir(parents=True)
        result = preprocess_archive(archive, inventory.stations_json()["stations"], inventory.deviations_json(),
                                    target, inventory.series_members())
        results.append({"truth": rows[archive.name], "result": result, "dir": target, "archive": archive,
                        "inventory": inventory})
    return results


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("imaging")
    runs = {}
    for name, n, seed, faults in (("clean", 5, 41, {}), ("swap", 4, 42, {"water_fat_swap": 1.0}),
                                  ("missing", 1, 43, {"missing_station": 1.0}), ("noise", 2, 44, {"noise": 1.0})):
        make_cohort(root / name, n, seed=seed, scale=SCALE, repeat_fraction=0.0, fault_rates=faults)
        runs[name] = processed(root / name, root / f"{name}-out")
    runs["root"] = root
    return runs


def fault_station(row: dict) -> int:
    return int(re.search(r"station (\d)", row["fault_detail"]).group(1))


def fraction_image(run: dict, kind: str = "ff") -> nib.Nifti1Image:
    """The fraction as ``ff.nii.gz`` held it when runs stored it: now computed from fat and water."""
    fat, water = run["dir"] / "fat.nii.gz", run["dir"] / "water.nii.gz"
    image = volume_image(load_fraction(fat, water, kind), nib.load(fat).affine, "fraction")
    return nib.Nifti1Image.from_bytes(image.to_bytes())  # as read from a file: the header's slope applies


def liver_label(run: dict) -> nib.Nifti1Image:
    root = run["archive"].parent.parent
    return nib.load(root / "labels" / run["archive"].stem / "liver.nii.gz")


def test_the_fused_grid_is_the_generators_fused_grid(cohort):
    for run in cohort["clean"]:
        ff, label = fraction_image(run), liver_label(run)
        assert ff.shape == label.shape
        np.testing.assert_allclose(ff.affine, label.affine, atol=1e-3)


def test_liver_fat_fraction_in_the_fused_map_matches_the_truth(cohort):
    errors = []
    for run in cohort["clean"] + cohort["swap"]:
        if "water_fat_swap" in run["truth"]["faults"] and fault_station(run["truth"]) in (2, 3):
            continue  # the liver's own station is swapped there
        ff = fraction_image(run).get_fdata()
        inside = ndimage.binary_erosion(np.asarray(liver_label(run).dataobj) > 0)  # off the partial-volume edge
        errors.append(abs(100 * np.median(ff[inside]) - float(run["truth"]["liver_ff_image"])))
    # The generated parenchyma level; vessels, texture and the magnitude noise floor move the median a little.
    assert len(errors) >= 5 and np.median(errors) < 0.5, errors


def test_spine_marrow_read_through_the_fused_grid_matches_the_truth(cohort):
    """The spine label lives on station 2's own grid: mapped through both affines into the fused grid, it
    must still enclose the spine's marrow fat, so station 2 sits where it belongs in the fused volume."""
    for run in cohort["clean"]:
        label = nib.load(run["archive"].parent.parent / "labels" / run["archive"].stem / "spine.nii.gz")
        ff = fraction_image(run)
        voxels = np.argwhere(np.asarray(label.dataobj) > 0)
        to_fused = np.linalg.inv(ff.affine) @ label.affine
        fused_index = np.rint(nib.affines.apply_affine(to_fused, voxels)).astype(int)
        values = ff.get_fdata()[tuple(fused_index.T)]
        # partial volume with the cortex at this scale's 9 mm voxels lowers the marrow's fat fraction
        assert -8 < 100 * np.median(values) - float(run["truth"]["bmff_spine"]) < 1.5


def test_a_planted_water_fat_swap_is_hinted_on_its_station(cohort):
    for run in cohort["swap"]:
        swaps = [h.station for h in run["result"].hints if h.code == "water_fat_swap"]
        assert swaps == [fault_station(run["truth"])], (run["truth"]["fault_detail"], run["result"].hints)


def test_clean_scans_get_no_hints(cohort):
    for run in cohort["clean"]:
        assert run["result"].hints == []


def test_a_missing_station_is_hinted_and_the_rest_is_fused(cohort):
    run = cohort["missing"][0]
    missing = fault_station(run["truth"])
    assert [(h.code, h.station) for h in run["result"].hints] == [("missing_station", missing)]
    assert nib.load(run["dir"] / "fat.nii.gz").shape == fraction_image(run).shape


def test_heavy_noise_is_hinted(cohort):
    for run in cohort["noise"]:
        noisy = {h.station for h in run["result"].hints if h.code == "noise"}
        planted = {int(n) for n in re.search(r"stations? ([\d, ]+)", run["truth"]["fault_detail"]).group(1).split(",")}
        assert noisy == planted


def test_network_input_is_the_papers_8_bit_format(cohort):
    run = cohort["clean"][0]
    image = np.load(run["dir"] / "network_input.npy")
    ff = fraction_image(run).get_fdata().transpose(2, 1, 0)  # (z, y, x)
    parameters = run["result"].network_input
    assert image.dtype == np.uint8
    assert image.shape == (round(HEIGHT * SCALE), ff.shape[2] + round(SAGITTAL_WIDTH * SCALE))
    expected = np.round(np.clip(ff[:parameters.slices, parameters.coronal_row, :] / 0.5, 0, 1) * 255)
    np.testing.assert_allclose(image[:, :ff.shape[2]], expected, atol=1)
    mask = nib.load(run["dir"] / "body_mask.nii.gz").get_fdata().transpose(2, 1, 0)
    quarter = np.searchsorted(np.cumsum(mask.sum(axis=(0, 1))), 0.25 * mask.sum())
    # LPS: low x is the patient's right, so the quarter of mass from column 0 is through the right thigh
    assert parameters.sagittal_column == quarter and parameters.sagittal_column < ff.shape[2] / 2
    # ... and low y is anterior: keeping the first rows drops the posterior end, where the bed is
    assert parameters.sagittal_rows == round(SAGITTAL_WIDTH * SCALE) < ff.shape[1]
    sagittal = np.round(np.clip(ff[:parameters.slices, :parameters.sagittal_rows, parameters.sagittal_column] / 0.5,
                                0, 1) * 255)
    np.testing.assert_allclose(image[:, ff.shape[2]:], sagittal, atol=1)


def test_fractions_add_up_and_stay_in_range(cohort):
    run = cohort["clean"][1]
    ff, wf = (fraction_image(run, name).get_fdata() for name in ("ff", "wf"))
    fat, water = (nib.load(run["dir"] / f"{name}.nii.gz").get_fdata() for name in ("fat", "water"))
    signal = (fat + water) > 1
    assert ff.min() >= 0 and ff.max() <= 1
    np.testing.assert_allclose((ff + wf)[signal], 1, atol=2e-4)
    assert np.all(ff[(fat + water) == 0] == 0)


def test_body_mask_has_a_plausible_volume(cohort):
    for run in cohort["clean"]:
        assert 15 < run["result"].statistics["body_litres"] < 150


def test_only_what_cannot_be_recomputed_cheaply_is_written(cohort):
    run = cohort["clean"][0]
    assert sorted(p.name for p in run["dir"].iterdir()) == [
        "body_mask.nii.gz", "fat.nii.gz", "network_input.npy", "network_input.png", "preprocess.json",
        "qc_fat_coronal.png", "qc_fat_sagittal.png", "qc_water_coronal.png", "qc_water_sagittal.png", "water.nii.gz"]


def test_stations_own_grids_are_recorded_and_their_volumes_kept_on_request(cohort, tmp_path):
    run = cohort["clean"][0]
    spine = nib.load(run["archive"].parent.parent / "labels" / run["archive"].stem / "spine.nii.gz")
    recorded = run["result"].grid["stations"]["2"]
    assert tuple(recorded["shape_zyx"]) == tuple(reversed(spine.shape))
    np.testing.assert_allclose(recorded["affine_ras"], spine.affine, atol=1e-3)
    inventory = run["inventory"]
    result = preprocess_archive(run["archive"], inventory.stations_json()["stations"], [], tmp_path,
                                inventory.series_members(), keep_station_volumes=True)
    station2 = nib.load(tmp_path / result.files["station2_fat"])
    assert station2.shape == spine.shape and len([f for f in result.files if f.startswith("station")]) == 12
    np.testing.assert_allclose(station2.affine, spine.affine, atol=1e-3)


def test_qc_images_are_pngs_with_square_pixels(cohort):
    from PIL import Image

    run = cohort["clean"][0]
    coronal = Image.open(run["dir"] / "qc_fat_coronal.png")
    dz, dy, dx = run["result"].grid["spacing_zyx_mm"]
    nz, ny, nx = run["result"].grid["shape_zyx"]
    assert coronal.size == (nx, round(nz * dz / dx))
    assert {name for name in run["result"].files if name.startswith("qc_")} == {
        "qc_water_coronal", "qc_fat_coronal", "qc_water_sagittal", "qc_fat_sagittal"}


def test_a_corrupt_station_fails_with_the_file_named(cohort, tmp_path):
    run = cohort["clean"][2]
    stations = run["inventory"].stations_json()["stations"]
    index = run["inventory"].series_members()
    fat_uid = stations["3"]["F"]["series_uid"]
    damaged = tmp_path / run["archive"].name
    import zipfile

    victim = index[fat_uid][5]
    with zipfile.ZipFile(run["archive"]) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[:400] if info.filename == victim else data)
    with pytest.raises(ImagingError, match=f"station 3 F: {re.escape(victim)}"):
        preprocess_archive(damaged, stations, [], tmp_path, index)


def test_a_swap_next_to_a_missing_station_is_still_found(tmp_path):
    found = []
    for seed in range(60, 72):
        root = tmp_path / str(seed)
        make_cohort(root, 1, seed=seed, scale=SCALE, repeat_fraction=0.0,
                    fault_rates={"water_fat_swap": 1.0, "missing_station": 1.0})
        run = processed(root, tmp_path / f"{seed}-out")[0]
        detail = run["truth"]["fault_detail"]
        swapped = int(re.search(r"water_fat_swap: station (\d)", detail).group(1))
        missing = int(re.search(r"missing_station: station (\d)", detail).group(1))
        if abs(swapped - missing) == 1 and swapped in (1, 6) or {swapped, missing} <= {1, 2} or \
                {swapped, missing} <= {5, 6}:
            continue  # a station with no neighbour left cannot be checked (documented)
        found.append(([h.station for h in run["result"].hints if h.code == "water_fat_swap"], swapped))
    assert len(found) >= 6 and all(hinted == [swapped] for hinted, swapped in found), found


def test_a_slice_missing_from_a_station_is_hinted_and_does_not_shift_it(cohort, tmp_path):
    import zipfile

    run = cohort["clean"][3]
    inventory = run["inventory"]
    index = inventory.series_members()
    dropped = {index[series.series_uid][4] for series in inventory.stations[3].values()}
    gapped = tmp_path / "gap" / run["archive"].name
    gapped.parent.mkdir()
    with zipfile.ZipFile(run["archive"]) as source, zipfile.ZipFile(gapped, "w") as target:
        for info in source.infolist():
            if info.filename not in dropped:
                target.writestr(info, source.read(info))
    again = inventory_archive(gapped)
    assert any("slice spacing varies" in d.message for d in again.deviations)
    out = tmp_path / "gap-out"
    out.mkdir()
    result = preprocess_archive(gapped, again.stations_json()["stations"], again.deviations_json(), out,
                                again.series_members())
    assert ("uneven_slices", 3) in [(h.code, h.station) for h in result.hints]
    clean, gap = (nib.load(d / "fat.nii.gz").get_fdata() for d in (run["dir"], out))
    far_from_gap = np.abs(clean - gap)[..., : clean.shape[2] // 3]  # head-most third: stations 1 and 2
    assert far_from_gap.max() < 1.0
    assert np.median(np.abs(clean - gap)[clean > 100]) < 0.05 * np.median(clean[clean > 100])
