"""Series and station assignment for the neck-to-knee Dixon protocol.

Stations are recognised by scale-free geometry: the in-plane field of view (rows x row spacing) and the
head-foot extent (slices x slice step) in millimetres. That tells station 1, stations 2-4, station 5 and
station 6 apart; stations 2-4 share one geometry and are told apart by their position along z relative
to the stations that could be identified, using the nominal layout in ``protocol``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

import numpy as np

from . import protocol

TYPE_BY_IMAGE_TYPE = {flag: kind for kind, flag in protocol.IMAGE_TYPE_FLAGS.items()}
TYPE_BY_SUFFIX = {kind.lower(): kind for kind in protocol.SERIES_TYPES}
GEOMETRY_TOLERANCE = 0.08  # summed relative differences of field of view and extent


@dataclass(frozen=True)
class SliceGeometry:
    """In-plane geometry that every slice of a series shares (read once per file, compared cheaply)."""

    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    orientation: tuple[float, ...]

    @classmethod
    def from_dataset(cls, ds) -> "SliceGeometry":
        return cls(int(ds.Rows), int(ds.Columns), tuple(round(float(v), 4) for v in ds.PixelSpacing),
                   tuple(round(float(v), 4) for v in ds.ImageOrientationPatient))


@dataclass
class SeriesInfo:
    """One DICOM series: header facts and its slices (member name and z), sorted head to foot."""

    series_uid: str
    series_number: int
    description: str
    image_type: tuple[str, ...]
    geometry: SliceGeometry
    slice_thickness: float
    acquisition_time: str
    slices: list = field(default_factory=list)
    series_type: str | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_dataset(cls, ds, geometry: SliceGeometry) -> "SeriesInfo":
        return cls(
            series_uid=str(ds.SeriesInstanceUID),
            series_number=int(getattr(ds, "SeriesNumber", 0) or 0),
            description=str(getattr(ds, "SeriesDescription", "")),
            image_type=tuple(str(v).upper() for v in getattr(ds, "ImageType", ())),
            geometry=geometry,
            slice_thickness=float(getattr(ds, "SliceThickness", 0) or 0),
            acquisition_time=str(getattr(ds, "AcquisitionTime", "") or getattr(ds, "SeriesTime", "")),
        )

    @property
    def rows(self) -> int:
        return self.geometry.rows

    @property
    def columns(self) -> int:
        return self.geometry.columns

    @property
    def pixel_spacing(self) -> tuple[float, float]:
        return self.geometry.pixel_spacing

    def finish(self) -> None:
        """Sort slices head to foot, type the series and note problems; call once all slices are in."""
        self.slices.sort(key=lambda s: -s.z)
        positions = np.array([s.z for s in self.slices])
        if len(positions) > 1 and np.min(-np.diff(positions)) < 1e-3:
            self.problems.append(f"series {self.series_number} has slices at the same position")
        self.series_type = self._classify()

    def _classify(self) -> str | None:
        by_flag = next((TYPE_BY_IMAGE_TYPE[v] for v in self.image_type if v in TYPE_BY_IMAGE_TYPE), None)
        suffix = self.description.rsplit("_", 1)[-1].lower() if "_" in self.description else ""
        by_description = TYPE_BY_SUFFIX.get(suffix) if "dixon" in self.description.lower() else None
        if by_flag and by_description and by_flag != by_description:
            self.problems.append(f"series {self.series_number}: description {self.description!r} disagrees "
                                 f"with ImageType {'/'.join(self.image_type)}; ImageType used")
        return by_flag or by_description

    @property
    def z_top(self) -> float:
        return self.slices[0].z

    @property
    def z_bottom(self) -> float:
        return self.slices[-1].z

    @property
    def slice_step(self) -> float:
        if len(self.slices) > 1:
            return (self.z_top - self.z_bottom) / (len(self.slices) - 1)
        return self.slice_thickness

    def geometry_key(self) -> tuple:
        return (self.geometry, len(self.slices), round(self.z_top, 1), round(self.z_bottom, 1))

    def summary(self) -> dict:
        return {
            "series_number": self.series_number, "series_uid": self.series_uid, "description": self.description,
            "image_type": list(self.image_type), "rows": self.rows, "columns": self.columns,
            "slices": len(self.slices), "pixel_spacing": list(self.pixel_spacing),
            "slice_thickness": self.slice_thickness, "slice_step": round(self.slice_step, 4),
            "z_top": round(self.z_top, 3), "z_bottom": round(self.z_bottom, 3),
            "acquisition_time": self.acquisition_time,
        }


@dataclass
class Acquisition:
    """The series acquired together at one table position (normally in, opp, F and W)."""

    series: list[SeriesInfo]

    @property
    def first(self) -> SeriesInfo:
        return self.series[0]

    @property
    def order_key(self) -> tuple:
        """Later acquisitions sort last: by acquisition time, then by series number."""
        return (max(s.acquisition_time for s in self.series), max(s.series_number for s in self.series))

    @property
    def fov_mm(self) -> float:
        return self.first.rows * self.first.pixel_spacing[0]

    @property
    def extent_mm(self) -> float:
        return len(self.first.slices) * self.first.slice_step

    def geometry_distance(self, spec: protocol.StationSpec) -> float:
        nominal_fov = spec.rows * protocol.IN_PLANE_SPACING_MM
        return abs(self.fov_mm - nominal_fov) / nominal_fov + abs(self.extent_mm - spec.extent_mm) / spec.extent_mm

    def label(self) -> str:
        numbers = sorted(s.series_number for s in self.series)
        return f"series {numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else f"series {numbers[0]}"


@dataclass
class Deviation:
    """A departure from the protocol, kept on the scan for raters to see."""

    code: str
    message: str
    station: int | None = None


Report = Callable[[Deviation], None]


def assign_stations(acquisitions: list[Acquisition], report: Report) -> dict[int, dict[str, SeriesInfo]]:
    """Station number -> series type -> the series kept; deviations go to ``report``."""
    candidates = {id(a): _geometry_candidates(a) for a in acquisitions}
    top_of_station_1 = _estimate_top_of_station_1(acquisitions, candidates)
    nominal_tops = protocol.nominal_station_tops_mm(top_of_station_1)
    by_station: dict[int, list[Acquisition]] = {}
    for acquisition in acquisitions:
        options = candidates[id(acquisition)]
        if len(options) == len(protocol.STATIONS):
            report(Deviation("station_geometry", f"{acquisition.label()}: geometry matches no station "
                                                 f"({acquisition.fov_mm:.0f} mm field of view, "
                                                 f"{acquisition.extent_mm:.0f} mm extent)"))
        number = min(options, key=lambda n: abs(acquisition.first.z_top - nominal_tops[n]))
        by_station.setdefault(number, []).append(acquisition)
    stations = {}
    for number in sorted(by_station):
        kept = _keep_latest(number, by_station[number], report)
        stations[number] = _series_by_type(number, kept, report)
    for spec in protocol.STATIONS:
        if spec.number not in stations:
            report(Deviation("missing_station", f"station {spec.number} is missing", station=spec.number))
    _check_station_order(stations, report)
    return stations


def _geometry_candidates(acquisition: Acquisition) -> list[int]:
    distances = {spec.number: acquisition.geometry_distance(spec) for spec in protocol.STATIONS}
    best = min(distances.values())
    if best > GEOMETRY_TOLERANCE:
        return [spec.number for spec in protocol.STATIONS]
    return [n for n, d in distances.items() if d <= best + 1e-6 or d < best * 1.05]


def _estimate_top_of_station_1(acquisitions: list[Acquisition], candidates: dict) -> float:
    """Where station 1 starts, from the acquisitions whose geometry names their station uniquely."""
    offsets = protocol.nominal_station_tops_mm(0.0)
    anchors = [a.first.z_top - offsets[candidates[id(a)][0]] for a in acquisitions if len(candidates[id(a)]) == 1]
    if anchors:
        return median(anchors)
    highest = max(acquisitions, key=lambda a: a.first.z_top)
    return highest.first.z_top - offsets[min(candidates[id(highest)])]


def _keep_latest(number: int, acquisitions: list[Acquisition], report: Report) -> Acquisition:
    ordered = sorted(acquisitions, key=lambda a: a.order_key)
    kept = ordered[-1]
    if len(ordered) > 1:
        dropped = ", ".join(a.label() for a in ordered[:-1])
        report(Deviation("repeated_station", f"station {number} acquired {len(ordered)} times: kept "
                                             f"{kept.label()}, ignored {dropped}", station=number))
    return kept


def _series_by_type(number: int, acquisition: Acquisition, report: Report) -> dict[str, SeriesInfo]:
    by_type: dict[str, SeriesInfo] = {}
    for series in acquisition.series:  # sorted by series number: a later duplicate replaces an earlier one
        if series.series_type in by_type:
            report(Deviation("duplicate_series", f"station {number}: two {series.series_type} series; kept "
                                                 f"series {series.series_number}", station=number))
        by_type[series.series_type] = series
    missing = [t for t in protocol.SERIES_TYPES if t not in by_type]
    if missing:
        names = ", ".join(protocol.SERIES_TYPE_NAMES[t] for t in missing)
        report(Deviation("incomplete_station", f"station {number} lacks {names}", station=number))
    order = [s.series_type for s in sorted(by_type.values(), key=lambda s: s.series_number)]
    expected = [t for t in protocol.SERIES_TYPES if t in by_type]
    if order != expected:
        fat_slot = order[2] if len(order) > 2 else None
        if fat_slot == "W" and "F" in order:
            report(Deviation("water_in_fat_slot", f"station {number}: water series "
                                                  f"{by_type['W'].series_number} stored where fat is expected",
                             station=number))
        else:
            report(Deviation("series_order", f"station {number}: series in order {'/'.join(order)}", station=number))
    return by_type


def _check_station_order(stations: dict[int, dict[str, SeriesInfo]], report: Report) -> None:
    firsts = [min(s.series_number for s in by_type.values()) for _, by_type in sorted(stations.items())]
    if firsts != sorted(firsts):
        report(Deviation("series_order", "stations are not numbered head to foot"))
