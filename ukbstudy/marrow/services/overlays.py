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

from pathlib import Path

import nibabel as nib
import numpy as np
from django.conf import settings
from django.core.cache import cache

from ml.marrow.overlays import overlay_png
from ml.marrow.regions import region_of

from ..models import Segmentation
from .slabs import SlabMissing, scan_slab, slab_paths

CACHE_SECONDS = 24 * 3600
FALLBACK_HALF_MM = 60.0  # half the picture's side when the model version records no box for the region


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
