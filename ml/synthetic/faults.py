"""Acquisition faults planted in archives at about the rates the two papers report.

Codes (as written to ``ground_truth.csv``):

- ``water_fat_swap``: the fat and water pixel data of one station are exchanged (headers untouched);
- ``noise``: heavy noise in one to three stations;
- ``metal``: a hip prosthesis: a signal void with a bright rim around one femoral head;
- ``repeated_station``: one station is first acquired at a wrong landmark (shifted 40-80 mm along z) or,
  in about a third of the cases, at the right position with water and fat swapped; then again correctly,
  right after the first try or (half of the cases) at the end of the examination after station 6, with
  later series numbers and times, giving 28 series; the truth refers to the later one;
- ``water_in_fat_slot``: within one station the series are numbered in, opp, W, F (headers truthful);
- ``missing_station``: the four series of one station are absent (20 series);
- ``region_outside_slab``: the table is offset by 5.5-10 cm so that at least a quarter of the femoral
  head leaves station 4 (stations shifted towards the feet, taking part of the total hip along at larger
  offsets) or of the diaphysis leaves station 5 (shifted towards the head).

Rates are probabilities per archive, drawn independently, so a rate of 1.0 plants that fault in every
archive. Faults that pick a station pick different stations so that none hides another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ml.synthetic.tissues import REGION_STATION
from ml.ukb.protocol import STATIONS

DEFAULT_FAULT_RATES = {
    "water_fat_swap": 0.01,
    "noise": 0.008,
    "metal": 0.006,
    "repeated_station": 0.015,
    "water_in_fat_slot": 0.01,
    "missing_station": 0.005,
    "region_outside_slab": 0.015,
}
FAULT_CODES = tuple(DEFAULT_FAULT_RATES)
REPEAT_AT_END_SHARE = 0.5  # repeats acquired after station 6 rather than right after the first try
SWAPPED_FIRST_TRY_SHARE = 1 / 3  # repeats whose first try had water and fat swapped (at the right position)


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one archive and their parameters (fields unused by absent faults stay neutral)."""

    codes: tuple[str, ...] = ()
    swap_station: int | None = None
    noise_stations: tuple[int, ...] = ()
    noise_factor: float = 1.0
    metal_side: int | None = None  # +1 left hip, -1 right hip
    repeated_station: int | None = None
    repeat_shift_mm: float = 0.0  # z shift of the wrong first acquisition (0 for a swapped first try)
    repeat_at_end: bool = False  # the correct run comes after station 6, not right after the first try
    repeat_first_swapped: bool = False  # the first try has water and fat swapped
    fat_slot_station: int | None = None
    missing_station: int | None = None
    table_shift_mm: float = 0.0

    def noise_factor_of(self, station: int) -> float:
        """Multiplier of the noise standard deviation in ``station``."""
        return self.noise_factor if station in self.noise_stations else 1.0

    def describe(self) -> list[str]:
        """Human-readable details of every fault except region_outside_slab (see ``coverage_detail``)."""
        texts = {
            "water_fat_swap": f"water_fat_swap: station {self.swap_station}",
            "noise": (f"noise: x{self.noise_factor:.1f} in station{'s' if len(self.noise_stations) > 1 else ''} "
                      f"{', '.join(map(str, self.noise_stations))}"),
            "metal": f"metal: {'left' if self.metal_side == 1 else 'right'} hip implant (station 4)",
            "repeated_station": self._describe_repeat(),
            "water_in_fat_slot": f"water_in_fat_slot: station {self.fat_slot_station} numbered in, opp, W, F",
            "missing_station": f"missing_station: station {self.missing_station}",
        }
        return [texts[code] for code in self.codes if code in texts]

    def _describe_repeat(self) -> str:
        towards = "head" if self.repeat_shift_mm > 0 else "feet"
        first = ("with water and fat swapped" if self.repeat_first_swapped
                 else f"{abs(self.repeat_shift_mm):.0f} mm too far towards the {towards}")
        second = "at the end of the examination" if self.repeat_at_end else "right after"
        return f"repeated_station: station {self.repeated_station} first acquired {first}, repeated {second}"


def resolve_rates(fault_rates: Mapping[str, float] | None) -> dict[str, float]:
    """Rates for every fault code: the defaults when None, else the given ones with 0 for the rest."""
    if fault_rates is None:
        return dict(DEFAULT_FAULT_RATES)
    unknown = set(fault_rates) - set(FAULT_CODES)
    if unknown:
        raise ValueError(f"unknown fault codes {sorted(unknown)}; known: {', '.join(FAULT_CODES)}")
    rates = {code: float(fault_rates.get(code, 0.0)) for code in FAULT_CODES}
    if any(not 0 <= rate <= 1 for rate in rates.values()):
        raise ValueError("fault rates must lie between 0 and 1")
    return rates


def plan_faults(rng: np.random.Generator, rates: Mapping[str, float]) -> FaultPlan:
    """Draw the faults of one archive and their parameters."""
    draws = rng.random(len(FAULT_CODES))
    codes = tuple(code for code, u in zip(FAULT_CODES, draws, strict=True) if u < rates[code])
    stations = [int(s) for s in rng.permutation([spec.number for spec in STATIONS])]
    picked = set(codes)
    plan = FaultPlan(
        codes=codes,
        repeated_station=stations[0] if "repeated_station" in picked else None,
        repeat_shift_mm=float(rng.choice([-1, 1]) * rng.uniform(40, 80)),
        missing_station=stations[1] if "missing_station" in picked else None,
        fat_slot_station=stations[2] if "water_in_fat_slot" in picked else None,
        swap_station=stations[3] if "water_fat_swap" in picked else None,
        noise_stations=_noise_stations(rng) if "noise" in picked else (),
        noise_factor=float(rng.uniform(6, 10)) if "noise" in picked else 1.0,
        metal_side=int(rng.choice([-1, 1])) if "metal" in picked else None,
        table_shift_mm=_table_shift(rng) if "region_outside_slab" in picked else 0.0,
    )
    return _repeat_variant(plan, rng)


def _repeat_variant(plan: FaultPlan, rng: np.random.Generator) -> FaultPlan:
    """Where the repeat comes and why; drawn last and always, so the other draws stay as they were."""
    at_end, swapped = (bool(u) for u in rng.random(2) < (REPEAT_AT_END_SHARE, SWAPPED_FIRST_TRY_SHARE))
    if plan.repeated_station is None:
        return plan
    shift = 0.0 if swapped else plan.repeat_shift_mm
    return replace(plan, repeat_at_end=at_end, repeat_first_swapped=swapped, repeat_shift_mm=shift)


def _noise_stations(rng: np.random.Generator) -> tuple[int, ...]:
    count = int(rng.integers(1, 4))
    return tuple(sorted(int(s) for s in rng.choice([spec.number for spec in STATIONS], count, replace=False)))


def _table_shift(rng: np.random.Generator) -> float:
    """Offset that pushes the hip regions out of station 4 (negative) or the diaphysis out of 5."""
    if rng.random() < 0.5:
        return float(rng.uniform(-100, -55))
    return float(rng.uniform(75, 100))


def coverage_detail(shift_mm: float, coverage: Mapping[str, float]) -> str:
    """Detail text of region_outside_slab: the offset and every region not fully inside its slab.

    ``coverage`` maps region names to the share (0-1) of their volume inside their station's slab.
    """
    parts = [f"{region} {100 * share:.0f}% inside station {REGION_STATION[region]}"
             for region, share in coverage.items() if share < 0.995]
    return f"region_outside_slab: table offset {shift_mm:+.0f} mm; " + (", ".join(parts) or "all regions inside")
