"""Images and labels of one visit: the phantom evaluated on every station run, plus label masks.

Labels always describe the correct acquisition on the planned grid of their station (also when the
station is missing from the archive, so the truth of what should have been there stays known); the
liver label lies on the fused grid, which starts at station 1's head-most slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.synthetic.acquisition import Acquisition, SeriesSlot, plan_acquisitions, series_slots
from ml.synthetic.anatomy import liver_bounds, tissue_map
from ml.synthetic.body import Body, make_body
from ml.synthetic.faults import coverage_detail
from ml.synthetic.geometry import Grid, fused_grid, station_grid
from ml.synthetic.population import Visit
from ml.synthetic.seeding import stream
from ml.synthetic.shapes import Ellipsoid
from ml.synthetic.signal import render, tissue_table
from ml.synthetic.skeleton import hip_centre, implant, region_z_extents
from ml.synthetic.tissues import REGION_STATION, REGION_TISSUE, Tissue
from ml.ukb.protocol import STATION_BY_NUMBER, nominal_station_tops_mm


@dataclass(frozen=True, eq=False)
class Run:
    """One acquisition with its grid and its four series (uint16 (z, y, x) arrays by series type)."""

    acquisition: Acquisition
    grid: Grid
    series: dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class Scan:
    visit: Visit
    runs: list[Run]
    slots: list[SeriesSlot]
    labels: dict[str, tuple[np.ndarray, Grid]]  # region -> (uint8 mask (z, y, x), grid)
    fault_detail: str


def body_of(visit: Visit, seed: int) -> Body:
    """The subject's anatomy: the same at every visit, since it is seeded by the eid alone."""
    subject = visit.subject
    return make_body(sex=subject.sex, age=subject.age, bmi=subject.bmi, vat_mass_g=subject.vat_mass_g,
                     rng=stream(seed, "anatomy", subject.eid))


def scan_visit(visit: Visit, seed: int, scale: float) -> Scan:
    """Render every station run of a visit and its label masks."""
    faults = visit.faults
    body = body_of(visit, seed)
    metal = implant(body, faults.metal_side) if faults.metal_side else None
    tops = nominal_station_tops_mm(visit.table_offset_mm + faults.table_shift_mm)
    acquisitions = plan_acquisitions(faults, tops)
    table = tissue_table(body, visit.liver_ff_image, visit.bmff)
    runs, tissues = [], {}
    for acquisition in acquisitions:
        grid = station_grid(acquisition.station, scale, acquisition.top_z)
        tissue = tissue_map(grid, body, metal)
        if acquisition.correct:
            tissues[acquisition.station] = tissue
        rng = stream(seed, "noise", visit.subject.eid, visit.instance, acquisition.station, acquisition.correct)
        series = render(tissue, table, grid, rng, faults.noise_factor_of(acquisition.station),
                        swap_fat_water=acquisition.swapped or acquisition.station == faults.swap_station)
        runs.append(Run(acquisition, grid, series))
    labels = _station_labels(body, metal, tops, scale, tissues)
    labels["liver"] = _liver_label(body, metal, tops[1], scale)
    return Scan(visit, runs, series_slots(acquisitions, faults), labels, _detail(visit, body, tops))


def _station_labels(body: Body, metal: Ellipsoid | None, tops: dict[int, float], scale: float,
                    tissues: dict[int, np.ndarray]) -> dict[str, tuple[np.ndarray, Grid]]:
    labels = {}
    for region, station in REGION_STATION.items():
        grid = station_grid(station, scale, tops[station])
        if station not in tissues:  # missing from the archive: evaluate the planned run anyway
            tissues[station] = tissue_map(grid, body, metal)
        labels[region] = ((tissues[station] == REGION_TISSUE[region]).astype(np.uint8), grid)
    return labels


def _liver_label(body: Body, metal: Ellipsoid | None, station1_top: float,
                 scale: float) -> tuple[np.ndarray, Grid]:
    """Liver mask on the fused grid, evaluating the phantom only inside the liver's bounding box."""
    grid = fused_grid(scale, station1_top)
    mask = np.zeros(grid.shape, np.uint8)
    box = grid.box(*liver_bounds(body))
    if box is not None:
        mask[box] = tissue_map(grid.sub(box), body, metal) == Tissue.LIVER
    return mask, grid


def _detail(visit: Visit, body: Body, tops: dict[int, float]) -> str:
    faults = visit.faults
    parts = faults.describe()
    if "region_outside_slab" in faults.codes:
        parts.append(coverage_detail(faults.table_shift_mm, _femoral_coverage(body, tops)))
    return "; ".join(parts)


def _femoral_coverage(body: Body, tops: dict[int, float]) -> dict[str, float]:
    """Share of each femoral region's volume that lies inside its station's slab (2 mm sampling)."""
    _, hip_y, _ = hip_centre(body, 1)
    coverage = {}
    for region, (bottom, top) in region_z_extents(body).items():
        z = np.arange(top + 10, bottom - 10, -2.0)
        grid = Grid(np.arange(0.0, 230.0, 2.0), np.arange(hip_y - 80, hip_y + 80, 2.0), z, (2.0, 2.0, 2.0))
        per_slice = (tissue_map(grid, body) == REGION_TISSUE[region]).sum(axis=(1, 2))
        station = REGION_STATION[region]
        slab = (z <= tops[station]) & (z > tops[station] - STATION_BY_NUMBER[station].extent_mm)
        coverage[region] = float(per_slice[slab].sum() / max(per_slice.sum(), 1))
    return coverage
