"""Analytic solids evaluated at voxel centres, and painting them into a tissue volume.

Every solid knows its millimetre bounding box, so painting evaluates only the voxels inside that box:
a full-scale station has ~2.5 million voxels but a vertebra or a femoral head touches a few thousand.
Masks are built by broadcasting per-axis coordinate vectors, never by looping over voxels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ml.synthetic.geometry import Grid

Point = tuple[float, float, float]  # (x, y, z) millimetres
MaskFn = Callable[[Grid], np.ndarray]


def axes(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates shaped for broadcasting over a (z, y, x) volume: Z (nz,1,1), Y (1,ny,1), X (1,1,nx)."""
    as32 = np.float32
    return (grid.z.astype(as32)[:, None, None], grid.y.astype(as32)[None, :, None],
            grid.x.astype(as32)[None, None, :])


@dataclass(frozen=True)
class Ellipsoid:
    """Axis-aligned ellipsoid; a sphere when the three semi-axes are equal."""

    centre: Point
    semi: Point

    def bounds(self) -> tuple[Point, Point]:
        lo = tuple(c - s for c, s in zip(self.centre, self.semi, strict=True))
        hi = tuple(c + s for c, s in zip(self.centre, self.semi, strict=True))
        return lo, hi

    def shrunk(self, by: float) -> Ellipsoid:
        """The ellipsoid ``by`` mm inside this one, e.g. the marrow within a cortical shell."""
        return Ellipsoid(self.centre, tuple(max(s - by, 0.5) for s in self.semi))

    def mask(self, grid: Grid) -> np.ndarray:
        z, y, x = axes(grid)
        (cx, cy, cz), (ax, ay, az) = self.centre, self.semi
        return ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 + ((z - cz) / az) ** 2 <= 1


@dataclass(frozen=True)
class Capsule:
    """All points within ``radius`` of the segment from ``start`` to ``end`` (a rounded cylinder)."""

    start: Point
    end: Point
    radius: float

    def bounds(self) -> tuple[Point, Point]:
        lo = tuple(min(a, b) - self.radius for a, b in zip(self.start, self.end, strict=True))
        hi = tuple(max(a, b) + self.radius for a, b in zip(self.start, self.end, strict=True))
        return lo, hi

    def shrunk(self, by: float) -> Capsule:
        return Capsule(self.start, self.end, max(self.radius - by, 0.5))

    def mask(self, grid: Grid) -> np.ndarray:
        z, y, x = axes(grid)
        start = np.asarray(self.start)
        axis = np.subtract(self.end, self.start)
        offsets = (x - start[0], y - start[1], z - start[2])
        t = np.clip(sum(o * a for o, a in zip(offsets, axis, strict=True)) / float(axis @ axis), 0, 1)
        squared = sum((o - t * a) ** 2 for o, a in zip(offsets, axis, strict=True))
        return squared <= self.radius**2


def stacked_ellipses(grid: Grid, cx: np.ndarray, cy: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of one axis-aligned ellipse per slice (centre cx, cy; semi-axes a, b; a <= 0 means none).

    This is how tube-like anatomy whose section changes along z (trunk, legs, spine, femoral shaft) is
    drawn: the per-slice parameters are computed once, then broadcast over rows and columns.
    """
    z, y, x = axes(grid)
    present = a > 0
    a = np.where(present, a, 1.0).astype(np.float32)
    b = np.where(present, b, 1.0).astype(np.float32)
    tx = ((x - cx.astype(np.float32)[:, None, None]) / a[:, None, None]) ** 2
    ty = ((y - cy.astype(np.float32)[:, None, None]) / b[:, None, None]) ** 2
    return (tx + ty <= 1) & present[:, None, None]


def paint(volume: np.ndarray, grid: Grid, code: int, bounds: tuple[Point, Point], mask: MaskFn,
          over: Sequence[int] | None = None) -> None:
    """Set ``volume`` to ``code`` inside a solid, evaluating only the voxels within ``bounds``.

    ``over`` restricts painting to voxels currently holding one of those codes, which is how an organ
    is kept inside the body cavity without modelling the cavity wall twice.
    """
    box = grid.box(*bounds)
    if box is None:
        return
    inside = mask(grid.sub(box))
    block = volume[box]
    if over is not None:
        inside &= np.isin(block, over)
    block[inside] = code


def paint_solid(volume: np.ndarray, grid: Grid, solid: Ellipsoid | Capsule, code: int,
                over: Sequence[int] | None = None) -> None:
    """Paint one solid (see ``paint``)."""
    paint(volume, grid, code, solid.bounds(), solid.mask, over)


def paint_shelled(volume: np.ndarray, grid: Grid, solid: Ellipsoid | Capsule, shell_mm: float,
                  shell_code: int, core_code: int) -> None:
    """Paint a bone: a low-signal cortical shell of ``shell_mm`` around a marrow core."""
    paint_solid(volume, grid, solid, shell_code)
    paint_solid(volume, grid, solid.shrunk(shell_mm), core_code)
