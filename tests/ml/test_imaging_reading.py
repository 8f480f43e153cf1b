"""The station reader's fast path against pydicom's own reading, on pydicom's test files and a synthetic archive.

UK Biobank's Dixon DICOMs are uncompressed Explicit VR Little Endian, 16 bits allocated (12 stored): the reader
takes their header values from pydicom's raw elements and views the pixel data as it is stored. Every other
file must give what pydicom gives: ``pixel_array`` for big-endian and compressed pixel data, pydicom's value
conversions for the header. The pydicom files cited are shipped with pydicom (``pydicom.data``).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pydicom
import pytest
from isal import isal_zlib
from pydicom.data import get_testdata_file
from pydicom.uid import RLELossless

from ml.imaging.volumes import _Slice, load_stations, read_header, rescaled_volume, stored_pixels
from ml.synthetic import make_cohort
from ml.ukb.archive import read_member
from ml.ukb.inventory import inventory_archive

RAW = ["MR_small.dcm", "CT_small.dcm", "MR_small_implicit.dcm", "MR_small_padded.dcm"]  # 16-bit little endian
FALLBACK = ["MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm"]


def pydicom_file(name: str) -> pydicom.Dataset:
    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"{name} is not shipped with this pydicom")
    return pydicom.dcmread(path)


def reference_header(dataset: pydicom.Dataset) -> dict:
    """The values as the reader read them before its fast path: pydicom's attributes, converted."""
    return {
        "series_uid": str(dataset.SeriesInstanceUID),
        "orientation": tuple(float(v) for v in dataset.ImageOrientationPatient),
        "position": tuple(float(v) for v in dataset.ImagePositionPatient),
        "spacing": tuple(float(v) for v in dataset.PixelSpacing),
        "rows": int(dataset.Rows), "columns": int(dataset.Columns),
        "bits_allocated": int(dataset.BitsAllocated), "bits_stored": int(dataset.BitsStored),
        "pixel_representation": int(dataset.get("PixelRepresentation", 0)),
        "slope": float(dataset.get("RescaleSlope", 1) or 1),
        "intercept": float(dataset.get("RescaleIntercept", 0) or 0),
    }


