"""Bones of the phantom: spine, pelvis and both femurs, each a low-signal cortex around fatty marrow.

The spine is a column of vertebral bodies and discs along the posterior midline from C3 to the sacrum;
its T8-L3 vertebrae (placed in station 2) carry the spine label. The left femur (+x) carries the femoral
head, total hip (neck and trochanteric region) and diaphysis (a mid-shaft segment, in station 5) labels;
the right femur mirrors it with unlabelled codes. The femoral shaft is narrowest at ``DIAPHYSIS_Z``,
where the diaphysis label sits, as in the BMFF paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.synthetic.body import Body
from ml.synthetic.geometry import Grid
from ml.synthetic.shapes import Capsule, Ellipsoid, Point, paint_shelled, stacked_ellipses
from ml.synthetic.tissues import Tissue

# (name, pitch = body + disc height, disc height, body semi-axes x and y), head to foot, in mm.
_GROUPS = (("C", 3, 7, 16, 4, 13, 9), ("T", 1, 7, 19, 4, 15, 12), ("T", 8, 12, 21, 4.5, 18, 14),
           ("L", 1, 5, 27, 8, 23, 17))
LEVELS = tuple((f"{g}{i}", pitch, disc, ax, ay)
               for g, first, last, pitch, disc, ax, ay in _GROUPS for i in range(first, last + 1))
LABELLED_LEVELS = ("T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3")
SACRUM_MM = 100.0
CORTEX_MM = 2.0
ENDPLATE_MM = 1.5
# Depth of the vertebral body centre in front of the lean back surface, along z (descending knots).
_SPINE_DEPTH_Z = np.array([60.0, -30.0, -100.0, -330.0, -700.0])
_SPINE_DEPTH = np.array([38.0, 40.0, 52.0, 62.0, 62.0])

HIP_Z = -540.0
DIAPHYSIS_Z = -805.0
DIAPHYSIS_HALF_LENGTH = 25.0
_SHAFT_Z = (-600.0, -960.0)
_SHAFT_HALF_SPAN = 180.0  # the shaft widens quadratically over this distance from DIAPHYSIS_Z
# Mid-shaft outer radius (female, male) and cortical thickness: a 22-24 mm shaft with a 6.8 mm cortex leaves a
# marrow cavity of 4.2-5.2 mm radius (11-17 voxels of 2.23 mm per slice), thinning to 3.7 mm of cortex
# towards the metaphyses.
SHAFT_RADIUS_MM = {0: 11.0, 1: 12.0}
SHAFT_CORTEX_MM = 6.8


@dataclass(frozen=True)
class FemurCodes:
    head: Tissue
    hip: Tissue
    shaft: Tissue
    diaphysis: Tissue


LEFT = FemurCodes(Tissue.FEMORAL_HEAD, Tissue.TOTAL_HIP, Tissue.SHAFT_MARROW, Tissue.DIAPHYSIS)
RIGHT = FemurCodes(Tissue.RIGHT_HEAD, Tissue.RIGHT_HIP, Tissue.RIGHT_SHAFT, Tissue.RIGHT_SHAFT)


def paint_skeleton(volume: np.ndarray, grid: Grid, body: Body) -> None:
    """Paint spine, pelvis and femurs (in this order: later bones win where they touch)."""
    _paint_spine(volume, grid, body)
    _paint_pelvis(volume, grid, body)
    for side, codes in ((1, LEFT), (-1, RIGHT)):
        _paint_femur(volume, grid, body, side, codes)


# --- spine -----------------------------------------------------------------------------------------------

def _level_tops(body: Body) -> np.ndarray:
    """z of the top of every vertebra, anchored on the subject's T8."""
    pitches = np.array([level[1] for level in LEVELS])
    edges = np.concatenate([[0.0], np.cumsum(pitches)])
    t8 = [level[0] for level in LEVELS].index("T8")
    return body.t8_top + edges[t8] - edges[:-1]


