"""ml.imaging.slices without Django: the coronal stack, one slice as a PNG, and the station seams."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ml.imaging.nifti import save_volume
from ml.imaging.slices import Extent, coronal_stack, nifti_extent, slice_layout, slice_png, station_seams


def test_the_stack_holds_coronal_slices_head_to_foot_in_8_bits():
    volume_zyx = np.zeros((6, 4, 5), np.float32)  # (z, y, x)
    volume_zyx[0, 2, 3] = 1000.0  # head-most slice, coronal slice 2, column 3
    volume_zyx[5, 2, 0] = 500.0
    stack = coronal_stack(volume_zyx.transpose(2, 1, 0).astype(np.uint16), percentile=100)  # stored (x, y, z)
    assert stack.shape == (4, 6, 5) and stack.dtype == np.uint8  # (y, z, x)
    assert stack[2, 0, 3] == 255 and stack[2, 5, 0] == 128 and stack.sum() == 255 + 128


def test_the_stack_keeps_headroom_above_the_projections_window():
    rng = np.random.default_rng(3)
    volume = rng.integers(0, 1000, size=(30, 30, 30), dtype=np.uint16)
    stack = coronal_stack(volume)
    assert 0 < (stack == 255).mean() < 0.01  # only the top 0.1 % saturates; the viewer windows the rest


def test_an_empty_volume_gives_a_black_stack():
    assert not coronal_stack(np.zeros((3, 4, 5), np.uint16)).any()


def test_a_slice_is_a_png_of_square_millimetres():
    stack = np.full((4, 10, 8), 100, np.uint8)  # 10 rows of 3 mm, 8 columns of 2 mm
    picture = Image.open(io.BytesIO(slice_png(stack, 1, (3.0, 2.0))))
    assert (picture.format, picture.mode, picture.size) == ("PNG", "L", (8, 15))


def test_seams_lie_midway_between_one_stations_last_slice_and_the_next_ones_first():
    grid = Extent(top=0.0, step=3.0, slices=100)
    stations = {1: Extent(top=0.0, step=3.0, slices=40), 2: Extent(top=-105.0, step=3.0, slices=40),
                3: Extent(top=-240.0, step=3.0, slices=40)}  # 1 and 2 overlap 12 mm, 2 and 3 leave a gap
    seams = station_seams(grid, stations)
    assert [(s.upper, s.lower) for s in seams] == [(1, 2), (2, 3)]
    assert seams[0].row == (117 + 105) / 2 / 3  # station 1 ends at -117 mm, 2 starts at -105 mm
    assert seams[1].row == (222 + 240) / 2 / 3
    assert seams[0].position == round((seams[0].row + 0.5) / 100, 4)


def test_a_seam_outside_the_fused_volume_is_left_out():
    grid = Extent(top=0.0, step=3.0, slices=10)
    stations = {1: Extent(top=0.0, step=3.0, slices=10), 2: Extent(top=-60.0, step=3.0, slices=10)}
    assert station_seams(grid, stations) == []


def test_the_layout_comes_from_the_nifti_headers(tmp_path):
    def write(name: str, shape: tuple, top: float, dz: float):
        affine = np.array([[-2.0, 0, 0, 0], [0, -2.0, 0, 0], [0, 0, -dz, top], [0, 0, 0, 1]])
        save_volume(tmp_path / name, np.zeros(shape, np.float32), affine, "signal")
        return tmp_path / name

    fused = write("fat.nii.gz", (20, 7, 9), 0.0, 3.0)  # (z, y, x)
    stations = {1: write("s1.nii.gz", (12, 7, 9), 0.0, 3.0), 2: write("s2.nii.gz", (10, 7, 9), -30.0, 3.0)}
    assert nifti_extent(stations[2]) == Extent(top=-30.0, step=3.0, slices=10)
    layout = slice_layout(fused, stations)
    assert (layout.count, layout.rows, layout.columns, layout.pixel_mm) == (7, 20, 9, (3.0, 2.0))
    assert [(s.upper, s.lower, s.row) for s in layout.seams] == [(1, 2, 10.5)]  # (-33 + -30) / 2 = -31.5 mm
