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


@pytest.mark.parametrize("repeated, shift, missing_first", [(r, s, m) for r in range(1, 7) for s in (0, *SHIFTS_MM)
                                                        for m in (False, True) if not (m and r == 1)])
def test_a_station_repeated_at_the_end_of_the_examination_keeps_the_repeat(repeated, shift, missing_first):
    exam = Protocol()
    for station in range(2 if missing_first else 1, 7):
        exam.acquire(station, shift=shift if station == repeated else 0.0)  # shift 0: e.g. water and fat swapped
    exam.acquire(repeated)
    stations, deviations = exam.inventory()
    assert sorted(stations) == list(range(2 if missing_first else 1, 7))
    assert kept_numbers(stations, repeated) == list(range(exam.number - 4, exam.number))
    assert all(min(kept_numbers(stations, n)) < exam.number - 4 for n in stations if n != repeated)
    codes = [(d.code, d.station) for d in deviations]
    assert codes == [("repeated_station", repeated)] + ([("missing_station", 1)] if missing_first else [])


def test_station_2_acquired_first_then_again_after_station_6_keeps_stations_5_and_6():
    exam = Protocol(table_offset=17.0)
    for station in (1, 2, 3, 4, 5, 6, 2):
        exam.acquire(station)
    stations, deviations = exam.inventory()
    assert {n: kept_numbers(stations, n) for n in stations} == {
        1: [1, 2, 3, 4], 2: [25, 26, 27, 28], 3: [9, 10, 11, 12], 4: [13, 14, 15, 16], 5: [17, 18, 19, 20],
        6: [21, 22, 23, 24]}
    [repeat] = deviations
    assert (repeat.code, repeat.station) == ("repeated_station", 2)
    assert "kept the latest, series 25-28; ignored series 5-8 (same position)" in repeat.message


def test_station_2_acquired_three_times_keeps_the_last_and_names_both_earlier_tries():
    exam = Protocol()
    exam.acquire(1).acquire(2, shift=-60).acquire(2, shift=45)
    for station in range(3, 7):
        exam.acquire(station)
    exam.acquire(2)
    stations, deviations = exam.inventory()
    assert sorted(stations) == [1, 2, 3, 4, 5, 6] and kept_numbers(stations, 2) == [29, 30, 31, 32]
    assert kept_numbers(stations, 3) == [13, 14, 15, 16]
    [repeat] = deviations
    assert repeat.station == 2 and "acquired 3 times" in repeat.message
    assert "series 5-8 (60 mm towards the feet), series 9-12 (45 mm towards the head)" in repeat.message


def test_stations_acquired_feet_to_head_are_assigned_by_position():
    exam = Protocol()
    for station in range(6, 0, -1):
        exam.acquire(station)
    stations, deviations = exam.inventory()
    assert deviations == []
    assert {n: kept_numbers(stations, n)[0] for n in stations} == {6: 1, 5: 5, 4: 9, 3: 13, 2: 17, 1: 21}


def test_a_matrix_is_never_given_to_a_station_of_another_geometry():
    exam = Protocol()
    for station in (1, 2, 3, 4):
        exam.acquire(station)
    exam.acquire(6, shift=180)  # station 6's matrix near where station 5 belongs; station 5 never acquired
    stations, deviations = exam.inventory()
    assert sorted(stations) == [1, 2, 3, 4, 6] and kept_numbers(stations, 6) == [17, 18, 19, 20]
    assert [(d.code, d.station) for d in deviations] == [("missing_station", 5)]


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


@pytest.mark.parametrize("sequence, missing", [
    ((1, 2, 2, 3, 5, 6), 4),  # station 2 repeated right after, station 4 missing
    ((1, 3, 4, 5, 6, 4), 2),  # station 4 repeated at the end, station 2 missing
    ((1, 3, 4, 5, 6, 3), 2),  # station 3 repeated at the end, station 2 missing
    ((1, 2, 3, 5, 6, 2), 4),
    ((2, 2, 3, 4, 5, 6), 1),
])
def test_a_repeat_never_fills_a_missing_station(sequence, missing):
    exam = Protocol(table_offset=-11.0)
    last_of = {}
    for station in sequence:
        last_of[station] = exam.number
        exam.acquire(station)
    stations, deviations = exam.inventory()
    assert sorted(stations) == sorted(set(sequence))
    assert {n: kept_numbers(stations, n) for n in stations} == {n: list(range(f, f + 4)) for n, f in last_of.items()}
    assert ("missing_station", missing) in [(d.code, d.station) for d in deviations]
