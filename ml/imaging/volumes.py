"""Reading the fat and water series of each station from a stored archive.

The import index (series UID -> member names) lets the reader decompress only the files it needs; without
it every member's header is read to find them. Every slice's own geometry is checked, so a corrupt
station fails with the file named.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom

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


def load_stations(archive: str | Path, stations: dict, index: dict[str, list[str]] | None = None
                  ) -> dict[int, StationVolume]:
    """Fat and water of every station in ``stations`` (a scan inventory: number -> type -> series summary)."""
    wanted = {by_type[kind]["series_uid"]: (int(number), kind)
              for number, by_type in stations.items() for kind in KINDS if kind in by_type}
    slices: dict[tuple[int, str], list[tuple[float, np.ndarray, tuple]]] = {key: [] for key in wanted.values()}
    with zipfile.ZipFile(archive) as zipped:
        for member, expected in _members(zipped, wanted, index):
            where = f"station {expected[0]} {expected[1]}: {member}" if expected else member
            try:
                dataset = pydicom.dcmread(io.BytesIO(zipped.read(member)))
                key = wanted.get(str(dataset.SeriesInstanceUID))
            except Exception as exc:  # a damaged file in a stored archive: name it
                raise ImagingError(f"{where} cannot be read ({type(exc).__name__}: {exc})") from None
            if expected and key != expected:
                raise ImagingError(f"{where} belongs to another series than the import recorded")
            if key is not None:
                slices[key].append(_slice(dataset, member, key))
    return {number: _station(number, slices[(number, "F")], slices[(number, "W")])
            for number in sorted({n for n, _ in wanted.values()})
            if (number, "F") in slices and (number, "W") in slices}


def _members(zipped: zipfile.ZipFile, wanted: dict, index: dict[str, list[str]] | None):
    """(member, (station, kind)) pairs to read: from the import's index when it has every series wanted,
    else every file in the archive with the series still unknown."""
    if index and all(uid in index for uid in wanted):
        return [(member, key) for uid, key in wanted.items() for member in index[uid]]
    return [(name, None) for name in zipped.namelist() if not name.lower().startswith("manifest")]


def _slice(dataset, member: str, key: tuple[int, str]) -> tuple[float, np.ndarray, tuple]:
    orientation = tuple(round(float(v), 3) for v in dataset.ImageOrientationPatient)
    if orientation != (1, 0, 0, 0, 1, 0):
        raise ImagingError(f"station {key[0]} {key[1]}: {member} is not an axial slice ({orientation})")
    position = [float(v) for v in dataset.ImagePositionPatient]
    spacing = tuple(float(v) for v in dataset.PixelSpacing)
    try:
        pixels = _pixels(dataset)
    except Exception as exc:  # pydicom raises several types for damaged pixel data
        raise ImagingError(f"station {key[0]} {key[1]}: {member} has unreadable pixel data ({exc})") from None
    return position[2], pixels, (position[0], position[1], spacing, pixels.shape)


def _pixels(dataset) -> np.ndarray:
    """Stored values times the rescale slope plus intercept, as float32.

    Uncompressed 16-bit little-endian images (the UK Biobank Dixon series) are read straight from the
    pixel data; anything else goes through pydicom's pixel handlers.
    """
    syntax = str(dataset.file_meta.get("TransferSyntaxUID", ""))
    rows, columns = int(dataset.Rows), int(dataset.Columns)
    if syntax in UNCOMPRESSED_LITTLE_ENDIAN and int(dataset.BitsAllocated) == 16 \
            and int(dataset.get("SamplesPerPixel", 1)) == 1:
        dtype = "<i2" if int(dataset.get("PixelRepresentation", 0)) else "<u2"
        pixels = np.frombuffer(dataset.PixelData, dtype=dtype, count=rows * columns).reshape(rows, columns)
    else:
        pixels = dataset.pixel_array
    pixels = pixels.astype(np.float32)
    slope = float(dataset.get("RescaleSlope", 1) or 1)
    intercept = float(dataset.get("RescaleIntercept", 0) or 0)
    if slope != 1 or intercept != 0:
        pixels = pixels * slope + intercept
    return pixels


def _station(number: int, fat: list, water: list) -> StationVolume:
    for kind, slices in (("fat", fat), ("water", water)):
        if len({geometry for _, _, geometry in slices}) != 1:
            raise ImagingError(f"station {number}: {kind} slices differ in position, spacing or size")
    if fat and water and fat[0][2] != water[0][2]:
        raise ImagingError(f"station {number}: fat and water series differ in position, spacing or size")
    fat.sort(key=lambda s: -s[0])
    water.sort(key=lambda s: -s[0])
    z_fat = np.array([s[0] for s in fat])
    z_water = np.array([s[0] for s in water])
    if z_fat.shape != z_water.shape or not np.allclose(z_fat, z_water, atol=0.01):
        raise ImagingError(f"station {number}: fat and water slices are not at the same positions "
                           f"({len(z_fat)} and {len(z_water)} slices)")
    if len(z_fat) > 1 and np.min(-np.diff(z_fat)) <= 0:
        raise ImagingError(f"station {number}: two slices at the same position")
    x0, y0, (dy, dx), _ = fat[0][2]
    return StationVolume(number, np.stack([s[1] for s in fat]), np.stack([s[1] for s in water]), z_fat,
                         x0, y0, dx, dy)
