"""QC pictures: mean intensity projections of water and fat (coronal and sagittal) as 8-bit PNGs.

Rows run head to foot; coronal images show the patient's right on the left (radiological view). Pixels are
resampled to square millimetres, so anatomy keeps its proportions whatever the voxel size.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def projections(fat: np.ndarray, water: np.ndarray) -> dict[str, np.ndarray]:
    """Mean intensity projections of (z, y, x) volumes: coronal (mean over y) and sagittal (over x)."""
    return {
        "water_coronal": water.mean(axis=1), "fat_coronal": fat.mean(axis=1),
        "water_sagittal": water.mean(axis=2), "fat_sagittal": fat.mean(axis=2),
    }


def to_uint8(image: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """Window 0 to the ``percentile`` of the image into 0-255."""
    top = float(np.percentile(image, percentile)) if image.size else 0.0
    if top <= 0:
        return np.zeros(image.shape, np.uint8)
    return np.round(np.clip(image / top, 0, 1) * 255).astype(np.uint8)


def png_bytes(image: np.ndarray, pixel_mm: tuple[float, float]) -> bytes:
    """PNG of a uint8 image whose pixels are (row, column) = ``pixel_mm`` millimetres, made square."""
    rows, columns = image.shape
    row_mm, column_mm = pixel_mm
    height = max(1, round(rows * row_mm / column_mm))
    picture = Image.fromarray(image, mode="L")
    if height != rows:
        picture = picture.resize((columns, height), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
