"""Which station each acquisition of an examination is, from its geometry and its position along z.

A repeated station may come right after its first try, at the end of the examination, or more than once,
so the acquisition order cannot be read as station order. The layout search instead fits the nominal
station layout (``protocol.nominal_station_tops_mm``) to the acquisitions and chooses, among all the
assignments that respect every acquisition's geometry (a 162-row matrix is station 5 and nothing else),
the one of least cost:

- the kept (latest) acquisition of every station costs its distance from the station's nominal top, and
  ``FAR_KEEP_COST`` more when that distance exceeds ``KEEP_DISTANCE_MM``: a kept acquisition lies where its
  station should be, so an earlier try of a neighbouring station is never kept in place of a missing one
  (that would shift every station after it), while a station's only acquisition, even if far off, is
  still kept rather than declared missing (``FAR_KEEP_COST`` < ``MISSING_STATION_COST``);
- every earlier acquisition of a station is dropped, at a small fixed cost plus a tenth of its distance,
  so a wrong-landmark try is attributed to the station it lies nearest to;
- a station without any acquisition costs ``MISSING_STATION_COST``;
- stations whose first tries come in foot-to-head order cost ``ORDER_COST`` per pair: an examination's
  first pass runs head to foot, repeats follow it. This only breaks near ties of position (a try 80 mm
  from two neighbouring nominal positions), never overrides geometry or a clear position.

The top of station 1 (the table offset) is fitted jointly: the cost is piecewise linear in it, so its
minimum lies at one of the offsets that put some acquisition exactly on a nominal position, and only
those are tried. For each offset a dynamic programme over the acquisitions in time order finds the best
assignment exactly; its state is the set of stations already started and the set already closed by
their kept acquisition.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import protocol

# Costs, in millimetres of distance from a station's nominal position.
MISSING_STATION_COST = 1000.0
KEEP_DISTANCE_MM = 40.0  # a kept acquisition farther than this from its nominal top is suspect
FAR_KEEP_COST = 900.0
DROPPED_RUN_COST = 10.0
DROPPED_DISTANCE_WEIGHT = 0.1
ORDER_COST = 20.0
STATION_NUMBERS = tuple(spec.number for spec in protocol.STATIONS)


@dataclass(frozen=True)
class Run:
    """What the search needs of an acquisition: the stations its geometry allows and its head-most z."""

    candidates: tuple[int, ...]
    z_top: float


@dataclass(frozen=True)
class _State:
    started: frozenset[int]  # stations with an acquisition so far
    closed: frozenset[int]  # stations whose kept (last) acquisition is placed: no later one may join


def assign_runs(runs: list[Run]) -> list[int]:
    """Station number of every run; ``runs`` are in acquisition order (earliest first), each with candidates."""
    if not runs:
        return []
    best_cost, best = float("inf"), []
    for top in candidate_tops(runs):
        cost, numbers = _assign_at(runs, protocol.nominal_station_tops_mm(top))
        if cost < best_cost - 1e-6:
            best_cost, best = cost, numbers
    return best


def candidate_tops(runs: list[Run]) -> list[float]:
    """Tops of station 1 that put some run exactly on the nominal position of one of its candidates."""
    offsets = protocol.nominal_station_tops_mm(0.0)
    return sorted({round(run.z_top - offsets[n], 3) for run in runs for n in run.candidates})


def _assign_at(runs: list[Run], tops: dict[int, float]) -> tuple[float, list[int]]:
    """Least cost and station numbers of the runs for one nominal layout (exact dynamic programme)."""
    layer: dict[_State, tuple[float, tuple[int, ...]]] = {_State(frozenset(), frozenset()): (0.0, ())}
    for run in runs:
        following: dict[_State, tuple[float, tuple[int, ...]]] = {}
        for state, (cost, numbers) in layer.items():
            for number, state_after, step in _moves(run, state, tops):
                option = (cost + step, (*numbers, number))
                if state_after not in following or option[0] < following[state_after][0] - 1e-6:
                    following[state_after] = option
        layer = following
    finished = [(cost + MISSING_STATION_COST * (len(STATION_NUMBERS) - len(state.closed)), numbers)
                for state, (cost, numbers) in layer.items() if state.started == state.closed]
    cost, numbers = min(finished, key=lambda option: option[0])
    return cost, list(numbers)


def _moves(run: Run, state: _State, tops: dict[int, float]):
    """(station, next state, cost) for placing ``run`` at each open candidate station, kept or dropped."""
    for number in run.candidates:
        if number in state.closed:
            continue
        distance = abs(run.z_top - tops[number])
        order = 0.0 if number in state.started else ORDER_COST * sum(1 for s in state.started if s > number)
        started = state.started | {number}
        keep = distance + (FAR_KEEP_COST if distance > KEEP_DISTANCE_MM else 0.0)
        yield number, _State(started, state.closed | {number}), keep + order
        yield number, _State(started, state.closed), DROPPED_RUN_COST + DROPPED_DISTANCE_WEIGHT * distance + order
