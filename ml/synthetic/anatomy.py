"""The analytic neck-to-knee phantom: a tissue code for every voxel centre of any axial grid.

Painting order sets priority: skin and subcutaneous fat, lean tissue, the body cavity (mediastinum
above the diaphragm, bowel and visceral fat below it), lungs, heart, liver and kidneys (only inside the
cavity), bones, and finally a metal implant when the visit has one. The same function evaluates the
station grids (for images and station labels) and the fused grid (for the liver label), so a label is
exactly the set of voxels whose tissue is the labelled one.
"""

from __future__ import annotations

import numpy as np

from ml.synthetic.body import Body, Section
from ml.synthetic.geometry import Grid
from ml.synthetic.shapes import Ellipsoid, Point, axes, paint_solid, stacked_ellipses
from ml.synthetic.skeleton import paint_skeleton
from ml.synthetic.tissues import CAVITY, Tissue

CAVITY_Z = (-65.0, -555.0)  # top (below the shoulders) and bottom (pelvic floor) of the body cavity
# Lateral wall thickness of the cavity along z (descending knots): the true pelvis is narrow, with
# the hip joints and their muscles outside it.
_WALL_Z = np.array([-380.0, -520.0])
_WALL_MM = np.array([18.0, 100.0])
DIAPHRAGM_Z = -195.0
METAL_RIM_MM = 5.0


def tissue_map(grid: Grid, body: Body, metal: Ellipsoid | None = None) -> np.ndarray:
    """Tissue codes (uint8, shape (z, y, x)) at the voxel centres of ``grid``."""
    volume = np.zeros(grid.shape, np.uint8)
    _paint_outline(volume, grid, body)
    _paint_cavity(volume, grid, body)
    _paint_organs(volume, grid, body)
    paint_skeleton(volume, grid, body)
    if metal is not None:
        r = metal.semi[0]
        paint_solid(volume, grid, Ellipsoid(metal.centre, (r + METAL_RIM_MM,) * 3), Tissue.METAL_RIM)
        paint_solid(volume, grid, metal, Tissue.METAL_VOID)
    return volume


def _outline(grid: Grid, section: Section, grow: np.ndarray | float) -> np.ndarray:
    """Inside the trunk ellipse or either leg circle, enlarged by ``grow`` mm."""
    a, b = section.half_width + grow, section.half_depth + grow
    legs = section.leg_centre > 0
    left = stacked_ellipses(grid, section.leg_centre, section.centre_y, a, b)
    right = stacked_ellipses(grid, -section.leg_centre, section.centre_y, np.where(legs, a, -1.0), b)
    return left | right


def _paint_outline(volume: np.ndarray, grid: Grid, body: Body) -> None:
    section = body.section(grid.z)
    volume[_outline(grid, section, section.sat)] = Tissue.SUBCUTANEOUS_FAT
    volume[_outline(grid, section, 0.0)] = Tissue.MUSCLE


def _cavity(grid: Grid, body: Body) -> np.ndarray:
    """The body cavity: the lean trunk minus the abdominal wall and the back muscles."""
    s = body.section(grid.z)
    inside = (grid.z < CAVITY_Z[0]) & (grid.z > CAVITY_Z[1])
    wall = np.interp(grid.z, _WALL_Z[::-1], _WALL_MM[::-1]) * body.width
    a = np.where(inside, s.half_width - wall, -1.0)
    return stacked_ellipses(grid, np.zeros_like(a), s.centre_y - 25, a, s.half_depth - 40)


def _vat_field(grid: Grid, body: Body) -> np.ndarray:
    """A smooth random field (sum of cosine products) whose low values mark visceral fat."""
    z, y, x = axes(grid)
    field = np.zeros(grid.shape, np.float32)
    for (fx, fy, fz), (px, py, pz) in zip(body.wave_freq, body.wave_phase, strict=True):
        field += (np.cos(fx * x + px) * np.cos(fy * y + py)) * np.cos(fz * z + pz)
    return field


def _paint_cavity(volume: np.ndarray, grid: Grid, body: Body) -> None:
    box = grid.box((-1e4, -1e4, CAVITY_Z[1]), (1e4, 1e4, CAVITY_Z[0]))
    if box is None:
        return
    sub, block = grid.sub(box), volume[box]
    cavity = _cavity(sub, body)
    thorax = (sub.z > DIAPHRAGM_Z + body.liver_shift[2])[:, None, None]
    fat = _vat_field(sub, body) < body.vat_threshold
    block[cavity & thorax] = Tissue.MEDIASTINUM
    block[cavity & ~thorax & fat] = Tissue.VISCERAL_FAT
    block[cavity & ~thorax & ~fat] = Tissue.BOWEL


def liver_lobes(body: Body) -> tuple[Ellipsoid, Ellipsoid]:
    """Right and left liver lobes under the right hemidiaphragm (patient right is -x)."""
    a, b, cy = body.section_at(-260.0)
    sx, sy, sz = body.liver_shift
    right = Ellipsoid((-0.45 * a + sx, cy - 0.05 * b + sy, -255.0 + sz), (0.55 * a, 0.7 * b, 75.0))
    left = Ellipsoid((0.05 * a + sx, cy - 0.42 * b + sy, -228.0 + sz), (0.42 * a, 0.32 * b, 42.0))
    return right, left


def liver_bounds(body: Body) -> tuple[Point, Point]:
    """Millimetre bounding box of the liver, to label it without evaluating the whole fused grid."""
    corners = np.array([corner for lobe in liver_lobes(body) for corner in lobe.bounds()])
    return tuple(corners.min(axis=0)), tuple(corners.max(axis=0))


def _thoracic_organs(body: Body) -> tuple[tuple[Ellipsoid, Tissue], ...]:
    a, b, cy = body.section_at(-150.0)
    lungs = tuple((Ellipsoid((side * 0.48 * a, cy - 0.05 * b, -120.0), (0.4 * a, 0.75 * b, 100.0)),
                   Tissue.LUNG) for side in (1, -1))
    heart = (Ellipsoid((0.15 * a, cy - 0.35 * b, -150.0), (0.33 * a, 0.42 * b, 50.0)), Tissue.HEART)
    return (*lungs, heart)


def _kidneys(body: Body) -> tuple[Ellipsoid, ...]:
    a, b, cy = body.section_at(-300.0)
    return tuple(Ellipsoid((side * 0.4 * a, cy + 0.42 * b, -300.0 + side * 8), (24.0, 28.0, 50.0))
                 for side in (1, -1))


def _paint_organs(volume: np.ndarray, grid: Grid, body: Body) -> None:
    for organ, code in _thoracic_organs(body):
        paint_solid(volume, grid, organ, code, over=CAVITY)
    for lobe in liver_lobes(body):
        paint_solid(volume, grid, lobe, Tissue.LIVER, over=CAVITY)
    for kidney in _kidneys(body):
        paint_solid(volume, grid, kidney, Tissue.KIDNEY, over=(*CAVITY, Tissue.MUSCLE))
