"""The UK Biobank neck-to-knee Dixon protocol (field 20201) as constants.

Coordinates follow DICOM patient space (LPS): x grows to the patient's left, y to posterior and z to the
head. The six stations are axial slabs acquired from the neck (station 1) down to the knees (station 6);
neighbouring stations overlap by a few centimetres.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELD_ID = 20201
IMAGING_INSTANCES = (2, 3)  # 2 = first imaging visit, 3 = repeat imaging visit
FIRST_IMAGING_INSTANCE = 2
REPEAT_IMAGING_INSTANCE = 3
IN_PLANE_SPACING_MM = 2.232

# The four Dixon series of every station, in the order the scanner numbers them.
SERIES_TYPES = ("in", "opp", "F", "W")
SERIES_TYPE_NAMES = {"in": "in-phase", "opp": "opposed-phase", "F": "fat", "W": "water"}
# ImageType value (last element) that Siemens writes for each Dixon series type.
IMAGE_TYPE_FLAGS = {"in": "IN_PHASE", "opp": "OPP_PHASE", "F": "FAT", "W": "WATER"}


@dataclass(frozen=True)
class StationSpec:
    """Nominal geometry of one station: matrix (columns x rows), slice count and slice thickness."""

    number: int
    columns: int
    rows: int
    slices: int
    slice_thickness_mm: float
    description_prefix: str

    @property
    def extent_mm(self) -> float:
        """Head-foot coverage of the station in millimetres."""
        return self.slices * self.slice_thickness_mm

    def scaled(self, scale: float) -> StationSpec:
        """The same field of view sampled with ``scale`` times as many voxels along every axis."""
        if scale == 1:
            return self
        return StationSpec(
            number=self.number,
            columns=max(4, round(self.columns * scale)),
            rows=max(4, round(self.rows * scale)),
            slices=max(4, round(self.slices * scale)),
            slice_thickness_mm=self.extent_mm / max(4, round(self.slices * scale)),
            description_prefix=self.description_prefix,
        )


STATIONS: tuple[StationSpec, ...] = (
    StationSpec(1, 224, 168, 64, 3.0, "Dixon_BH_17s"),
    StationSpec(2, 224, 174, 44, 4.5, "Dixon_BH_17s"),
    StationSpec(3, 224, 174, 44, 4.5, "Dixon_BH_17s"),
    StationSpec(4, 224, 174, 44, 4.5, "Dixon_BH_17s"),
    StationSpec(5, 224, 162, 72, 3.5, "Dixon_noBH"),
    StationSpec(6, 224, 156, 64, 4.0, "Dixon_noBH"),
)
STATION_BY_NUMBER = {s.number: s for s in STATIONS}
EXPECTED_SERIES = len(STATIONS) * len(SERIES_TYPES)  # 24

# Overlap between neighbouring stations: the fused volume covers 370 slices of 3 mm = 1110 mm, while the
# stations together cover 1294 mm, so each of the five junctions overlaps by about 37 mm.
STATION_OVERLAP_MM = 36.8

# The fused grid of the liver fat paper: 2.232 x 2.232 x 3.0 mm with 370 x 224 x 174 voxels, listed here
# as (z, x, y) = (slices, columns, rows).
FUSED_SPACING_MM = (3.0, IN_PLANE_SPACING_MM, IN_PLANE_SPACING_MM)
FUSED_SHAPE = (370, 224, 174)


def series_description(station: StationSpec, series_type: str) -> str:
    """Series description as the scanner writes it, e.g. ``Dixon_BH_17s_W``."""
    return f"{station.description_prefix}_{series_type}"


def nominal_station_tops_mm(top_of_station_1: float = 0.0) -> dict[int, float]:
    """Head-most z of every station when the first station starts at ``top_of_station_1``."""
    tops, z = {}, top_of_station_1
    for spec in STATIONS:
        tops[spec.number] = z
        z -= spec.extent_mm - STATION_OVERLAP_MM
    return tops