def _spine_slices(body: Body, z: np.ndarray) -> dict[str, np.ndarray]:
    """Per-slice parameters of the spine: body semi-axes, centre y, and what the slice cuts through."""
    tops = _level_tops(body)
    pitch, disc, ax, ay = (np.array([level[i] for level in LEVELS]) for i in range(1, 5))
    index = np.clip(np.searchsorted(-tops, -z, side="right") - 1, 0, len(LEVELS) - 1)
    below_top = tops[index] - z
    bottom = tops[-1] - pitch[-1]
    in_column = (z <= tops[0]) & (z > bottom)
    bone = in_column & (below_top < pitch[index] - disc[index])
    marrow = bone & (below_top > ENDPLATE_MM) & (below_top < pitch[index] - disc[index] - ENDPLATE_MM)
    sacral = np.clip((bottom - z) / SACRUM_MM, 0, 1)
    in_sacrum = (z <= bottom) & (z > bottom - SACRUM_MM)
    section = body.section(z)
    back = section.centre_y + section.half_depth
    depth = np.interp(z, _SPINE_DEPTH_Z[::-1], _SPINE_DEPTH[::-1])
    labelled = np.isin(np.array([level[0] for level in LEVELS])[index], LABELLED_LEVELS)
    return {
        "a": np.where(in_sacrum, 45 - 30 * sacral, np.where(in_column, ax[index], -1.0)) * body.width,
        "b": np.where(in_sacrum, 16 - 8 * sacral, ay[index]) * body.depth,
        "cy": back - depth + np.where(in_sacrum, 30 * sacral, 0.0),
        "disc": in_column & ~bone,
        "marrow": marrow | in_sacrum,
        "labelled": labelled & in_column,
    }


def _paint_spine(volume: np.ndarray, grid: Grid, body: Body) -> None:
    p = _spine_slices(body, grid.z)
    present = p["a"] > 0
    if not present.any():
        return
    lo = (-60.0, float(np.min(p["cy"][present] - p["b"][present])), float(grid.z[present].min()))
    hi = (60.0, float(np.max(p["cy"][present] + p["b"][present])) + 20, float(grid.z[present].max()))
    box = grid.box(lo, hi)
    if box is None:
        return
    sub, block = grid.sub(box), volume[box]
    p = {key: value[box[0]] for key, value in p.items()}
    zero = np.zeros_like(p["a"])
    outer = stacked_ellipses(sub, zero, p["cy"], p["a"], p["b"])
    block[outer & p["disc"][:, None, None]] = Tissue.DISC
    block[outer & ~p["disc"][:, None, None]] = Tissue.CORTEX
    core = np.where(p["marrow"], p["a"] - CORTEX_MM, -1.0)
    inner = stacked_ellipses(sub, zero, p["cy"], core, p["b"] - CORTEX_MM)
    block[inner & p["labelled"][:, None, None]] = Tissue.SPINE_MARROW
    block[inner & ~p["labelled"][:, None, None]] = Tissue.VERTEBRA_MARROW
    canal = np.where(p["a"] > 0, 7.5, -1.0)
    block[stacked_ellipses(sub, zero, p["cy"] + p["b"] + 10, canal, canal)] = Tissue.CSF


# --- pelvis and femurs -----------------------------------------------------------------------------------

def hip_centre(body: Body, side: int) -> Point:
    """Centre of the femoral head on one side (+1 left, -1 right)."""
    half_width, half_depth, centre_y = body.section_at(HIP_Z)
    return side * 0.57 * half_width, centre_y + 0.05 * half_depth, HIP_Z


def _paint_pelvis(volume: np.ndarray, grid: Grid, body: Body) -> None:
    half_width, half_depth, centre_y = body.section_at(-470.0)
    r = body.head_radius
    for side in (1, -1):
        hx, hy, hz = hip_centre(body, side)
        bones = (
            Ellipsoid((side * 0.62 * half_width, centre_y + 0.15 * half_depth, -450.0),
                      (12.0, 0.55 * half_depth, 60.0)),  # iliac wing
            Ellipsoid((hx - side * 8, hy, hz + 12), (r + 10, r + 8, 0.8 * r)),  # acetabular roof
            Ellipsoid((side * 32.0, centre_y - 0.55 * half_depth, -560.0), (30.0, 12.0, 18.0)),  # pubis
            Ellipsoid((hx - side * 25, hy + 0.35 * half_depth, -585.0), (15.0, 20.0, 30.0)),  # ischium
        )
        for bone in bones:
            paint_shelled(volume, grid, bone, 3.0, Tissue.CORTEX, Tissue.PELVIS_MARROW)


