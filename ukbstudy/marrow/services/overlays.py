"""The review list's pictures: a segmentation's mask over the fat-fraction slab around the region's centre.

A small PNG made on demand from the stored files (the station's fat and water volumes, the mask NIfTI) and
kept in the cache under a key that changes when either file is rewritten (a re-segmentation), so a review
list of 200 rows decodes each slab once. The picture is the coronal slice through the region's centre of
mass (or, when the mask misses that slice, the slice holding most of the mask), cropped to the region's box
(the network's view of it) around that centre, rows head to foot and the participant's right on the left (as
the QC pictures), resampled to square millimetres. The fat fraction (0-100 %) is grey, the mask orange with
its outline solid. An Empty segmentation has no mask: its picture is the slab around the box's centre.
"""

from __future__ import annotations

import io
from pathlib import Path

import nibabel as nib
import numpy as np
from django.conf import settings
from django.core.cache import cache
from PIL import Image
from scipy import ndimage

from ml.marrow.regions import region_of

from ..models import Segmentation
from .slabs import SlabMissing, scan_slab, slab_paths

CACHE_SECONDS = 24 * 3600
FALLBACK_HALF_MM = 60.0  # half the picture's side when the model version records no box for the region
LONGEST_SIDE_PX = 240
MASK_RGB = np.array([255, 140, 0], dtype=float)
FILL_ALPHA = 0.4


class OverlayUnavailable(ValueError):
    """The slab (or the mask a segmentation names) is not on disk: there is nothing to draw."""


def segmentation_overlay_png(*, segmentation: Segmentation) -> bytes:
    """The segmentation's overlay as a PNG, from the cache when its files have not changed since."""
    key = _cache_key(segmentation)
    body = cache.get(key)
    if body is None:
        body = _render(segmentation)
        cache.set(key, body, CACHE_SECONDS)
    return body


def _mask_path(segmentation: Segmentation) -> Path | None:
    return Path(settings.MEDIA_ROOT) / segmentation.mask_path if segmentation.mask_path else None


def _cache_key(segmentation: Segmentation) -> str:
    region = region_of(segmentation.region)
    try:
        files = [slab_paths(segmentation.scan, region.station)[0], _mask_path(segmentation)]
        stamps = [path.stat().st_mtime_ns if path else 0 for path in files]
    except (SlabMissing, OSError) as exc:
        raise OverlayUnavailable(str(exc)) from exc
    return f"marrow-overlay:v1:{segmentation.pk}:{stamps[0]}:{stamps[1]}"


def _render(segmentation: Segmentation) -> bytes:
    region = region_of(segmentation.region)
    try:
        fat, water, affine = scan_slab(segmentation.scan, region)
        path = _mask_path(segmentation)
        mask = np.asanyarray(nib.load(path).dataobj).transpose(2, 1, 0) > 0 if path else np.zeros(fat.shape, bool)
    except (SlabMissing, OSError) as exc:
        raise OverlayUnavailable(str(exc)) from exc
    if mask.shape != fat.shape:
        raise OverlayUnavailable(f"mask {segmentation.mask_path} {mask.shape} is not on its slab's grid {fat.shape}")
    centre = _centre(segmentation, fat.shape)
    return overlay_png(fat, water, mask, affine, centre, _half_size(segmentation, affine))


