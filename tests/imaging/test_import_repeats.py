"""import_ukb on archives whose stations were repeated in every order real examinations show: right after
the first try, at the end of the examination, with a swapped or a wrong-landmark first try."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from scipy import ndimage

from ml.imaging.fusion import fuse, fused_grid
from ml.imaging.maps import fractions
from ml.imaging.volumes import load_stations
from ml.synthetic.faults import FaultPlan
from tests.archives import planted_archive
from tests.snapshot import database_snapshot
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives

pytestmark = pytest.mark.django_db
SEED = 12


def repeat_plan(station: int, *, shift_mm: float = 0.0, at_end: bool = True, swapped: bool = False) -> FaultPlan:
    return FaultPlan(codes=("repeated_station",), repeated_station=station, repeat_shift_mm=shift_mm,
                     repeat_at_end=at_end, repeat_first_swapped=swapped)


@pytest.fixture(scope="module")
def swapped_then_repeated_last(tmp_path_factory):
    """Station 2 first acquired with water and fat swapped, then again after station 6 (series 25-28)."""
    return planted_archive(tmp_path_factory.mktemp("swap-last"), SEED, repeat_plan(2, swapped=True))


def import_scan(path: Path) -> Scan:
    [result] = scans_import_archives(paths=[path]).results
    assert result.status == "imported", result.reason
    return Scan.objects.get(pk=result.scan_id)


def kept_series_numbers(scan: Scan) -> dict[int, list[int]]:
    return {int(n): sorted(s["series_number"] for s in by_type.values())
            for n, by_type in scan.inventory["stations"].items()}


def series_uids(path: Path) -> dict[int, str]:
    """SeriesInstanceUID by SeriesNumber, read from the archive's DICOM headers."""
    uids = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".dcm"):
                ds = pydicom.dcmread(io.BytesIO(archive.read(name)), stop_before_pixels=True)
                uids[int(ds.SeriesNumber)] = str(ds.SeriesInstanceUID)
    return uids


def liver_ff_percent(path: Path, stations: dict, synthetic_scan) -> float:
    """Median fat fraction (%) of the fused volume inside the generator's liver label (eroded once)."""
    volumes = load_stations(path, stations)
    fat, water = fuse(volumes, fused_grid(volumes))
    ff, _ = fractions(fat, water)
    mask, _ = synthetic_scan.labels["liver"]
    assert mask.shape == ff.shape
    return 100 * float(np.median(ff[ndimage.binary_erosion(mask > 0)]))


def test_station_2_repeated_after_station_6_imports_all_six_and_keeps_the_repeat(swapped_then_repeated_last):
    path, _ = swapped_then_repeated_last
    scan = import_scan(path)
    assert scan.n_series == 28 and scan.stations == [1, 2, 3, 4, 5, 6]
    assert kept_series_numbers(scan) == {1: [1, 2, 3, 4], 2: [25, 26, 27, 28], 3: [9, 10, 11, 12],
                                         4: [13, 14, 15, 16], 5: [17, 18, 19, 20], 6: [21, 22, 23, 24]}
    stations = scan.inventory["stations"]
    assert (stations["5"]["F"]["rows"], stations["6"]["F"]["rows"]) == (40, 39)  # 162 and 156 at scale 0.25
    codes = [(d["code"], d["station"]) for d in scan.deviations]
    assert codes == [("repeated_station", 2), ("series_count", None)]
    assert "ignored series 5-8 (same position)" in scan.deviations[0]["message"]


def test_the_fused_liver_shows_the_repeat_not_the_swapped_first_try(swapped_then_repeated_last):
    path, synthetic = swapped_then_repeated_last
    scan = import_scan(path)
    truth = synthetic.visit.liver_ff_image
    assert liver_ff_percent(path, scan.inventory["stations"], synthetic) == pytest.approx(truth, abs=1.0)
    uids = series_uids(path)
    first_try = {**scan.inventory["stations"], "2": {"F": {"series_uid": uids[7]}, "W": {"series_uid": uids[8]}}}
    assert abs(liver_ff_percent(path, first_try, synthetic) - truth) > 10  # the swap the import must avoid


def test_reimporting_the_repeated_archive_changes_nothing(swapped_then_repeated_last):
    path, _ = swapped_then_repeated_last
    import_scan(path)
    before = database_snapshot()
    [result] = scans_import_archives(paths=[path]).results
    assert result.status == "duplicate" and database_snapshot() == before


@pytest.mark.parametrize("station, shift_mm, at_end", [
    (3, 0.0, True),  # a repeat of station 3 at the end, same position
    (3, -65.0, True),  # wrong landmark (towards the feet), repeated at the end
    (4, 48.0, True),  # wrong landmark (towards the head), repeated at the end
    (2, 75.0, False),  # wrong landmark, repeated right after
    (5, -55.0, True),
])
def test_a_wrong_or_repeated_first_try_is_dropped_wherever_the_repeat_comes(tmp_path, station, shift_mm, at_end):
    path, _ = planted_archive(tmp_path, SEED, repeat_plan(station, shift_mm=shift_mm, at_end=at_end))
    scan = import_scan(path)
    assert scan.stations == [1, 2, 3, 4, 5, 6]
    first = 4 * station - 3
    kept = kept_series_numbers(scan)
    assert kept[station] == ([25, 26, 27, 28] if at_end else [first + 4, first + 5, first + 6, first + 7])
    assert first not in {n for numbers in kept.values() for n in numbers}
    codes = [(d["code"], d["station"]) for d in scan.deviations]
    assert codes == [("repeated_station", station), ("series_count", None)]