def _shaft_slices(body: Body, side: int, z: np.ndarray) -> dict[str, np.ndarray]:
    """Per-slice femoral shaft: axis position, outer radius and marrow radius, narrowest at mid-shaft."""
    hx, hy, _ = hip_centre(body, side)
    knee = body.section(np.array([_SHAFT_Z[1]]))
    t = (z - _SHAFT_Z[0]) / (_SHAFT_Z[1] - _SHAFT_Z[0])
    u2 = ((z - DIAPHYSIS_Z) / _SHAFT_HALF_SPAN) ** 2
    inside = (t >= 0) & (t <= 1)
    outer = np.where(inside, SHAFT_RADIUS_MM[body.sex] * np.sqrt(body.width) * (1 + 0.6 * u2), -1.0)
    return {
        "cx": side * ((hx * side + 44) * (1 - t) + knee.leg_centre[0] * t),
        "cy": (hy + 8) * (1 - t) + knee.centre_y[0] * t,
        "outer": outer,
        "inner": np.where(inside, outer - SHAFT_CORTEX_MM * (1 - 0.45 * np.minimum(u2, 1)), -1.0),
        "diaphysis": np.abs(z - DIAPHYSIS_Z) <= DIAPHYSIS_HALF_LENGTH,
    }


def _paint_shaft(volume: np.ndarray, grid: Grid, body: Body, side: int, codes: FemurCodes) -> None:
    xs = sorted((side * 40.0, side * 200.0))
    box = grid.box((xs[0], -1e4, _SHAFT_Z[1]), (xs[1], 1e4, _SHAFT_Z[0]))
    if box is None:
        return
    sub, block = grid.sub(box), volume[box]
    p = _shaft_slices(body, side, sub.z)
    block[stacked_ellipses(sub, p["cx"], p["cy"], p["outer"], p["outer"])] = Tissue.CORTEX
    marrow = stacked_ellipses(sub, p["cx"], p["cy"], p["inner"], p["inner"])
    block[marrow & p["diaphysis"][:, None, None]] = codes.diaphysis
    block[marrow & ~p["diaphysis"][:, None, None]] = codes.shaft


def _paint_femur(volume: np.ndarray, grid: Grid, body: Body, side: int, codes: FemurCodes) -> None:
    hx, hy, hz = hip_centre(body, side)
    r = body.head_radius
    _paint_shaft(volume, grid, body, side, codes)
    trochanter = Ellipsoid((hx + side * 46, hy + 8, hz - 50), (20.0, 22.0, 32.0))
    neck = Capsule((hx, hy, hz), (hx + side * 46, hy + 6, hz - 42), 0.62 * r)
    paint_shelled(volume, grid, trochanter, 2.5, Tissue.CORTEX, codes.hip)
    paint_shelled(volume, grid, neck, 2.0, Tissue.CORTEX, codes.hip)
    paint_shelled(volume, grid, Ellipsoid((hx, hy, hz), (r, r, r)), 1.8, Tissue.CORTEX, codes.head)
    _paint_knee(volume, grid, body, side)


def _paint_knee(volume: np.ndarray, grid: Grid, body: Body, side: int) -> None:
    """Femoral condyles, tibial plateau and upper tibia: fatty (yellow) marrow, no labels."""
    s = body.section(np.array([-975.0, -1030.0]))
    x, y = side * s.leg_centre, s.centre_y
    bones = (Ellipsoid((x[0], y[0], -975.0), (36.0, 28.0, 28.0)),
             Ellipsoid((x[1], y[1], -1030.0), (32.0, 26.0, 24.0)),
             Capsule((x[1], y[1], -1050.0), (x[1], y[1], -1400.0), 12.0))
    for bone in bones:
        paint_shelled(volume, grid, bone, 3.0, Tissue.CORTEX, Tissue.EPIPHYSIS)


def region_z_extents(body: Body) -> dict[str, tuple[float, float]]:
    """Generous (bottom, top) z bounds of every femoral labelled region, to search for its voxels."""
    _, _, hz = hip_centre(body, 1)
    r = body.head_radius - 1.8
    neck_top = hz + 0.62 * body.head_radius - 2.0
    return {
        "femoral_head": (hz - r, hz + r),
        "total_hip": (hz - 50 - 32 + 2.5, neck_top),
        "diaphysis": (DIAPHYSIS_Z - DIAPHYSIS_HALF_LENGTH, DIAPHYSIS_Z + DIAPHYSIS_HALF_LENGTH),
    }


def implant(body: Body, side: int) -> Ellipsoid:
    """A metal hip prosthesis head, centred on the femoral head and larger than it."""
    r = body.head_radius + 14
    return Ellipsoid(hip_centre(body, side), (r, r, r))
