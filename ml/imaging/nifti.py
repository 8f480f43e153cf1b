"""NIfTI writing for (z, y, x) volumes with a RAS affine; arrays are stored as (x, y, z)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from isal import igzip

FRACTION_SLOPE = 1e-4  # fractions stored as uint16 in 1/10,000 (0.01 percentage points)


def save_volume(path: Path, volume: np.ndarray, affine: np.ndarray, kind: str) -> None:
    """Write ``volume`` (z, y, x, C-ordered) as NIfTI. ``kind``: "signal" (uint16), "fraction" (uint16 scaled to 0-1
    by the header's slope, so viewers and nibabel read fractions) or "mask" (uint8)."""
    if kind == "signal":
        image = nib.Nifti1Image(_as_uint16(volume, 1.0).transpose(2, 1, 0), affine)
    elif kind == "fraction":
        image = nib.Nifti1Image(_as_uint16(volume, 1 / FRACTION_SLOPE).transpose(2, 1, 0), affine)
        image.header.set_slope_inter(FRACTION_SLOPE, 0.0)
    elif kind == "mask":
        image = nib.Nifti1Image(np.asarray(volume, dtype=np.uint8).transpose(2, 1, 0), affine)
    else:
        raise ValueError(f"unknown volume kind {kind!r}")
    image.header.set_xyzt_units("mm")
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    if path.name.endswith(".gz"):
        # Standard gzip, written by ISA-L: about four times faster than zlib at the same size.
        path.write_bytes(igzip.compress(image.to_bytes(), compresslevel=1))
    else:
        nib.save(image, path)


def _as_uint16(volume: np.ndarray, scale: float, block: int = 16) -> np.ndarray:
    """round(volume * scale) clipped to uint16, a few slices at a time: small temporaries stay in cache
    instead of allocating (and page-faulting) several volume-sized arrays. The (z, y, x) result is
    transposed to (x, y, z) by the caller as a view, which nibabel writes without a copy."""
    out = np.empty(volume.shape, np.uint16)
    for start in range(0, volume.shape[0], block):
        part = volume[start:start + block] * np.float32(scale)
        part += 0.5
        np.clip(part, 0, 65535, out=part)
        out[start:start + block] = part
    return out


def load_volume(path: Path) -> np.ndarray:
    """A saved volume back as float32 (z, y, x), scaling applied."""
    return np.asarray(nib.load(path).get_fdata(dtype=np.float32)).transpose(2, 1, 0)
