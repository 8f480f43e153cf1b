"""Series and station assignment for the neck-to-knee Dixon protocol.

Stations are recognised by scale-free geometry: the in-plane field of view (rows x row spacing) and the
head-foot extent (slices x slice step) in millimetres. That tells station 1, stations 2-4, station 5 and
station 6 apart; stations 2-4 share one geometry and are told apart by their position along z: the
nominal layout in ``protocol`` is fitted to all acquisitions (``station_layout``). The acquisition order
is not station order (a repeat may come at the end of the examination); of each station the latest
acquisition is kept and the earlier ones are recorded as a ``repeated_station`` deviation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import protocol, station_layout

TYPE_BY_IMAGE_TYPE = {flag: kind for kind, flag in protocol.IMAGE_TYPE_FLAGS.items()}
TYPE_BY_SUFFIX = {kind.lower(): kind for kind in protocol.SERIES_TYPES}
GEOMETRY_TOLERANCE = 0.08  # summed relative differences of field of view and extent
SAME_POSITION_MM = 5.0  # a repeat closer than this to the kept acquisition was taken at the same position


@dataclass(frozen=True)
class SliceGeometry:
    """In-plane geometry that every slice of a series shares (read once per file, compared cheaply)."""

    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    orientation: tuple[float, ...]

    @classmethod
    def from_dataset(cls, ds) -> SliceGeometry:
        """Raises ValueError (or TypeError) when the header values are not what DICOM prescribes."""
        spacing = tuple(round(float(v), 4) for v in ds.PixelSpacing)
        orientation = tuple(round(float(v), 4) for v in ds.ImageOrientationPatient)
        if len(spacing) != 2 or len(orientation) != 6 or len(ds.ImagePositionPatient) != 3:
            raise ValueError("PixelSpacing needs 2 values, ImageOrientationPatient 6, ImagePositionPatient 3")
        return cls(int(ds.Rows), int(ds.Columns), spacing, orientation)


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
    def from_dataset(cls, ds, geometry: SliceGeometry) -> SeriesInfo:
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
        steps = -np.diff(positions)
        if steps.size and np.min(steps) < 1e-3:
            self.problems.append(f"series {self.series_number} has slices at the same position")
        elif steps.size and np.ptp(steps) > 0.05 * np.median(steps):
            self.problems.append(f"series {self.series_number}: slice spacing varies from {steps.min():.2f} to "
                                 f"{steps.max():.2f} mm (a slice may be missing)")
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
class Deviation:
    """A departure from the protocol, kept on the scan for raters to see."""

    code: str
    message: str
    station: int | None = None


Report = Callable[[Deviation], None]


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

    @cached_property
    def geometry_candidates(self) -> list[int]:
        """Stations whose nominal geometry this acquisition matches (2, 3 and 4 share one)."""
        distances = {spec.number: self.geometry_distance(spec) for spec in protocol.STATIONS}
        best = min(distances.values())
        if best > GEOMETRY_TOLERANCE:
            return []
        return [n for n, d in distances.items() if d <= best * 1.05 + 1e-6]

    def accepts(self, series: SeriesInfo) -> bool:
        """Whether ``series`` belongs to this run: same in-plane geometry, nearly the same z range, new type."""
        first = self.first
        if series.geometry != first.geometry or any(s.series_type == series.series_type for s in self.series):
            return False
        overlap = min(first.z_top, series.z_top) - max(first.z_bottom, series.z_bottom)
        shorter = min(first.z_top - first.z_bottom, series.z_top - series.z_bottom)
        return overlap >= 0.9 * shorter - 1e-6

    def report_uneven_slices(self, report: Report) -> None:
        counts = {s.series_number: len(s.slices) for s in self.series}
        if len(set(counts.values())) > 1:
            expected = max(counts.values())
            short = ", ".join(f"series {n} has {c}" for n, c in counts.items() if c < expected)
            report(Deviation("incomplete_series", f"{self.label()}: {short} of {expected} slices"))

    def label(self) -> str:
        numbers = sorted(s.series_number for s in self.series)
        return f"series {numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else f"series {numbers[0]}"


def group_acquisitions(dixon_series: list[SeriesInfo], report: Report) -> list[Acquisition]:
    """Group typed series into acquisitions: one run of in, opp, F and W over one slab.

    A series joins the latest earlier group with the same in-plane geometry, nearly the same z range and
    no series of its type yet; otherwise it starts a new group. So a series missing a slice still joins
    its station, while a station run again (at the same or at a wrong position) forms a group of its own.
    """
    groups: list[Acquisition] = []
    for series in sorted(dixon_series, key=lambda s: (s.series_number, s.acquisition_time)):
        home = next((g for g in reversed(groups) if g.accepts(series)), None)
        if home is None:
            groups.append(Acquisition([series]))
        else:
            home.series.append(series)
    for group in groups:
        group.report_uneven_slices(report)
    return groups


def assign_stations(acquisitions: list[Acquisition], report: Report) -> dict[int, dict[str, SeriesInfo]]:
    """Station number -> series type -> the series kept; deviations go to ``report``.

    Acquisitions are assigned by geometry and position along z, whatever their order (see
    ``station_layout``): a repeat right after its station, at the end of the examination or several
    times over all land on their station, and the latest acquisition of each station is kept.
    """
    usable = [a for a in acquisitions if _usable(a, report)]
    if not usable:
        return {}
    ordered = sorted(usable, key=lambda a: a.order_key)
    runs = [station_layout.Run(tuple(a.geometry_candidates), a.first.z_top) for a in ordered]
    by_station: dict[int, list[Acquisition]] = {}
    for acquisition, number in zip(ordered, station_layout.assign_runs(runs), strict=True):
        by_station.setdefault(number, []).append(acquisition)
    stations = {}
    for number in sorted(by_station):
        kept = _keep_latest(number, by_station[number], report)
        stations[number] = _series_by_type(number, kept, report)
    for spec in protocol.STATIONS:
        if spec.number not in stations:
            report(Deviation("missing_station", f"station {spec.number} is missing", station=spec.number))
    return stations


def _usable(acquisition: Acquisition, report: Report) -> bool:
    if acquisition.geometry_candidates:
        return True
    report(Deviation("station_geometry", f"{acquisition.label()}: geometry matches no station "
                                         f"({acquisition.fov_mm:.0f} mm field of view, {acquisition.extent_mm:.0f} mm "
                                         "extent); ignored"))
    return False


def _keep_latest(number: int, acquisitions: list[Acquisition], report: Report) -> Acquisition:
    kept = acquisitions[-1]  # already in time order
    if len(acquisitions) > 1:
        dropped = ", ".join(f"{a.label()} ({_offset_text(a.first.z_top - kept.first.z_top)})"
                            for a in acquisitions[:-1])
        report(Deviation("repeated_station", f"station {number} acquired {len(acquisitions)} times: kept the "
                                             f"latest, {kept.label()}; ignored {dropped}", station=number))
    return kept


def _offset_text(shift_mm: float) -> str:
    if abs(shift_mm) < SAME_POSITION_MM:
        return "same position"
    return f"{abs(shift_mm):.0f} mm towards the {'head' if shift_mm > 0 else 'feet'}"


def _series_by_type(number: int, acquisition: Acquisition, report: Report) -> dict[str, SeriesInfo]:
    by_type = {series.series_type: series for series in acquisition.series}
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
