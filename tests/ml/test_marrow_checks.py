"""Bone marrow error checks, BMFF and label validation."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from ml.marrow.bmff import bmff
from ml.marrow.checks import (
    CheckResult,
    RegionStatistics,
    Status,
    check_segmentation,
    clean_mask,
    dice,
    neighbour_flags,
    station_hint_flags,
)
from ml.marrow.io import LabelError, load_label
from ml.marrow.regions import REGIONS, region_of


def _statistics(volume: float = 64, centre=(10.0, 10.0, 10.0)) -> RegionStatistics:
    return RegionStatistics(volume, 6.0, list(centre), [1.0, 1.0, 1.0], reaches_slab_ends=False)


def _cube(shape=(20, 20, 20), start=(8, 8, 8), side=4) -> np.ndarray:
    mask = np.zeros(shape, bool)
    z, y, x = start
    mask[z:z + side, y:y + side, x:x + side] = True
    return mask


def test_single_voxels_go_and_pieces_of_one_bone_are_joined():
    mask = _cube()
    mask[1, 1, 1] = True  # a lone voxel
    mask[8:12, 8:12, 13:15] = True  # a second piece one voxel away
    cleaned, removed, joined = clean_mask(mask, connected=True)
    assert removed == 1 and joined == 2 and not cleaned[1, 1, 1]
    assert cleaned[8:12, 8:12, 12].all()  # the gap is bridged


def test_vertebral_bodies_stay_apart():
    mask = _cube(start=(2, 8, 8)) | _cube(start=(8, 8, 8))  # two vertebrae, a disc slice between
    mask[6:8] = False
    cleaned, _, _ = clean_mask(mask, connected=False)
    assert not cleaned[6:8].any() and cleaned.sum() == mask.sum()


def test_status_is_empty_small_or_ok_with_a_centre_flag():
    assert check_segmentation(np.zeros((20, 20, 20)), _statistics(), True).status == Status.EMPTY
    ok = check_segmentation(_cube(), _statistics(), True)
    assert (ok.status, ok.volume_voxels, ok.flags) == (Status.OK, 64, [])
    small = check_segmentation(_cube(side=3), _statistics(volume=200), True)
    assert small.status == Status.SMALL and "2.5 SD below" in small.hints[0]
    moved = check_segmentation(_cube(), _statistics(centre=(3.0, 10.0, 10.0)), True)
    assert moved.status == Status.OK and moved.flags == ["centre_of_mass"]


def test_a_region_cut_by_the_slab_end_is_small_unless_training_labels_reach_it():
    cut = _cube(start=(0, 8, 8))
    assert check_segmentation(cut, _statistics(centre=(1.5, 9.5, 9.5)), True).status == Status.SMALL
    spine = RegionStatistics(64, 6.0, [1.5, 9.5, 9.5], [1.0, 1.0, 1.0], reaches_slab_ends=True)
    assert check_segmentation(cut, spine, False).status == Status.OK


def test_region_statistics_come_from_the_training_labels():
    stats = RegionStatistics.from_masks([_cube(), _cube(start=(9, 8, 8)), np.zeros((20, 20, 20))])
    assert stats.volume_mean == 64 and stats.centre_mean == pytest.approx([10.0, 9.5, 9.5])
    assert not stats.reaches_slab_ends
    with pytest.raises(ValueError, match="two non-empty"):
        RegionStatistics.from_masks([_cube()])


def test_a_swap_hint_on_the_regions_station_flags_it_and_other_hints_only_explain():
    hints = [{"code": "water_fat_swap", "severity": "high", "station": 4, "message": "station 4: swapped"},
             {"code": "noise", "severity": "medium", "station": 4, "message": "station 4: noisy"},
             {"code": "water_fat_swap", "severity": "high", "station": 2, "message": "station 2: swapped"}]
    assert station_hint_flags(hints, 4) == (["water_fat_swap"], ["preprocessing hint: station 4: swapped",
                                                                 "preprocessing hint: station 4: noisy"])
    assert station_hint_flags(hints[1:2], 4) == ([], ["preprocessing hint: station 4: noisy"])
    assert station_hint_flags(hints, 5) == ([], []) == station_hint_flags(None, 5)


def test_dice():
    assert dice(_cube(), _cube()) == 1.0 and dice(_cube(), np.zeros((20, 20, 20))) == 0.0
    assert dice(np.zeros(3), np.zeros(3)) == 1.0


def _marrow(ff_inside: float, ff_rim: float, side: int = 6):
    """A block of marrow whose outer in-plane ring has another fat fraction."""
    mask = _cube(side=side)
    inner = np.zeros_like(mask)
    inner[:, 9:7 + side, 9:7 + side] = True  # the ring is y, x = 8 and 7 + side
    ff = np.where(mask & ~inner, ff_rim, ff_inside)
    fat, water = 800 * ff, 800 * (1 - ff)
    return fat.astype(np.float32), water.astype(np.float32), mask


def test_bmff_erodes_the_rim_in_plane_except_for_the_diaphysis():
    fat, water, mask = _marrow(0.6, 0.2, side=10)
    eroded = bmff(fat, water, mask, region_of("femoral_head"))
    assert eroded.voxels == 10 * 8 * 8 and eroded.value == pytest.approx(60.0, abs=0.01)
    whole = bmff(fat, water, mask, region_of("diaphysis"))
    assert whole.voxels == 10 * 10 * 10 and whole.mean == pytest.approx(0.64 * 60 + 0.36 * 20, abs=0.01)
    assert whole.value == pytest.approx(60.0, abs=0.01)  # the median: the rim is a minority


def test_bmff_is_the_median_so_that_a_minority_of_boundary_voxels_does_not_move_it():
    fat, water, mask = _marrow(0.6, 0.6, side=10)
    ring = np.zeros_like(mask)
    ring[8:18, 7:19, 7:19] = True
    ring &= ~mask
    ring[:, ::2] = False  # half the ring just outside the mask: cortex at 5 % fat
    fat[ring], water[ring] = 40.0, 760.0
    measured = bmff(fat, water, mask | ring, region_of("diaphysis"))
    assert measured.value == pytest.approx(60.0, abs=0.5) and measured.mean < 55


def test_bmff_smoothing_removes_a_noise_spike():
    fat, water, mask = _marrow(0.5, 0.5)
    fat[10, 10, 10], water[10, 10, 10] = 800.0, 0.0
    for name in REGIONS:
        assert bmff(fat, water, mask, region_of(name)).value == pytest.approx(50.0, abs=0.01)
    assert bmff(fat, water, np.zeros_like(mask), region_of("spine")).value is None


def _nifti(path, data, affine):
    nib.save(nib.Nifti1Image(np.asarray(data).transpose(2, 1, 0), affine), path)
    return path


def test_labels_must_lie_on_the_slab_grid_and_hold_zeros_and_ones(tmp_path):
    affine = np.diag([-2.2, -2.2, 4.5, 1.0])
    good = _nifti(tmp_path / "good.nii.gz", _cube().astype(np.uint8), affine)
    assert load_label(good, (20, 20, 20), affine).sum() == 64
    with pytest.raises(LabelError, match=r"good.nii.gz: shape \(20, 20, 20\)"):
        load_label(good, (22, 20, 20), affine)
    moved = affine.copy()
    moved[2, 3] = 4.5
    with pytest.raises(LabelError, match="affine differs from the slab's by up to 4.500 mm"):
        load_label(good, (20, 20, 20), moved)
    labels = _nifti(tmp_path / "multi.nii.gz", _cube().astype(np.uint8) * 3, affine)
    with pytest.raises(LabelError, match="multi.nii.gz: a label must hold only 0 and 1"):
        load_label(labels, (20, 20, 20), affine)
    (tmp_path / "junk.nii.gz").write_bytes(b"not nifti")
    with pytest.raises(LabelError, match="junk.nii.gz: not a readable NIfTI"):
        load_label(tmp_path / "junk.nii.gz", (20, 20, 20), affine)


def _result(status: str, flags=(), displaced: bool = False) -> CheckResult:
    return CheckResult(np.zeros((2, 2, 2), bool), status, 10, [1.0, 1.0, 1.0], 0.5, list(flags), displaced=displaced)


def test_a_region_out_of_place_flags_the_regions_of_the_other_slabs():
    results = {"spine": _result(Status.OK), "femoral_head": _result(Status.OK, ["centre_of_mass"], displaced=True),
               "total_hip": _result(Status.OK), "diaphysis": _result(Status.OK)}
    added = neighbour_flags(results)
    assert added["spine"][0] == ["table_displaced"] and added["diaphysis"][0] == ["table_displaced"]
    assert "Femoral head on another slab out of the usual place" in added["spine"][1][0]
    assert added["total_hip"][0] == ["neighbour_failed"]  # same slab: the neighbour rule, not the table's
    small = {**results, "femoral_head": _result(Status.SMALL)}  # small, but in place: e.g. metal
    assert list(neighbour_flags(small)) == ["total_hip"]


def test_the_check_marks_an_off_centre_or_cut_region_as_displaced():
    statistics = RegionStatistics(27.0, 3.0, [10.0, 10.0, 10.0], [1.0, 1.0, 1.0], reaches_slab_ends=False)
    mask = np.zeros((40, 20, 20), bool)
    mask[9:12, 9:12, 9:12] = True
    assert not check_segmentation(mask, statistics, True).displaced
    for axis in range(3):
        result = check_segmentation(np.roll(mask, 5, axis=axis), statistics, True)
        assert "centre_of_mass" in result.flags and result.displaced
    cut = np.zeros_like(mask)
    cut[0:3, 9:12, 9:12] = True  # at the usual z of a region that training labels never cut
    near_the_end = RegionStatistics(27.0, 3.0, [1.0, 10.0, 10.0], [1.0, 1.0, 1.0], reaches_slab_ends=False)
    result = check_segmentation(cut, near_the_end, True)
    assert result.status == Status.SMALL and result.displaced and not result.flags


def test_a_failed_region_flags_its_neighbour_on_the_same_slab_only():
    results = {"spine": _result(Status.OK), "femoral_head": _result(Status.SMALL), "total_hip": _result(Status.OK),
               "diaphysis": _result(Status.OK)}
    added = neighbour_flags(results)
    assert list(added) == ["total_hip"] and added["total_hip"][0] == ["neighbour_failed"]
    assert "Femoral head on the same slab is small" in added["total_hip"][1][0]
    assert neighbour_flags({**results, "femoral_head": _result(Status.OK)}) == {}
    off_centre = neighbour_flags({**results, "femoral_head": _result(Status.OK, ["centre_of_mass"])})
    assert "centre of mass far from the usual place" in off_centre["total_hip"][1][0]
    assert neighbour_flags({**results, "femoral_head": _result(Status.OK, ["water_fat_swap"])}) == {}
    assert list(neighbour_flags({**results, "femoral_head": None, "total_hip": _result(Status.EMPTY)})) == []
    assert list(neighbour_flags({"femoral_head": _result(Status.OK), "total_hip": _result(Status.EMPTY)})) == [
        "femoral_head"]


def test_a_mask_spanning_two_tissues_is_flagged_heterogeneous_against_the_training_spread():
    from ml.marrow.checks import spread_flags

    masks = [_cube(side=6), _cube(side=6, start=(7, 8, 8))]
    statistics = RegionStatistics.from_masks(masks, [0.3, 0.4])
    assert statistics.spread_mean == pytest.approx(0.35) and statistics.spread_limit == pytest.approx(
        0.35 + 6 * statistics.spread_sd)
    fat, water, mask = _marrow(0.9, 0.9, side=10)
    lower = mask.copy()
    lower[:13] = False
    fat[lower], water[lower] = 560.0, 240.0  # the lower half another tissue: 70 % instead of 90 %
    mixed = bmff(fat, water, mask, region_of("total_hip"))
    assert mixed.spread > 10
    flags, hints = spread_flags(mixed.spread, statistics)
    assert flags == ["heterogeneous"] and "may span two tissues" in hints[0]
    assert spread_flags(bmff(fat, water, mask & ~lower, region_of("total_hip")).spread, statistics) == ([], [])
    older = RegionStatistics.from_masks(masks)  # a checkpoint from before the spread was recorded
    assert older.spread_limit is None and spread_flags(mixed.spread, older) == ([], [])
