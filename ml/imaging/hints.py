"""Automatic QC hints: what a rater should look at first. Hints order the QC queue; they never decide.

- Water-fat swap: neighbouring stations image the same anatomy where they overlap, so their fat
  fractions agree there; a swapped station matches its neighbour's *water* fraction instead. Each
  overlap says "same" or "inverted", and the fewest stations that explain the inverted overlaps are
  flagged (a tie, as in a run of two stations, goes against the side whose body FF is furthest from the
  scan's other stations).
  A station that overlaps no neighbour cannot be checked this way: no absolute FF level tells a swap
  from a very fat body.
- Noise: a station whose tissue-to-background ratio is far below the other stations' (or very low).
- Body mask: a volume outside what a neck-to-knee body can have means the threshold failed.
- Deviations recorded at import (missing or repeated stations, ...) become hints too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .fusion import FusedGrid, resample_station
from .volumes import StationVolume

TISSUE_FRACTION = 0.2  # voxels above this share of a station's 99th percentile signal count as tissue
MIN_SNR, RELATIVE_SNR = 10.0, 0.35
BODY_LITRES = (10.0, 250.0)  # plausible body mask volume on the fused grid (neck to knee)

IMPORT_HINTS = {  # deviation code recorded at import -> severity of the hint
    "missing_station": "high", "incomplete_station": "high", "incomplete_series": "high",
    "station_geometry": "medium", "repeated_station": "medium", "water_in_fat_slot": "medium",
    "series_order": "medium", "series_geometry": "medium",
    "extra_series": "low", "manifest_missing": "low", "manifest_mismatch": "low", "multiple_studies": "low",
}
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Hint:
    code: str
    severity: str
    message: str
    station: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def hints_from_deviations(deviations: list[dict]) -> list[Hint]:
    return [Hint(d["code"], IMPORT_HINTS[d["code"]], d["message"], d.get("station"))
            for d in deviations if d["code"] in IMPORT_HINTS]


def station_statistics(station: StationVolume) -> dict[str, float]:
    """Body median FF and signal-to-noise of one station from its own voxels.

    Noise is the robust spread of differences between neighbouring tissue voxels along x (sigma =
    1.4826 MAD / sqrt 2), which is blind to anatomy's slow changes and needs no background region.
    Every other slice is plenty for these medians, at half the cost."""
    fat, water = station.fat[::2], station.water[::2]
    total = fat + water
    top = float(np.percentile(total, 99))
    if top <= 0:
        return {"median_ff": float("nan"), "snr": 0.0}
    tissue = total > TISSUE_FRACTION * top
    pairs = tissue[..., 1:] & tissue[..., :-1]
    differences = (total[..., 1:] - total[..., :-1])[pairs]
    sigma = 1.4826 * float(np.median(np.abs(differences - np.median(differences)))) / np.sqrt(2) \
        if differences.size else 0.0
    median_ff = float(np.median(fat[::2, ::2][tissue[::2, ::2]] / total[::2, ::2][tissue[::2, ::2]]))
    return {"median_ff": median_ff, "snr": float(np.median(total[::2, ::2][tissue[::2, ::2]]) / max(sigma, 1e-3))}


def overlap_inversions(stations: dict[int, StationVolume], grid: FusedGrid) -> dict[tuple[int, int], bool]:
    """For each pair of neighbouring stations that overlap: do their fat fractions there look inverted?"""
    ordered = sorted(stations.values(), key=lambda s: -s.z[0])
    pairs = {}
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        z = grid.z[(grid.z <= upper.z[0]) & (grid.z >= upper.z[-1]) & (grid.z <= lower.z[0]) & (grid.z >= lower.z[-1])]
        if z.size == 0:
            continue
        (ff_upper, total_upper), (ff_lower, total_lower) = (_ff_and_signal(s, grid, z) for s in (upper, lower))
        both = (total_upper > TISSUE_FRACTION * np.percentile(total_upper, 99)) & \
            (total_lower > TISSUE_FRACTION * np.percentile(total_lower, 99))
        if both.sum() < 20:
            continue
        same = np.mean(np.abs(ff_upper[both] - ff_lower[both]))
        inverted = np.mean(np.abs(ff_upper[both] - (1 - ff_lower[both])))
        pairs[(upper.number, lower.number)] = bool(inverted < same)
    return pairs


def _ff_and_signal(station: StationVolume, grid: FusedGrid, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    (fat, water), _ = resample_station(station, grid, z)
    total = fat + water
    return fat / np.maximum(total, 1e-6), total


def swapped_stations(stations: list[int], inversions: dict[tuple[int, int], bool],
                     median_ff: dict[int, float]) -> list[int]:
    """The fewest stations whose swap explains the inverted overlaps, run by run of overlapping stations."""
    swapped = []
    for run in _runs(sorted(stations), inversions):
        parity = [False]
        for upper, lower in zip(run, run[1:], strict=False):
            parity.append(parity[-1] ^ inversions[(upper, lower)])
        flipped = [n for n, p in zip(run, parity, strict=True) if p]
        kept = [n for n, p in zip(run, parity, strict=True) if not p]
        if len(flipped) != len(kept):
            swapped += flipped if len(flipped) < len(kept) else kept
        else:  # both explanations need as many swaps: the side that looks least like the rest is swapped
            swapped += _odd_side(flipped, kept, run, median_ff)
    return sorted(swapped)


def _odd_side(flipped: list[int], kept: list[int], run: list[int], median_ff: dict[int, float]) -> list[int]:
    """Of two equally small explanations, the side whose body median FF is furthest from the stations
    outside this run (a swap turns FF into 1 - FF); with no other stations, the fattier-looking side."""
    others = [ff for n, ff in median_ff.items() if n not in run and np.isfinite(ff)]
    if others:
        typical = float(np.median(others))
        return max((flipped, kept), key=lambda side: abs(np.nanmean([median_ff[n] for n in side]) - typical))
    return max((flipped, kept), key=lambda side: np.nanmean([median_ff[n] for n in side]))


def _runs(numbers: list[int], inversions: dict) -> list[list[int]]:
    runs = [[numbers[0]]] if numbers else []
    for number in numbers[1:]:
        if (runs[-1][-1], number) in inversions:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def image_hints(stations: dict[int, StationVolume], grid: FusedGrid, statistics: dict[int, dict],
                body_litres: float) -> list[Hint]:
    median_ff = {n: s["median_ff"] for n, s in statistics.items()}
    suspects = swapped_stations(list(stations), overlap_inversions(stations, grid), median_ff)
    hints = [Hint("water_fat_swap", "high", f"station {n}: fat and water look swapped (body median FF "
                  f"{100 * median_ff[n]:.0f} %)", n) for n in suspects]
    for number, station in sorted(stations.items()):
        steps = -np.diff(station.z)
        if steps.size and np.ptp(steps) > 0.05 * np.median(steps):
            hints.append(Hint("uneven_slices", "medium", f"station {number}: slice spacing varies from "
                              f"{steps.min():.1f} to {steps.max():.1f} mm (a slice may be missing)", number))
    for number, stats in sorted(statistics.items()):
        others = [s["snr"] for n, s in statistics.items() if n != number]
        typical = float(np.median(others)) if others else stats["snr"]
        if stats["snr"] < MIN_SNR or stats["snr"] < RELATIVE_SNR * typical:
            hints.append(Hint("noise", "medium", f"station {number}: signal-to-noise {stats['snr']:.0f} "
                              f"(other stations {typical:.0f})", number))
    low, high = BODY_LITRES
    if not low <= body_litres <= high:
        hints.append(Hint("body_mask", "high", f"body mask of {body_litres:.1f} l is implausible "
                          f"(expected {low:.0f}-{high:.0f} l)"))
    return hints


def order_hints(hints: list[Hint]) -> list[Hint]:
    return sorted(hints, key=lambda h: (SEVERITY_RANK[h.severity], h.station or 0, h.code))
