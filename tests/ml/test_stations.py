"""Grouping series into acquisitions and assigning acquisitions to stations, on header facts alone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ml.ukb import protocol
from ml.ukb.stations import SeriesInfo, SliceGeometry, assign_stations, group_acquisitions


class Protocol:
    """Builds the series of an examination one acquisition at a time, numbered and timed in order."""

    def __init__(self, table_offset: float = 0.0):
        self.tops = protocol.nominal_station_tops_mm(table_offset)
        self.series: list[SeriesInfo] = []
        self.number, self.time = 1, 100000

    def acquire(self, station: int, shift: float = 0.0, order=protocol.SERIES_TYPES, rows: int | None = None):
        spec = protocol.STATION_BY_NUMBER[station]
        spacing = (protocol.IN_PLANE_SPACING_MM,) * 2
        geometry = SliceGeometry(rows or spec.rows, spec.columns, spacing, (1, 0, 0, 0, 1, 0))
        top = self.tops[station] + shift
        for kind in order:
            series = SeriesInfo(f"uid{self.number}", self.number, protocol.series_description(spec, kind),
                                ("DERIVED", "PRIMARY", "DIXON", protocol.IMAGE_TYPE_FLAGS[kind]), geometry,
                                spec.slice_thickness_mm, f"{self.time:06d}")
            series.slices = [SimpleNamespace(member=f"{self.number}-{k}", z=top - k * spec.slice_thickness_mm)
                             for k in range(spec.slices)]
            series.finish()
            self.series.append(series)
            self.number += 1
        self.time += 100
        return self

    def inventory(self):
        deviations = []
        stations = assign_stations(group_acquisitions(self.series, deviations.append), deviations.append)
        return stations, deviations


def kept_numbers(stations, station):
    return sorted(s.series_number for s in stations[station].values())


def test_six_acquisitions_become_stations_one_to_six():
    exam = Protocol(table_offset=-23.0)
    for station in range(1, 7):
        exam.acquire(station)
    stations, deviations = exam.inventory()
    assert deviations == []
    expected = {n: list(range(4 * n - 3, 4 * n + 1)) for n in range(1, 7)}
    assert {n: kept_numbers(stations, n) for n in stations} == expected


SHIFTS_MM = (-120, -90, -60, -30, 30, 60, 90, 120)
RERUNS = [(repeated, shift, missing_first) for repeated in range(1, 7) for shift in SHIFTS_MM
          for missing_first in (False, True) if not (missing_first and repeated == 1)]


@pytest.mark.parametrize("repeated, shift, missing_first", RERUNS)
def test_a_rerun_station_keeps_the_later_run_and_never_displaces_a_neighbour(repeated, shift, missing_first):
    exam = Protocol()
    expected = {}
    for station in range(1, 7):
        if missing_first and station == 1:
            continue
        if station == repeated:
            exam.acquire(station, shift=shift)  # wrong landmark first
        first = exam.number
        exam.acquire(station)
        expected[station] = list(range(first, first + 4))
    stations, deviations = exam.inventory()
    assert {n: kept_numbers(stations, n) for n in stations} == expected
    assert [(d.code, d.station) for d in deviations if d.code == "repeated_station"] == [("repeated_station", repeated)]


def test_a_series_missing_a_slice_stays_with_its_station():
    exam = Protocol()
    for station in range(1, 7):
        exam.acquire(station)
    water_3 = next(s for s in exam.series if s.series_number == 12)
    water_3.slices = water_3.slices[:-1]
    stations, deviations = exam.inventory()
    assert kept_numbers(stations, 3) == [9, 10, 11, 12]
    assert [d.code for d in deviations] == ["incomplete_series"]
    assert "series 12 has 43 of 44 slices" in deviations[0].message


def test_missing_stations_are_named():
    exam = Protocol()
    for station in (1, 2, 4, 5, 6):
        exam.acquire(station)
    stations, deviations = exam.inventory()
    assert sorted(stations) == [1, 2, 4, 5, 6]
    assert [(d.code, d.station) for d in deviations] == [("missing_station", 3)]


def test_water_numbered_before_fat_is_a_deviation_but_typed_correctly():
    exam = Protocol()
    for station in range(1, 7):
        exam.acquire(station, order=("in", "opp", "W", "F") if station == 4 else protocol.SERIES_TYPES)
    stations, deviations = exam.inventory()
    assert stations[4]["F"].description.endswith("_F") and stations[4]["W"].series_number == 15
    assert [(d.code, d.station) for d in deviations] == [("water_in_fat_slot", 4)]


def test_an_acquisition_of_unknown_geometry_is_ignored_with_a_deviation():
    exam = Protocol()
    for station in range(1, 7):
        exam.acquire(station)
    exam.acquire(3, rows=60)  # a localiser-like matrix that fits no station
    stations, deviations = exam.inventory()
    assert {n: kept_numbers(stations, n) for n in stations}[3] == [9, 10, 11, 12]
    assert [d.code for d in deviations] == ["station_geometry"]
