"""Volumes the atlas works on, and the readout of a liver fat fraction from warped template masks.

Contract (as everywhere in ``ml.imaging``): arrays are NumPy (z, y, x) with slice 0 head-most, and the
voxel spacing travels with them as ``(dz, dy, dx)`` millimetres. Fat fractions are in [0, 1]; readouts are
returned in percent, the unit of every stored liver fat value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from ml.imaging.nifti import load_volume
from ml.ukb.protocol import FUSED_SPACING_MM

EROSION_DIAMETER_VOXELS = 7  # the paper's spherical kernel, in voxels of its full-resolution fused grid
MIN_INSIDE_BODY = 0.9  # share of a warped liver mask that must lie inside the target's body mask


class AtlasError(Exception):
    """One subject (or template) the atlas cannot measure; the message says which and why."""


@dataclass(frozen=True, eq=False)
class AtlasImage:
    """One scan's fused volumes: water signal, fat fraction and body mask, (z, y, x), with the spacing."""

    water: np.ndarray
    ff: np.ndarray
    body: np.ndarray
    spacing: tuple[float, float, float]  # (dz, dy, dx) mm
    name: str = ""

    def __post_init__(self) -> None:
        shapes = {self.water.shape, self.ff.shape, self.body.shape}
        if len(shapes) != 1 or self.water.ndim != 3:
            raise AtlasError(f"{self.name or 'image'}: water, ff and body mask differ in shape ({sorted(shapes)})")


@dataclass(frozen=True, eq=False)
class Template:
    """A template: its image and its manual liver mask on the same grid."""

    image: AtlasImage
    liver: np.ndarray  # bool (z, y, x)

    def __post_init__(self) -> None:
        if self.liver.shape != self.image.water.shape:
            raise AtlasError(f"template {self.image.name}: liver mask shape {self.liver.shape} differs from its "
                             f"image {self.image.water.shape}")
        if not self.liver.any():
            raise AtlasError(f"template {self.image.name}: the liver mask is empty")


@dataclass(frozen=True)
class Readout:
    """The atlas value of one subject: median FF (%) of the eroded intersection, with its voxel counts."""

    value: float
    voxels: int
    intersection_voxels: int
    warped_voxels: tuple[int, ...]

    def as_dict(self) -> dict:
        return {"raw": round(self.value, 4), "voxels": self.voxels, "intersection_voxels": self.intersection_voxels,
                "warped_voxels": list(self.warped_voxels)}


def load_atlas_image(*, water: Path, body: Path, ff: Path | None = None, fat: Path | None = None,
                     name: str = "") -> AtlasImage:
    """Read the fused NIfTI volumes written by the image pipeline (``ml.imaging.pipeline``): the fat fraction
    from ``ff`` where a run stored one (older runs), else computed from ``fat`` and ``water`` as the pipeline
    computes it (``ml.imaging.maps.load_fraction``)."""
    import nibabel as nib

    from ml.imaging.maps import load_fraction

    if ff is None and fat is None:
        raise AtlasError(f"{name or 'image'}: neither a fat fraction nor a fat volume to compute it from")
    zooms = nib.load(water).header.get_zooms()[:3]  # (dx, dy, dz) of the stored (x, y, z) array
    fraction = load_volume(ff) if ff is not None else load_fraction(fat, water, "ff")
    return AtlasImage(water=load_volume(water), ff=fraction, body=load_volume(body) > 0.5,
                      spacing=(float(zooms[2]), float(zooms[1]), float(zooms[0])), name=name)


def erosion_kernel(spacing: tuple[float, float, float],
                   diameter_voxels: int = EROSION_DIAMETER_VOXELS) -> np.ndarray:
    """The paper's spherical kernel of ``diameter_voxels`` on its 3.0 x 2.232 x 2.232 mm grid, expressed
    in millimetres and sampled on ``spacing``: on coarser (scaled-down) grids it spans the same anatomy."""
    radius_mm = np.array(FUSED_SPACING_MM) * (diameter_voxels - 1) / 2
    radius = radius_mm / np.array(spacing)
    half = np.maximum(np.floor(radius + 1e-6).astype(int), 0)
    grids = np.meshgrid(*(np.arange(-h, h + 1) for h in half), indexing="ij")
    inside = sum((g / max(r, 1e-6)) ** 2 for g, r in zip(grids, radius, strict=True)) <= 1.0 + 1e-6
    return inside


def check_coverage(target: AtlasImage, template: Template) -> None:
    """The target must show the body on every slice where the template's liver lies: both fused grids
    start at station 1's head-most slice, so empty slices there mean a missing station (or no signal)."""
    slices = np.flatnonzero(template.liver.any(axis=(1, 2)))
    has_body = target.body.any(axis=(1, 2))
    empty = [int(z) for z in slices if z >= has_body.size or not has_body[z]]
    if empty:
        raise AtlasError(f"template {template.image.name}: {target.name} has no body signal on {len(empty)} of the "
                         f"slices {slices[0]}-{slices[-1]} where the template's liver lies (missing station?)")


def check_warped(mask: np.ndarray, target: AtlasImage, template_name: str) -> None:
    """A warped liver must land inside the target's body: a missing station or a failed registration
    leaves it (partly) in air or outside the field of view."""
    voxels = int(mask.sum())
    if voxels == 0:
        raise AtlasError(f"template {template_name}: the warped liver mask is empty on {target.name}")
    inside = float((mask & target.body).sum()) / voxels
    if inside < MIN_INSIDE_BODY:
        raise AtlasError(f"template {template_name}: only {inside:.0%} of the warped liver lies inside the body "
                         f"of {target.name} (missing station or failed registration?)")


def liver_readout(ff: np.ndarray, masks: list[np.ndarray], spacing: tuple[float, float, float],
                  diameter_voxels: int = EROSION_DIAMETER_VOXELS) -> Readout:
    """Intersect the warped masks, erode with the spherical kernel and take the median FF (in %)."""
    if not masks:
        raise AtlasError("no warped template masks to combine")
    intersection = np.logical_and.reduce(masks)
    n_intersection = int(intersection.sum())
    if n_intersection == 0:
        raise AtlasError(f"the {len(masks)} warped liver masks do not overlap")
    core = ndimage.binary_erosion(intersection, structure=erosion_kernel(spacing, diameter_voxels))
    voxels = int(core.sum())
    if voxels == 0:
        raise AtlasError(f"nothing is left of the {n_intersection}-voxel mask intersection after erosion")
    return Readout(value=float(np.median(ff[core])) * 100, voxels=voxels, intersection_voxels=n_intersection,
                   warped_voxels=tuple(int(m.sum()) for m in masks))
