"""Reading slabs and label volumes: NIfTI arrays stored (x, y, z) with a RAS affine, returned (z, y, x).

A manual label must lie on its slab's grid: the same shape and the same affine (to 0.01 mm), with only
0 and 1 in it; anything else is refused with an error that names the file.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

AFFINE_TOLERANCE_MM = 0.01


class LabelError(ValueError):
    pass


def load_slab(fat_path: Path, water_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fat and water of one station as float32 (z, y, x), and the station's affine."""
    fat_image = nib.load(fat_path)
    fat = np.asarray(fat_image.get_fdata(dtype=np.float32)).transpose(2, 1, 0)
    water = np.asarray(nib.load(water_path).get_fdata(dtype=np.float32)).transpose(2, 1, 0)
    return fat, water, fat_image.affine


def load_label(path: Path, shape: tuple[int, ...], affine: np.ndarray) -> np.ndarray:
    """The uint8 (z, y, x) mask in ``path``, checked against the slab's ``shape`` (z, y, x) and ``affine``."""
    try:
        image = nib.load(path)
        data = np.asanyarray(image.dataobj)
    except Exception as exc:
        raise LabelError(f"{path.name}: not a readable NIfTI file ({exc})") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    mask = np.asarray(data).transpose(2, 1, 0) if data.ndim == 3 else data
    if mask.shape != tuple(shape):
        raise LabelError(f"{path.name}: shape {mask.shape} (z, y, x) does not match the slab's {tuple(shape)}")
    difference = float(np.abs(image.affine - affine).max())
    if difference > AFFINE_TOLERANCE_MM:
        raise LabelError(f"{path.name}: affine differs from the slab's by up to {difference:.3f} mm "
                         "(not on the slab's grid)")
    values = np.unique(mask)
    if not set(values.tolist()) <= {0, 1}:
        raise LabelError(f"{path.name}: a label must hold only 0 and 1, found {values[:5].tolist()}")
    return mask.astype(np.uint8)
