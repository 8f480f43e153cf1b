"""The acquisition plan of the synthetic generator: where a repeated station's runs come, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from ml.synthetic.acquisition import plan_acquisitions, series_slots
from ml.synthetic.faults import FaultPlan, plan_faults, resolve_rates
from ml.synthetic.population import make_population
from ml.synthetic.scan import scan_visit
from ml.ukb.protocol import nominal_station_tops_mm

TOPS = nominal_station_tops_mm(0.0)
REPEAT = resolve_rates({"repeated_station": 1.0})


def repeat_plan(station: int, **kwargs) -> FaultPlan:
    return FaultPlan(codes=("repeated_station",), repeated_station=station, **kwargs)


def test_a_repeat_at_the_end_comes_after_station_6():
    runs = plan_acquisitions(repeat_plan(3, repeat_shift_mm=-60.0, repeat_at_end=True), TOPS)
    assert [(r.station, r.correct) for r in runs] == [(1, True), (2, True), (3, False), (4, True), (5, True),
                                                       (6, True), (3, True)]
    assert (runs[2].top_z, runs[-1].top_z) == (TOPS[3] - 60.0, TOPS[3])
    assert [r.start_s for r in runs] == sorted(r.start_s for r in runs)
    slots = series_slots(runs, repeat_plan(3, repeat_at_end=True))
    assert [s.number for s in slots if s.acquisition is runs[-1]] == [25, 26, 27, 28]


def test_a_repeat_right_after_follows_its_first_try():
    runs = plan_acquisitions(repeat_plan(3, repeat_shift_mm=50.0), TOPS)
    assert [r.station for r in runs] == [1, 2, 3, 3, 4, 5, 6]
    assert not runs[2].correct and runs[3].correct


def test_only_the_first_try_of_a_swapped_repeat_has_water_and_fat_exchanged():
    runs = plan_acquisitions(repeat_plan(2, repeat_first_swapped=True, repeat_at_end=True), TOPS)
    assert [(r.station, r.swapped) for r in runs if r.station == 2] == [(2, True), (2, False)]
    assert sum(r.swapped for r in runs) == 1 and runs[1].top_z == TOPS[2]


def test_the_swapped_first_try_renders_fat_where_the_repeat_renders_water():
    visit = make_population(1, 5, 0.0, {}).visits[0]
    scan = scan_visit(replace(visit, faults=repeat_plan(2, repeat_first_swapped=True, repeat_at_end=True)), 5, 0.25)
    first, repeat = (run for run in scan.runs if run.acquisition.station == 2)
    assert first.acquisition.swapped and not repeat.acquisition.swapped
    fat_share = [float(np.sum(r.series["F"])) / float(np.sum(r.series["F"]) + np.sum(r.series["W"]))
                 for r in (first, repeat)]
    assert fat_share[0] > 0.5 > fat_share[1]


def test_half_of_the_repeats_come_at_the_end_and_a_third_after_a_swap_deterministically():
    plans = [plan_faults(np.random.default_rng(seed), REPEAT) for seed in range(400)]
    again = [plan_faults(np.random.default_rng(seed), REPEAT) for seed in range(400)]
    assert plans == again
    counts = Counter((p.repeat_at_end, p.repeat_first_swapped) for p in plans)
    at_end = counts[True, False] + counts[True, True]
    swapped = counts[False, True] + counts[True, True]
    assert 160 < at_end < 240 and 100 < swapped < 170
    assert all(p.repeat_shift_mm == 0 for p in plans if p.repeat_first_swapped)
    assert all(40 <= abs(p.repeat_shift_mm) <= 80 for p in plans if not p.repeat_first_swapped)


def test_an_archive_without_a_repeat_has_no_repeat_placement():
    rates = resolve_rates({"missing_station": 1.0, "noise": 1.0})
    plan = plan_faults(np.random.default_rng(3), rates)
    assert plan.repeated_station is None and not plan.repeat_at_end and not plan.repeat_first_swapped
    assert plan.missing_station is not None and plan.noise_stations
