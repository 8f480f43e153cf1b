"""Reading the fat and water series of each station from a stored archive.

The import index (series UID -> member names) lets the reader decompress only the files it needs (the fat
and water series: half the archive); without it every member's header is read to find them. Every slice's
own geometry is checked, so a corrupt station fails with the file named.

Uncompressed little-endian files (what UK Biobank delivers) take a fast path: the few header values needed
are read from pydicom's raw elements and the pixels straight from the pixel data, with pydicom's own
correction of unused high bits; every other transfer syntax goes through pydicom's conversions and
``pixel_array``. Slices are decoded into each station's preallocated float32 volume, head to foot.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement

from ml.ukb.archive import read_member

KINDS = ("F", "W")
UNCOMPRESSED_LITTLE_ENDIAN = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}


class ImagingError(Exception):
    """A scan that cannot be processed; the message says which station or file and why."""


@dataclass
class StationVolume:
    """Fat and water signal of one station on its own grid.

    ``fat`` and ``water`` are float32 (z, y, x) with slice 0 head-most; ``z`` holds the slice centres (mm,
    decreasing), ``x0``/``y0`` the first pixel centre and ``dx``/``dy`` the pixel spacing.
    """

    number: int
    fat: np.ndarray
    water: np.ndarray
    z: np.ndarray
    x0: float
    y0: float
    dx: float
    dy: float

    @property
    def x(self) -> np.ndarray:
        return self.x0 + self.dx * np.arange(self.fat.shape[2])

    @property
    def y(self) -> np.ndarray:
        return self.y0 + self.dy * np.arange(self.fat.shape[1])

    def affine_ras(self) -> np.ndarray:
        """NIfTI (x, y, z) index -> RAS mm; z steps downwards (slice 0 head-most)."""
        dz = (self.z[0] - self.z[-1]) / (len(self.z) - 1) if len(self.z) > 1 else 1.0
        return np.array([[-self.dx, 0, 0, -self.x0], [0, -self.dy, 0, -self.y0], [0, 0, -dz, self.z[0]],
                         [0, 0, 0, 1.0]])


class SliceHeader(NamedTuple):
    """The header values the reader needs from one file (defaults as DICOM gives them when absent)."""

    series_uid: str
    orientation: tuple[float, ...]
    position: tuple[float, ...]
    spacing: tuple[float, ...]  # (row spacing, column spacing) = (dy, dx)
    rows: int
    columns: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    samples: int
    frames: int
    slope: float
    intercept: float
    syntax: str

    @property
    def raw_pixels(self) -> bool:
        """Whether the pixel data can be read as it is stored: one 16-bit little-endian sample per pixel."""
        return self.syntax in UNCOMPRESSED_LITTLE_ENDIAN and self.bits_allocated == 16 and self.samples == 1 \
            and self.frames == 1 and self.pixel_representation in (0, 1)


class _Slice(NamedTuple):
    z: float
    pixels: np.ndarray  # stored values (rows, columns), before the rescale
    geometry: tuple  # (x0, y0, spacing, shape): every slice of a station has the same
    slope: float
    intercept: float


def _numbers(raw: bytes, _little: bool) -> tuple[float, ...]:
    return tuple(float(v) for v in raw.decode("ascii").split("\\"))


def _number(raw: bytes, _little: bool) -> float:
    return float(raw.decode("ascii"))


def _integer_string(raw: bytes, _little: bool) -> int:
    return int(raw.decode("ascii"))


def _unsigned_short(raw: bytes, little: bool) -> int:
    return int.from_bytes(raw[:2], "little" if little else "big")


def _uid(raw: bytes, _little: bool = True) -> str:
    return raw.rstrip(b"\x00 ").decode("ascii")


def _floats(value) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


# field -> (tag, parser of the raw value, converter of pydicom's value, default when absent or empty)
_HEADER = {
    "series_uid": (0x0020000E, _uid, str, None),
    "orientation": (0x00200037, _numbers, _floats, None),
    "position": (0x00200032, _numbers, _floats, None),
    "spacing": (0x00280030, _numbers, _floats, None),
    "rows": (0x00280010, _unsigned_short, int, None),
    "columns": (0x00280011, _unsigned_short, int, None),
    "bits_allocated": (0x00280100, _unsigned_short, int, None),
    "bits_stored": (0x00280101, _unsigned_short, int, None),
    "pixel_representation": (0x00280103, _unsigned_short, int, 0),
    "samples": (0x00280002, _unsigned_short, int, 1),
    "frames": (0x00280008, _integer_string, int, 1),
    "slope": (0x00281053, _number, float, 1.0),
    "intercept": (0x00281052, _number, float, 0.0),
}
PIXEL_DATA = 0x7FE00010
# What the reader asks pydicom for: the header values above and the pixel data. pydicom still walks every
# element's header, but keeps (and allocates) only these: about a quarter of its time per file.
READ_TAGS = [tag for tag, *_ in _HEADER.values()] + [PIXEL_DATA]
_REQUIRED = {"series_uid": "SeriesInstanceUID", "orientation": "ImageOrientationPatient",
             "position": "ImagePositionPatient", "spacing": "PixelSpacing", "rows": "Rows", "columns": "Columns",
             "bits_allocated": "BitsAllocated"}


def read_header(dataset: pydicom.Dataset) -> SliceHeader:
    """The reader's header values of ``dataset``, the same as converting pydicom's values
    (``float(v) for v in dataset.ImagePositionPatient``, ...). A value pydicom has not converted yet is
    parsed from its raw bytes: pydicom's conversion of each element costs more than the rest of the read."""
    values = {name: _header_value(dataset, tag, parse, convert, default)
              for name, (tag, parse, convert, default) in _HEADER.items()}
    missing = [keyword for name, keyword in _REQUIRED.items() if values[name] is None]
    if missing:
        raise ValueError(f"no {', '.join(missing)}")
    if (len(values["orientation"]), len(values["position"]), len(values["spacing"])) != (6, 3, 2):
        raise ValueError("ImageOrientationPatient, ImagePositionPatient or PixelSpacing has the wrong length")
    if values["bits_stored"] is None:
        values["bits_stored"] = values["bits_allocated"]
    values["slope"] = values["slope"] or 1.0  # an empty or zero slope means none, as before
    meta = getattr(dataset, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    return SliceHeader(**values, syntax=syntax)


def _header_value(dataset: pydicom.Dataset, tag: int, parse, convert, default):
    element = dataset.get_item(tag)
    if element is None:
        return default
    if isinstance(element, RawDataElement):
        return parse(element.value, element.is_little_endian) if element.value else default
    value = element.value
    return default if value is None or value == "" else convert(value)


def stored_pixels(dataset: pydicom.Dataset, header: SliceHeader) -> np.ndarray:
    """The stored values of the image as pydicom's ``pixel_array`` gives them (before the rescale).

    16-bit little-endian pixel data is viewed in place, with pydicom's correction of unused high bits
    (values are the low ``BitsStored`` bits, sign-extended for signed data); anything else is decoded by
    ``pixel_array``."""
    if not header.raw_pixels:
        return dataset.pixel_array
    element = dataset.get_item(PIXEL_DATA)
    data = element.value if element is not None else None
    if not data:
        raise ValueError("no pixel data")
    dtype = "<i2" if header.pixel_representation else "<u2"
    pixels = np.frombuffer(data, dtype=dtype, count=header.rows * header.columns)
    pixels = pixels.reshape(header.rows, header.columns)
    if header.bits_stored < 16:
        shift = 16 - header.bits_stored
        pixels = np.left_shift(pixels, shift)
        np.right_shift(pixels, shift, out=pixels)
    return pixels


def load_stations(archive: str | Path, stations: dict, index: dict[str, list[str]] | None = None
                  ) -> dict[int, StationVolume]:
    """Fat and water of every station in ``stations`` (a scan inventory: number -> type -> series summary)."""
    wanted = {by_type[kind]["series_uid"]: (int(number), kind)
              for number, by_type in stations.items() for kind in KINDS if kind in by_type}
    slices: dict[tuple[int, str], list[_Slice]] = {key: [] for key in wanted.values()}
    with zipfile.ZipFile(archive) as zipped, open(archive, "rb") as handle:
        for member, expected in _members(zipped, wanted, index):
            where = f"station {expected[0]} {expected[1]}: {member}" if expected else member
            try:
                data = read_member(zipped, zipped.getinfo(member), handle)
                dataset = pydicom.dcmread(io.BytesIO(data), specific_tags=READ_TAGS)
                key = wanted.get(_series_uid(dataset))
                header = read_header(dataset) if key is not None else None
            except Exception as exc:  # a damaged file in a stored archive: name it
                raise ImagingError(f"{where} cannot be read ({type(exc).__name__}: {exc})") from None
            if expected and key != expected:
                raise ImagingError(f"{where} belongs to another series than the import recorded")
            if key is not None:
                slices[key].append(_slice(dataset, header, member, key, data))
    return {number: _station(number, slices[(number, "F")], slices[(number, "W")])
            for number in sorted({n for n, _ in wanted.values()})
            if (number, "F") in slices and (number, "W") in slices}


def _series_uid(dataset: pydicom.Dataset) -> str | None:
    return _header_value(dataset, *_HEADER["series_uid"])


def _members(zipped: zipfile.ZipFile, wanted: dict, index: dict[str, list[str]] | None):
    """(member, (station, kind)) pairs to read: from the import's index when it has every series wanted,
    else every file in the archive with the series still unknown."""
    if index and all(uid in index for uid in wanted):
        return [(member, key) for uid, key in wanted.items() for member in index[uid]]
    return [(name, None) for name in zipped.namelist() if not name.lower().startswith("manifest")]


def _slice(dataset: pydicom.Dataset, header: SliceHeader, member: str, key: tuple[int, str], data: bytes) -> _Slice:
    orientation = tuple(round(v, 3) for v in header.orientation)
    if orientation != (1, 0, 0, 0, 1, 0):
        raise ImagingError(f"station {key[0]} {key[1]}: {member} is not an axial slice ({orientation})")
    try:
        # pixel_array needs more of the header than READ_TAGS: other transfer syntaxes are read again in full
        pixels = stored_pixels(dataset if header.raw_pixels else pydicom.dcmread(io.BytesIO(data)), header)
    except Exception as exc:  # pydicom raises several types for damaged pixel data
        raise ImagingError(f"station {key[0]} {key[1]}: {member} has unreadable pixel data ({exc})") from None
    x0, y0, z = header.position
    return _Slice(z, pixels, (x0, y0, header.spacing, pixels.shape), header.slope, header.intercept)


def _station(number: int, fat: list[_Slice], water: list[_Slice]) -> StationVolume:
    for kind, slices in (("fat", fat), ("water", water)):
        if len({s.geometry for s in slices}) != 1:
            raise ImagingError(f"station {number}: {kind} slices differ in position, spacing or size")
    if fat[0].geometry != water[0].geometry:
        raise ImagingError(f"station {number}: fat and water series differ in position, spacing or size")
    fat.sort(key=lambda s: -s.z)
    water.sort(key=lambda s: -s.z)
    z_fat = np.array([s.z for s in fat])
    z_water = np.array([s.z for s in water])
    if z_fat.shape != z_water.shape or not np.allclose(z_fat, z_water, atol=0.01):
        raise ImagingError(f"station {number}: fat and water slices are not at the same positions "
                           f"({len(z_fat)} and {len(z_water)} slices)")
    if len(z_fat) > 1 and np.min(-np.diff(z_fat)) <= 0:
        raise ImagingError(f"station {number}: two slices at the same position")
    x0, y0, (dy, dx), _ = fat[0].geometry
    return StationVolume(number, rescaled_volume(fat), rescaled_volume(water), z_fat, x0, y0, dx, dy)


def rescaled_volume(slices: list[_Slice]) -> np.ndarray:
    """Stored values times the rescale slope plus intercept, float32 (z, y, x), filled slice by slice into
    one array (no per-slice float copies to stack). Same arithmetic as float32(stored) * slope + intercept."""
    volume = np.empty((len(slices), *slices[0].pixels.shape), np.float32)
    for plane, piece in zip(volume, slices, strict=True):
        plane[...] = piece.pixels
        if piece.slope != 1 or piece.intercept != 0:
            plane *= piece.slope
            plane += piece.intercept
    return volume