def resaved(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """``dataset`` written and read back, so that its elements are raw again, as after dcmread."""
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("name", RAW + FALLBACK)
def test_header_values_are_pydicoms_for_every_transfer_syntax(name):
    expected = reference_header(pydicom_file(name))
    raw = read_header(pydicom_file(name))  # parsed from the raw elements
    converted = pydicom_file(name)
    reference_header(converted)  # now pydicom has converted them: read from its values
    for header in (raw, read_header(converted)):
        assert {key: getattr(header, key) for key in expected} == expected


@pytest.mark.filterwarnings("ignore:The pixel data is")  # MR_small_padded.dcm: pydicom drops its padding too
@pytest.mark.parametrize("name", RAW)
def test_uncompressed_little_endian_pixels_are_viewed_and_equal_pixel_array(name):
    dataset = pydicom_file(name)
    header = read_header(dataset)
    assert header.raw_pixels
    pixels = stored_pixels(dataset, header)
    expected = pydicom_file(name).pixel_array
    assert pixels.dtype == expected.dtype and np.array_equal(pixels, expected)


@pytest.mark.parametrize("name", FALLBACK)
def test_big_endian_and_compressed_pixels_go_through_pixel_array(name):
    dataset = pydicom_file(name)
    header = read_header(dataset)
    assert not header.raw_pixels
    try:
        expected = pydicom_file(name).pixel_array
    except Exception as exc:  # no decoder installed for this syntax: nothing to compare with
        pytest.skip(f"pydicom cannot decode {name} here ({exc})")
    assert np.array_equal(stored_pixels(dataset, header), expected)


def test_multi_frame_and_32_bit_images_go_through_pixel_array():
    dataset = pydicom_file("rtdose.dcm")  # implicit little endian, 32 bits, 15 frames
    header = read_header(dataset)
    assert not header.raw_pixels
    assert np.array_equal(stored_pixels(dataset, header), pydicom_file("rtdose.dcm").pixel_array)


@pytest.mark.parametrize("signed", [0, 1])
def test_unused_high_bits_are_corrected_as_pixel_array_corrects_them(signed):
    dataset = pydicom_file("MR_small.dcm")
    stored = np.frombuffer(dataset.PixelData, "<u2").copy()
    stored[::3] |= 0xF000  # garbage above bit 11, as overlay bits in old files
    stored[1::3] |= 0x0800  # the sign bit of a 12-bit value
    dataset.PixelData = stored.tobytes()
    dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 12, 11, signed
    again = resaved(dataset)
    header = read_header(again)
    assert header.raw_pixels and header.bits_stored == 12
    expected = resaved(dataset).pixel_array
    assert np.array_equal(stored_pixels(again, header), expected)
    assert expected.min() < 0 if signed else expected.max() < 4096


def test_truncated_pixel_data_is_an_error_as_in_pydicom():
    dataset = pydicom_file("MR_small.dcm")
    dataset.PixelData = dataset.PixelData[:-100]
    again = resaved(dataset)
    with pytest.raises(ValueError):
        _ = resaved(dataset).pixel_array
    with pytest.raises(ValueError):
        stored_pixels(again, read_header(again))


def test_rescale_is_float32_stored_times_slope_plus_intercept():
    dataset = pydicom_file("CT_small.dcm")  # slope 1, intercept -1024
    dataset.RescaleSlope = "0.75"
    again = resaved(dataset)
    header = read_header(again)
    pixels = stored_pixels(again, header)
    volume = rescaled_volume([_Slice(0.0, pixels, (), header.slope, header.intercept)] * 2)
    expected = again.pixel_array.astype(np.float32) * 0.75 + -1024.0
    assert volume.dtype == np.float32 and np.array_equal(volume[0], expected) and np.array_equal(volume[1], expected)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("reading")
    make_cohort(root, 1, seed=5, scale=0.25, repeat_fraction=0.0)
    path = next((root / "archives").glob("*.zip"))
    return path, inventory_archive(path)


def test_the_index_path_reads_the_same_stations_as_reading_every_header(archive):
    path, inventory = archive
    stations = inventory.stations_json()["stations"]
    by_index, by_headers = load_stations(path, stations, inventory.series_members()), load_stations(path, stations)
    assert sorted(by_index) == sorted(by_headers) == [1, 2, 3, 4, 5, 6]
    for number, station in by_index.items():
        other = by_headers[number]
        assert np.array_equal(station.fat, other.fat) and np.array_equal(station.water, other.water)
        assert np.array_equal(station.z, other.z) and station.fat.dtype == np.float32


def test_stations_hold_the_pixels_pydicom_decodes_head_to_foot(archive):
    path, inventory = archive
    volumes = load_stations(path, inventory.stations_json()["stations"], inventory.series_members())
    series = inventory.stations[4]["F"]
    with zipfile.ZipFile(path) as zipped:
        slices = [pydicom.dcmread(io.BytesIO(zipped.read(s.member))) for s in series.slices]
    slices.sort(key=lambda d: -float(d.ImagePositionPatient[2]))
    expected = np.stack([d.pixel_array.astype(np.float32) for d in slices])
    assert np.array_equal(volumes[4].fat, expected)


def test_a_station_stored_rle_compressed_reads_as_the_uncompressed_one(archive, tmp_path):
    path, inventory = archive
    stations, index = inventory.stations_json()["stations"], inventory.series_members()
    members = {member for kind in ("F", "W") for member in index[stations["2"][kind]["series_uid"]]}
    compressed = tmp_path / path.name
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in members:
                dataset = pydicom.dcmread(io.BytesIO(data))
                dataset.compress(RLELossless)
                buffer = io.BytesIO()
                dataset.save_as(buffer)
                data = buffer.getvalue()
            target.writestr(info.filename, data)
    plain, rle = load_stations(path, stations, index), load_stations(compressed, stations, index)
    for number in plain:
        assert np.array_equal(plain[number].fat, rle[number].fat)
        assert np.array_equal(plain[number].water, rle[number].water)


def test_members_inflated_by_isal_are_zipfiles_bytes_and_a_bad_crc_is_refused(archive, tmp_path):
    path, _ = archive
    with zipfile.ZipFile(path) as zipped, open(path, "rb") as handle:
        infos = zipped.infolist()
        assert all(read_member(zipped, info, handle) == zipped.read(info) for info in infos)
    damaged = tmp_path / path.name
    data = bytearray(path.read_bytes())
    victim = infos[3]
    with zipfile.ZipFile(path) as zipped:
        offset = victim.header_offset + 30 + len(victim.filename.encode()) + len(victim.extra)
    data[offset + victim.compress_size // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with zipfile.ZipFile(damaged) as zipped, open(damaged, "rb") as handle:
        with pytest.raises((zipfile.BadZipFile, isal_zlib.error)):  # as zipfile raises BadZipFile or zlib.error
            read_member(zipped, zipped.getinfo(victim.filename), handle)
