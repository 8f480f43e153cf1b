"""Drawing a marrow segmentation over its slab: the coronal slice through a centre, cropped, at square
millimetres, fat fraction in grey and the mask in orange with a solid outline. Arrays in, PNG bytes out
(ukbstudy.marrow.services.overlays chooses the slice's centre and caches the pictures)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

LONGEST_SIDE_PX = 240
MASK_RGB = np.array([255, 140, 0], dtype=float)
FILL_ALPHA = 0.4


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
