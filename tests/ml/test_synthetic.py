"""Behaviour of the synthetic cohort generator (ml.synthetic), at scale 0.25 with two subjects.

Archives are read the way an importer must read them: by DICOM headers, never by names or order.
Clean and faulty cohorts share a seed, so a fault shows up as a difference against the clean cohort.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.valuerep import DSfloat
from scipy import ndimage

from ml.synthetic import DEFAULT_FAULT_RATES, make_cohort
from ml.synthetic.acquisition import Acquisition, SeriesSlot
from ml.synthetic.dicom_writer import Patient, SeriesEncoder, series_template
from ml.synthetic.geometry import station_grid
from ml.synthetic.population import make_population
from ml.synthetic.tables import write_showcase
from ml.ukb.fields import load_catalogue
from ml.ukb.headers import RAP
from ml.ukb.protocol import (
    IMAGE_TYPE_FLAGS,
    IN_PLANE_SPACING_MM,
    SERIES_TYPES,
    STATION_OVERLAP_MM,
    STATIONS,
    series_description,
)
from ml.ukb.showcase import parse_showcase

SCALE = 0.25
SEED = 11
N = 2


@dataclass
class Series:
    header: pydicom.Dataset  # of the head-most slice
    pixels: np.ndarray  # (z, y, x), head-most slice first
    z: np.ndarray
    instance_numbers: list[int]


@cache
def read_archive(path: Path) -> dict[int, Series]:
    """Series by SeriesNumber, slices sorted head first by ImagePositionPatient (cached: read-only use)."""
    slices = defaultdict(list)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".dcm"):
                ds = pydicom.dcmread(io.BytesIO(archive.read(name)))
                slices[int(ds.SeriesNumber)].append(ds)
    series = {}
    for number, datasets in slices.items():
        datasets.sort(key=lambda ds: -float(ds.ImagePositionPatient[2]))
        series[number] = Series(datasets[0], np.stack([ds.pixel_array for ds in datasets]).astype(float),
                                np.array([float(ds.ImagePositionPatient[2]) for ds in datasets]),
                                [int(ds.InstanceNumber) for ds in datasets])
    return series


def fat_fraction(fat: np.ndarray, water: np.ndarray) -> np.ndarray:
    return 100 * fat / np.maximum(fat + water, 1)


def ground_truth(root: Path) -> list[dict[str, str]]:
    with (root / "ground_truth.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def label(root: Path, row: dict[str, str], region: str) -> nib.Nifti1Image:
    return nib.load(root / row["labels_dir"] / f"{region}.nii.gz")


def zyx(image: nib.Nifti1Image) -> np.ndarray:
    """A label as a (z, y, x) boolean volume, like the DICOM series."""
    return np.asarray(image.dataobj).transpose(2, 1, 0) > 0


def station_series(series: dict[int, Series], station: int) -> dict[str, Series]:
    """The four series of a station in a 24-series archive, by type."""
    return {t: series[4 * (station - 1) + i + 1] for i, t in enumerate(SERIES_TYPES)}


def faulty_station(row: dict[str, str]) -> int:
    return int(re.search(r"stations? (\d)", row["fault_detail"]).group(1))


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """Make cohorts on first use: clean, its rerun, another seed, and one per forced fault."""
    made = {}

    def get(name: str, seed: int = SEED, fault_rates: dict | None = None) -> Path:
        if name not in made:
            root = tmp_path_factory.mktemp(name)
            make_cohort(root, N, seed=seed, scale=SCALE, fault_rates=fault_rates or {})
            made[name] = root
        return made[name]

    return get


@pytest.fixture(scope="module")
def clean(cohorts) -> Path:
    return cohorts("clean")


def fault_cohort(cohorts, code: str) -> tuple[Path, dict[str, str]]:
    root = cohorts(code, fault_rates={code: 1.0})
    return root, ground_truth(root)[0]


def first_archive(root: Path) -> Path:
    return root / "archives" / ground_truth(root)[0]["archive"]


# --- determinism ----------------------------------------------------------------------------------------

def test_same_seed_gives_identical_files(cohorts, clean):
    again = cohorts("again")
    for name in ("showcase.csv", "ground_truth.csv", "cohort.json"):
        assert (clean / name).read_bytes() == (again / name).read_bytes()
    for row in ground_truth(clean):
        assert (clean / "archives" / row["archive"]).read_bytes() == (again / "archives" / row["archive"]).read_bytes()


def test_same_seed_gives_identical_pixels_and_uids(cohorts, clean):
    again = cohorts("again")
    with zipfile.ZipFile(first_archive(clean)) as a, zipfile.ZipFile(first_archive(again)) as b:
        name = sorted(n for n in a.namelist() if n.endswith(".dcm"))[7]
        first, second = pydicom.dcmread(io.BytesIO(a.read(name))), pydicom.dcmread(io.BytesIO(b.read(name)))
    assert first.SOPInstanceUID == second.SOPInstanceUID and first.StudyInstanceUID == second.StudyInstanceUID
    assert first.PixelData == second.PixelData


def test_another_seed_gives_another_cohort(cohorts, clean):
    other = cohorts("other", seed=SEED + 1)
    assert (clean / "showcase.csv").read_bytes() != (other / "showcase.csv").read_bytes()
    assert {r["eid"] for r in ground_truth(clean)}.isdisjoint(r["eid"] for r in ground_truth(other))


def test_it_refuses_a_folder_holding_another_cohort(clean):
    with pytest.raises(FileExistsError):
        make_cohort(clean, 1, scale=SCALE)


# --- archive structure ----------------------------------------------------------------------------------

def test_archive_has_24_series_numbered_station_by_station(clean):
    series = read_archive(first_archive(clean))
    assert sorted(series) == list(range(1, 25))
    for number, s in series.items():
        station, series_type = STATIONS[(number - 1) // 4], SERIES_TYPES[(number - 1) % 4]
        assert s.header.SeriesDescription == series_description(station, series_type)
        assert s.header.ImageType[-1] == IMAGE_TYPE_FLAGS[series_type]
        assert s.header.ImageType[0] == ("ORIGINAL" if series_type in ("in", "opp") else "DERIVED")


def test_station_geometry_follows_the_scaled_protocol(clean):
    series = read_archive(first_archive(clean))
    for spec in STATIONS:
        scaled, s = spec.scaled(SCALE), series[4 * spec.number - 3]
        assert (s.header.Rows, s.header.Columns, len(s.z)) == (scaled.rows, scaled.columns, scaled.slices)
        assert float(s.header.SliceThickness) == pytest.approx(scaled.slice_thickness_mm)
        assert np.diff(s.z) == pytest.approx(-scaled.slice_thickness_mm)
        row_spacing, column_spacing = map(float, s.header.PixelSpacing)
        assert row_spacing * scaled.rows == pytest.approx(IN_PLANE_SPACING_MM * spec.rows)
        assert column_spacing * scaled.columns == pytest.approx(IN_PLANE_SPACING_MM * spec.columns)
        assert list(map(float, s.header.ImageOrientationPatient)) == [1, 0, 0, 0, 1, 0]
        assert float(s.header.ImagePositionPatient[0]) == pytest.approx(-(scaled.columns - 1) / 2 * column_spacing)


def test_neighbouring_stations_overlap(clean):
    series = read_archive(first_archive(clean))
    edges = {}
    for spec in STATIONS:
        s, half = series[4 * spec.number - 3], spec.scaled(SCALE).slice_thickness_mm / 2
        edges[spec.number] = (s.z[0] + half, s.z[-1] - half)
    for upper, lower in pairwise(STATIONS):
        assert edges[upper.number][1] - edges[lower.number][0] == pytest.approx(-STATION_OVERLAP_MM)


def test_every_file_is_a_readable_12_bit_mr_image(clean):
    study_uids, sop_uids = set(), []
    with zipfile.ZipFile(first_archive(clean)) as archive:
        for name in archive.namelist():
            if not name.endswith(".dcm"):
                continue
            data = archive.read(name)
            assert data[128:132] == b"DICM"
            ds = pydicom.dcmread(io.BytesIO(data))
            assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
            assert ds.SOPClassUID == pydicom.uid.MRImageStorage and ds.Modality == "MR"
            assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
            assert ds.pixel_array.max() < 4096 and ds.Manufacturer == "SIEMENS"
            assert name == f"{ds.SOPInstanceUID}.dcm" and name.startswith("1.3.12.2.1107.5.2.18.41754.")
            study_uids.add(ds.StudyInstanceUID)
            sop_uids.append(ds.SOPInstanceUID)
    assert len(study_uids) == 1 and len(set(sop_uids)) == len(sop_uids)


def test_instance_numbers_follow_z_from_the_head(clean):
    for s in read_archive(first_archive(clean)).values():
        assert s.instance_numbers == list(range(1, len(s.z) + 1))


def test_patient_and_echo_headers(clean):
    row = ground_truth(clean)[0]
    series = read_archive(first_archive(clean))
    for s in series.values():
        assert s.header.PatientID == row["eid"] and s.header.PatientSex == row["sex"]
    echoes = {t: float(s.header.EchoTime) for t, s in station_series(series, 1).items()}
    assert echoes["opp"] == 2.39 and echoes["in"] == 4.77


def test_later_stations_are_acquired_later(clean):
    series = read_archive(first_archive(clean))
    times = [series[4 * spec.number - 3].header.AcquisitionTime for spec in STATIONS]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_files_are_stored_shuffled(clean):
    with zipfile.ZipFile(first_archive(clean)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dcm")]
        numbers = [int(pydicom.dcmread(io.BytesIO(archive.read(n)), stop_before_pixels=True).SeriesNumber)
                   for n in names]
    assert numbers != sorted(numbers)


def test_series_encoder_writes_what_dcmwrite_writes():
    grid = station_grid(2, SCALE, -155.0)
    slot = SeriesSlot(5, Acquisition(2, -155.0, 45.0, True), "F", 46.0)
    patient = Patient(1234567, "F", 64, 1.65, 70.0, "1.2.3", "1.2.4", datetime(2017, 3, 12, 14, 22, 31))
    template = series_template(slot, grid, patient, "1.2.5")
    pixels = np.arange(grid.shape[1] * grid.shape[2], dtype=np.uint16).reshape(grid.shape[1:])
    encoded = SeriesEncoder(template).encode(grid, 3, pixels, "1.2.6")
    template.SOPInstanceUID = template.file_meta.MediaStorageSOPInstanceUID = "1.2.6"
    position = [DSfloat(v, auto_format=True) for v in (grid.x[0], grid.y[0], grid.z[3])]
    template.InstanceNumber, template.ImagePositionPatient, template.SliceLocation = 4, position, position[2]
    template.PixelData = pixels.tobytes()
    reference = io.BytesIO()
    pydicom.dcmwrite(reference, template, enforce_file_format=True)
    assert encoded == reference.getvalue()


# --- tables ---------------------------------------------------------------------------------------------

def test_showcase_has_uk_biobank_columns_and_codes(clean):
    with (clean / "showcase.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    visit = [f"{field}-{instance}.0" for field in (53, 21003, 50, 21001, 54) for instance in (2, 3)]
    assert list(rows[0])[:14] == ["eid", "31-0.0", *visit, "22402-2.0", "22436-2.0"]  # 22402, 22436: instance 2 only
    dxa = ["23204-2.0", "23205-2.0", "23299-2.0", "23300-2.0", "23291-2.0", "23293-2.0", "23290-2.0",
           "23247-2.0", "23264-2.0", "23276-2.0", "23286-2.0", "23281-2.0", "23288-2.0"]
    assert list(rows[0])[14:] == dxa
    assert "23226-2.0" not in rows[0] and "23289-2.0" not in rows[0]  # head BMD, VAT volume: not ours
    fractions = [float(row[name]) for row in rows for name in dxa[7:12] if row[name]]
    assert fractions and all(0.04 < value < 0.66 for value in fractions)  # tissue fat fractions, not percent
    for row in rows:
        assert len(row["eid"]) == 7 and row["31-0.0"] in ("0", "1") and row["54-2.0"] in ("11025", "11026", "11027")
        assert 45 <= int(row["21003-2.0"]) <= 82 and 17 <= float(row["21001-2.0"]) <= 50


def test_the_showcase_can_also_be_written_as_a_research_analysis_platform_export(tmp_path):
    subjects = make_population(6, SEED, 0.0, {}).subjects
    write_showcase(tmp_path / "a.csv", subjects)
    write_showcase(tmp_path / "b.csv", subjects, RAP)
    header = (tmp_path / "b.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["participant.eid", "participant.p31", "participant.p53_i2", "participant.p53_i3",
                          "participant.p21003_i2"]
    catalogue = load_catalogue()
    rows = [[(r.eid, r.subject, r.reference, r.covariate) for r in parse_showcase(tmp_path / name, catalogue).rows]
            for name in ("a.csv", "b.csv")]
    assert rows[0] == rows[1] and len(rows[0]) == 6


def test_ground_truth_has_one_row_per_archive(clean):
    rows = ground_truth(clean)
    assert sorted(r["archive"] for r in rows) == sorted(p.name for p in (clean / "archives").iterdir())
    assert all(r["faults"] == "" for r in rows)


# --- fat fractions and labels ---------------------------------------------------------------------------

def _liver_mask_on_station(liver: nib.Nifti1Image, s: Series) -> np.ndarray:
    """Sample the eroded fused-grid liver label at the voxel centres of a station series."""
    eroded = ndimage.binary_erosion(np.asarray(liver.dataobj) > 0)
    row_spacing, column_spacing = map(float, s.header.PixelSpacing)
    x0, y0 = float(s.header.ImagePositionPatient[0]), float(s.header.ImagePositionPatient[1])
    x = x0 + np.arange(s.pixels.shape[2]) * column_spacing
    y = y0 + np.arange(s.pixels.shape[1]) * row_spacing
    z, y, x = np.meshgrid(s.z, y, x, indexing="ij")
    ras = np.stack([-x, -y, z, np.ones_like(z)], axis=-1)
    ijk = np.rint(ras @ np.linalg.inv(liver.affine).T)[..., :3].astype(int)
    inside = np.all((ijk >= 0) & (ijk < eroded.shape), axis=-1)
    mask = np.zeros(s.pixels.shape, bool)
    mask[inside] = eroded[tuple(ijk[inside].T)]
    return mask


def test_liver_label_encloses_the_liver_fat_fraction(clean):
    for row in ground_truth(clean):
        station = station_series(read_archive(clean / "archives" / row["archive"]), 2)
        mask = _liver_mask_on_station(label(clean, row, "liver"), station["F"])
        ff = fat_fraction(station["F"].pixels, station["W"].pixels)[mask]
        assert mask.sum() > 100
        assert ff.mean() == pytest.approx(float(row["liver_ff_image"]), abs=1.0)


@pytest.mark.parametrize("region, station", [("spine", 2), ("femoral_head", 4), ("total_hip", 4),
                                             ("diaphysis", 5)])
def test_marrow_labels_enclose_their_fat_fraction(clean, region, station):
    """The label sits on the region's marrow: its fat fraction is near the region's (9 mm voxels at this scale
    blur the marrow with its cortex, which only lowers it) and well above that of the voxels around it."""
    for row in ground_truth(clean):
        series = station_series(read_archive(clean / "archives" / row["archive"]), station)
        mask = zyx(label(clean, row, region)) > 0
        assert mask.shape == series["F"].pixels.shape and mask.sum() > 0
        ff = fat_fraction(series["F"].pixels, series["W"].pixels)
        ring = ndimage.binary_dilation(mask, iterations=2) & ~mask
        truth = float(row[f"bmff_{region}"])
        assert truth - 20 < ff[mask].mean() < truth + 2
        assert ff[mask].mean() > ff[ring].mean() + 10


@pytest.mark.parametrize("region, station", [("spine", 2), ("femoral_head", 4), ("diaphysis", 5)])
def test_station_label_affine_maps_voxel_zero_to_the_first_pixel(clean, region, station):
    row = ground_truth(clean)[0]
    s = station_series(read_archive(first_archive(clean)), station)["F"]
    affine = label(clean, row, region).affine
    x, y, z = map(float, s.header.ImagePositionPatient)
    assert affine[:3, 3] == pytest.approx([-x, -y, z], abs=1e-3)
    row_spacing, column_spacing = map(float, s.header.PixelSpacing)
    assert np.diag(affine)[:3] == pytest.approx([-column_spacing, -row_spacing, -float(s.header.SliceThickness)],
                                                abs=1e-4)


def test_liver_label_lies_on_the_fused_grid_from_station_1(clean):
    row = ground_truth(clean)[0]
    image = label(clean, row, "liver")
    station1 = read_archive(first_archive(clean))[1]
    assert image.shape == tuple(round(n * SCALE) for n in (224, 174, 370))
    assert image.affine[2, 3] == pytest.approx(station1.z[0], abs=1e-3)
    assert image.get_data_dtype() == np.uint8 and zyx(image).sum() > 0


# --- faults ---------------------------------------------------------------------------------------------

def test_repeated_station_keeps_the_correct_run_last(cohorts, clean):
    root, row = fault_cohort(cohorts, "repeated_station")
    series = read_archive(root / "archives" / row["archive"])
    assert len(series) == 28
    station = faulty_station(row)
    at_end = "repeated at the end of the examination" in row["fault_detail"]
    first = 4 * station - 1  # fat series of the wrong run, then of the correct one (after station 6 or right after)
    second = 27 if at_end else 4 * station + 3
    assert series[first].header.SeriesDescription == series[second].header.SeriesDescription
    reference = station_series(read_archive(first_archive(clean)), station)["F"]
    assert series[second].header.SeriesTime > series[first].header.SeriesTime
    if at_end:  # acquired after every other station
        assert series[second].header.AcquisitionTime > max(series[n].header.AcquisitionTime for n in range(1, 25))
    assert series[second].z == pytest.approx(reference.z)
    assert abs(series[first].z[0] - reference.z[0]) >= 40 or "swapped" in row["fault_detail"]


def test_water_in_fat_slot_stores_water_third(cohorts, clean):
    root, row = fault_cohort(cohorts, "water_in_fat_slot")
    station = faulty_station(row)
    faulty = read_archive(root / "archives" / row["archive"])
    third, fourth = faulty[4 * station - 1], faulty[4 * station]
    assert third.header.ImageType[-1] == "WATER" and third.header.SeriesDescription.endswith("_W")
    assert fourth.header.ImageType[-1] == "FAT"
    assert np.array_equal(third.pixels, station_series(read_archive(first_archive(clean)), station)["W"].pixels)


def test_missing_station_leaves_20_series(cohorts):
    root, row = fault_cohort(cohorts, "missing_station")
    series = read_archive(root / "archives" / row["archive"])
    assert sorted(series) == list(range(1, 21))
    slice_counts = sorted(len(s.z) for s in series.values())
    expected = sorted(spec.scaled(SCALE).slices for spec in STATIONS
                      if spec.number != faulty_station(row) for _ in SERIES_TYPES)
    assert slice_counts == expected


def test_water_fat_swap_inverts_the_fat_fraction_of_one_station(cohorts, clean):
    root, row = fault_cohort(cohorts, "water_fat_swap")
    station = faulty_station(row)
    faulty = station_series(read_archive(root / "archives" / row["archive"]), station)
    normal = station_series(read_archive(first_archive(clean)), station)
    body = normal["in"].pixels > 200
    ff_faulty = fat_fraction(faulty["F"].pixels, faulty["W"].pixels)[body]
    ff_normal = fat_fraction(normal["F"].pixels, normal["W"].pixels)[body]
    assert ff_faulty == pytest.approx(100 - ff_normal, abs=1.0)
    assert faulty["F"].header.ImageType[-1] == "FAT"


def test_noise_fault_raises_the_noise_in_its_stations(cohorts, clean):
    root, row = fault_cohort(cohorts, "noise")
    station = faulty_station(row)
    faulty = station_series(read_archive(root / "archives" / row["archive"]), station)["W"].pixels
    normal = station_series(read_archive(first_archive(clean)), station)["W"].pixels
    assert np.std(faulty - normal) > 20


def test_metal_fault_leaves_a_void_with_a_bright_rim(cohorts, clean):
    root, row = fault_cohort(cohorts, "metal")
    faulty = station_series(read_archive(root / "archives" / row["archive"]), 4)["in"].pixels
    normal = station_series(read_archive(first_archive(clean)), 4)["in"].pixels
    assert normal.max() < 1500 < faulty.max()
    assert ((normal > 300) & (faulty < 60)).sum() > 5


def test_region_outside_slab_crops_the_femoral_labels(cohorts, clean):
    root, row = fault_cohort(cohorts, "region_outside_slab")
    shares = re.findall(r"(femoral_head|total_hip|diaphysis) (\d+)% inside", row["fault_detail"])
    cropped = [region for region, share in shares if int(share) <= 75]
    assert cropped
    clean_row = ground_truth(clean)[0]
    for region in cropped:
        assert zyx(label(root, row, region)).sum() < zyx(label(clean, clean_row, region)).sum()


def test_forced_faults_are_recorded(cohorts):
    for code in DEFAULT_FAULT_RATES:
        _, row = fault_cohort(cohorts, code)
        assert row["faults"].split(";") == [code] and row["fault_detail"]


def test_unknown_fault_codes_are_rejected(tmp_path):
    with pytest.raises(ValueError):
        make_cohort(tmp_path / "x", 1, scale=SCALE, fault_rates={"gremlins": 0.5})


def test_progress_reports_every_archive(tmp_path):
    calls = []
    make_cohort(tmp_path / "p", 1, scale=0.1, fault_rates={}, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]
