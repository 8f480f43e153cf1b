"""The order in which a visit's stations and series were acquired, numbered and timed.

Normally the scanner runs stations 1 to 6 and numbers their series 1..24 station by station in the
order in, opp, F, W. The structural faults change this list the way real archives deviate: a repeated
station is first acquired at a wrong landmark or with water and fat swapped, and then again, right after
or at the end of the examination after station 6 (series numbered in acquisition order, the correct run
later), a missing station leaves no series (later ones are numbered on), and a station with water in the
fat slot is numbered in, opp, W, F.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml.synthetic.faults import FaultPlan
from ml.ukb.protocol import SERIES_TYPES, STATIONS

STATION_SECONDS = 45.0  # breath-hold and table move per station
SERIES_SECONDS = 1.0  # the four series of a station are stored a second apart
WATER_IN_FAT_ORDER = ("in", "opp", "W", "F")


@dataclass(frozen=True)
class Acquisition:
    """One run of one station."""

    station: int
    top_z: float  # head-most edge of the slab, mm
    start_s: float  # seconds after the start of the study
    correct: bool  # False for the first try (wrong landmark or swapped) of a repeated station
    swapped: bool = False  # water and fat exchanged in this run's pixel data


@dataclass(frozen=True)
class SeriesSlot:
    """One series of the archive: its number, acquisition, pixel content and time."""

    number: int
    acquisition: Acquisition
    series_type: str  # "in", "opp", "F" or "W": what the pixels hold and the headers say
    time_s: float


def plan_acquisitions(faults: FaultPlan, tops: dict[int, float]) -> list[Acquisition]:
    """Station runs in acquisition order for a visit whose stations start at ``tops``."""
    runs: list[tuple[int, float, bool]] = []
    for spec in STATIONS:
        if spec.number == faults.missing_station:
            continue
        if spec.number == faults.repeated_station:
            runs.append((spec.number, tops[spec.number] + faults.repeat_shift_mm, False))
            if faults.repeat_at_end:
                continue
        runs.append((spec.number, tops[spec.number], True))
    if faults.repeated_station is not None and faults.repeat_at_end:
        runs.append((faults.repeated_station, tops[faults.repeated_station], True))
    swapped = faults.repeat_first_swapped
    return [Acquisition(station, top, i * STATION_SECONDS, correct, swapped=swapped and not correct)
            for i, (station, top, correct) in enumerate(runs)]


def series_slots(acquisitions: list[Acquisition], faults: FaultPlan) -> list[SeriesSlot]:
    """Every series with its number, numbered in acquisition order from 1."""
    slots = []
    for acquisition in acquisitions:
        order = WATER_IN_FAT_ORDER if acquisition.station == faults.fat_slot_station else SERIES_TYPES
        for position, series_type in enumerate(order):
            time_s = acquisition.start_s + position * SERIES_SECONDS
            slots.append(SeriesSlot(len(slots) + 1, acquisition, series_type, time_s))
    return slots
