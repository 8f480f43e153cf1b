"""Images and labels of one visit: the phantom evaluated on every station run, plus label masks.

Labels always describe the correct acquisition on the planned grid of their station (also when the
station is missing from the archive, so the truth of what should have been there stays known); the
liver label lies on the fused grid, which starts at station 1's head-most slice. Each breath-hold station
sees the liver and diaphragm at a slightly different position (``station_body``). The label files are a
rater's drawing of the true masks (``raters``); ``Scan.truth`` keeps the true masks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ml.synthetic.acquisition import Acquisition, SeriesSlot, plan_acquisitions, series_slots
from ml.synthetic.anatomy import liver_bounds, tissue_map
from ml.synthetic.body import Body, make_body
from ml.synthetic.faults import coverage_detail
from ml.synthetic.geometry import Grid, fused_grid, station_grid
from ml.synthetic.population import Visit
from ml.synthetic.raters import STYLES, rater_label
from ml.synthetic.scanner import StationImaging, station_imaging
from ml.synthetic.seeding import stream
from ml.synthetic.shapes import Ellipsoid
from ml.synthetic.signal import render, tissue_signal, tissue_table
from ml.synthetic.skeleton import hip_centre, implant, region_z_extents
from ml.synthetic.texture import Texture, liver_origin, make_texture
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
    labels: dict[str, tuple[np.ndarray, Grid]]  # region -> (uint8 mask (z, y, x), grid): the rater's labels
    fault_detail: str
    truth: dict[str, tuple[np.ndarray, Grid]]  # the same regions' true masks


BREATH_HOLD_SD_MM = (1.5, 2.5, 5.0)  # (x, y, z) liver and diaphragm position between breath-holds
BREATH_HOLD_STATIONS = (1, 2, 3, 4)  # Dixon_BH: each run is acquired in its own breath-hold


def body_of(visit: Visit, seed: int) -> Body:
    """The subject's anatomy: the same at every visit, since it is seeded by the eid alone."""
    subject = visit.subject
    return make_body(sex=subject.sex, age=subject.age, bmi=subject.bmi, vat_mass_g=subject.vat_mass_g,
                     rng=stream(seed, "anatomy", subject.eid))


def station_body(body: Body, visit: Visit, seed: int, station: int, correct: bool = True) -> Body:
    """The anatomy as one run saw it: in a breath-hold station the liver and diaphragm sit a few mm off
    their mean position (``BREATH_HOLD_SD_MM``), differently in every breath-hold."""
    if station not in BREATH_HOLD_STATIONS:
        return body
    rng = stream(seed, "breath hold", visit.subject.eid, visit.instance, station, correct)
    shift = rng.normal(0.0, BREATH_HOLD_SD_MM)
    return replace(body, liver_shift=tuple(float(a + b) for a, b in zip(body.liver_shift, shift, strict=True)))


def imaging_of(visit: Visit, seed: int, station: int, correct: bool = True) -> StationImaging:
    """The scanner's noise, gain and shading of one run (``scanner``)."""
    return station_imaging(stream(seed, "scanner", visit.subject.eid, visit.instance, station, correct),
                           STATION_BY_NUMBER[station].slice_thickness_mm)


def texture_of(visit: Visit, seed: int) -> Texture:
    return make_texture(stream(seed, "texture", visit.subject.eid))


def scan_visit(visit: Visit, seed: int, scale: float) -> Scan:
    """Render every station run of a visit and its label masks."""
    faults = visit.faults
    body = body_of(visit, seed)
    texture = texture_of(visit, seed)
    metal = implant(body, faults.metal_side) if faults.metal_side else None
    tops = nominal_station_tops_mm(visit.table_offset_mm + faults.table_shift_mm)
    acquisitions = plan_acquisitions(faults, tops)
    table = tissue_table(body, visit.liver_ff_image, visit.bmff)
    runs, tissues = [], {}
    for acquisition in acquisitions:
        n, correct = acquisition.station, acquisition.correct
        grid = station_grid(n, scale, acquisition.top_z)
        seen = station_body(body, visit, seed, n, correct)
        tissue = tissue_map(grid, seen, metal)
        if correct:
            tissues[n] = tissue
        water, fat = tissue_signal(tissue, table, grid, texture, liver_origin(seen))
        imaging = imaging_of(visit, seed, n, correct)
        rng = stream(seed, "noise", visit.subject.eid, visit.instance, n, correct)
        series = render(water, fat, grid, imaging, rng, faults.noise_factor_of(n),
                        swap_fat_water=acquisition.swapped or n == faults.swap_station)
        runs.append(Run(acquisition, grid, series))
    truth = _station_labels(body, visit, seed, metal, tops, scale, tissues)
    truth["liver"] = _liver_label(body, visit, seed, metal, tops, scale)
    labels = {region: (rater_label(mask, STYLES[region], stream(seed, "rater", visit.subject.eid, visit.instance,
                                                                   region)), grid)
              for region, (mask, grid) in truth.items()}
    return Scan(visit, runs, series_slots(acquisitions, faults), labels, _detail(visit, body, tops), truth)


def _station_labels(body: Body, visit: Visit, seed: int, metal: Ellipsoid | None, tops: dict[int, float],
                    scale: float, tissues: dict[int, np.ndarray]) -> dict[str, tuple[np.ndarray, Grid]]:
    """True masks of the marrow regions on their station's grid."""
    labels = {}
    for region, station in REGION_STATION.items():
        grid = station_grid(station, scale, tops[station])
        if station not in tissues:  # missing from the archive: evaluate the planned run anyway
            tissues[station] = tissue_map(grid, station_body(body, visit, seed, station), metal)
        labels[region] = ((tissues[station] == REGION_TISSUE[region]).astype(np.uint8), grid)
    return labels


def liver_seam_z(tops: dict[int, float]) -> float:
    """z where the fused liver passes from station 2's breath-hold to station 3's: the middle of their overlap."""
    return (tops[2] - STATION_BY_NUMBER[2].extent_mm + tops[3]) / 2


def _liver_label(body: Body, visit: Visit, seed: int, metal: Ellipsoid | None, tops: dict[int, float],
                 scale: float) -> tuple[np.ndarray, Grid]:
    """True liver mask on the fused grid: as station 2's breath-hold saw it above the middle of the 2/3
    overlap and as station 3's saw it below (the phantom is evaluated only inside the liver's bounding box)."""
    grid = fused_grid(scale, tops[1])
    mask = np.zeros(grid.shape, np.uint8)
    seam = liver_seam_z(tops)
    for station, above in ((2, True), (3, False)):
        seen = station_body(body, visit, seed, station)
        box = grid.box(*liver_bounds(seen))
        if box is None:
            continue
        part = tissue_map(grid.sub(box), seen, metal) == Tissue.LIVER
        keep = (grid.z[box[0]] > seam) if above else (grid.z[box[0]] <= seam)
        mask[box] |= (part & keep[:, None, None]).astype(np.uint8)
    return mask, grid


def true_liver_mask(visit: Visit, seed: int, scale: float) -> tuple[np.ndarray, Grid]:
    """The visit's true liver mask on its fused grid (as ``scan_visit`` makes it, without the images)."""
    body = body_of(visit, seed)
    metal = implant(body, visit.faults.metal_side) if visit.faults.metal_side else None
    tops = nominal_station_tops_mm(visit.table_offset_mm + visit.faults.table_shift_mm)
    return _liver_label(body, visit, seed, metal, tops, scale)


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