def _centre(segmentation: Segmentation, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The mask's centre of mass, else the centre of the region's box in the model version, else the slab's."""
    box = _box(segmentation)
    if segmentation.centre:
        centre = segmentation.centre
    elif box:
        centre = [start + size / 2 for start, size in zip(box["start"], box["size"], strict=True)]
    else:
        centre = [extent / 2 for extent in shape]
    return tuple(int(np.clip(round(c), 0, extent - 1)) for c, extent in zip(centre, shape, strict=True))


def _box(segmentation: Segmentation) -> dict | None:
    regions = (segmentation.model_version.config or {}).get("regions", {})
    return regions.get(segmentation.region, {}).get("box")


def _half_size(segmentation: Segmentation, affine: np.ndarray) -> tuple[int, int]:
    """Half the picture's (rows, columns) in voxels: half the region's box (z, x), else FALLBACK_HALF_MM."""
    box = _box(segmentation)
    if box:
        return max(8, box["size"][0] // 2), max(8, box["size"][2] // 2)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)  # mm per voxel along x, y, z
    return int(FALLBACK_HALF_MM / spacing[2]), int(FALLBACK_HALF_MM / spacing[0])


def overlay_png(fat: np.ndarray, water: np.ndarray, mask: np.ndarray, affine: np.ndarray,
                centre: tuple[int, int, int], half: tuple[int, int]) -> bytes:
    """(z, y, x) fat, water and mask of a slab: the coronal slice through ``centre`` (or the mask's fullest
    slice when the mask misses it), ``half`` (rows, columns) voxels each side of the centre, as an RGB PNG
    of square millimetres (voxels kept sharp, as ``ml.imaging.qc_images.png_bytes`` keeps proportions)."""
    grey, cut = _coronal_crop(fat, water, mask, centre, half)
    grey, cut = _oriented(grey, affine), _oriented(cut.astype(np.uint8), affine)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)  # mm per voxel along x, y, z
    size = _size(grey.shape, (float(spacing[2]), float(spacing[0])))
    grey = np.asarray(Image.fromarray(grey).resize(size, Image.Resampling.NEAREST))
    cut = np.asarray(Image.fromarray(cut).resize(size, Image.Resampling.NEAREST)) > 0
    return _png(_tinted(grey, cut))


def _coronal_crop(fat: np.ndarray, water: np.ndarray, mask: np.ndarray, centre: tuple[int, int, int],
                  half: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(z, x) uint8 fat fraction (0-100 % as 0-255) and boolean mask of the chosen coronal slice, cropped."""
    cz, cy, cx = centre
    counts = mask.sum(axis=(0, 2))  # mask voxels per coronal slice
    y = cy if counts[cy] or not counts.any() else int(np.argmax(counts))
    rows = slice(max(cz - half[0], 0), cz + half[0] + 1)
    columns = slice(max(cx - half[1], 0), cx + half[1] + 1)
    f, w = fat[rows, y, columns], water[rows, y, columns]
    total = f + w
    ff = np.divide(f, total, out=np.zeros_like(total, dtype=float), where=total > 0)
    return np.round(np.clip(ff, 0, 1) * 255).astype(np.uint8), mask[rows, y, columns] > 0


def _size(shape: tuple[int, int], pixel_mm: tuple[float, float]) -> tuple[int, int]:
    """(width, height) in pixels of square millimetres, LONGEST_SIDE_PX on the longest side."""
    rows_mm, columns_mm = shape[0] * pixel_mm[0], shape[1] * pixel_mm[1]
    scale = LONGEST_SIDE_PX / max(rows_mm, columns_mm, 1e-6)  # pixels per mm
    return max(1, round(columns_mm * scale)), max(1, round(rows_mm * scale))


def _tinted(grey: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(rows, columns, 3) uint8: the fat fraction in grey, the mask in translucent orange within a solid
    outline one pixel wide (drawn after resampling, so a thin mask still shows the slab under it)."""
    rgb = np.repeat(grey[..., None].astype(float), 3, axis=2)
    inside = ndimage.binary_erosion(mask)
    rgb[inside] = (1 - FILL_ALPHA) * rgb[inside] + FILL_ALPHA * MASK_RGB
    rgb[mask & ~inside] = MASK_RGB
    return np.round(rgb).astype(np.uint8)


def _oriented(picture: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Rows head to foot (world z falling), the participant's right on the left (world x, RAS, falling)."""
    if affine[2, 2] > 0:
        picture = picture[::-1]
    if affine[0, 0] > 0:
        picture = picture[:, ::-1]
    return np.ascontiguousarray(picture)


def _png(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()
