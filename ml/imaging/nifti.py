"""NIfTI writing for (z, y, x) volumes with a RAS affine; arrays are stored (x, y, z), gzip-compressed.

Signal is stored as uint16 whole numbers (``stored_signal``): the pipeline rounds the fused fat and water to
that precision *before* computing anything from them, so every map made from them (fractions, body mask)
can be made again from the files alone, bit for bit (``maps.load_fraction``).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
from isal import igzip

FRACTION_SLOPE = 1e-4  # fractions stored as uint16 in 1/10,000 (0.01 percentage points)

# Two ways to gzip, both standard gzip members any NIfTI reader opens. Measured on full-scale fused volumes,
# one core: "small" (zlib level 4) keeps a scan's derived files within 20 MB (fat 8.9 MB, water 10.1 MB;
# 0.46 and 0.63 s); "fast" (ISA-L level 2) writes the same volumes five to eight times faster (0.09 and
# 0.08 s) for 8 % more bytes (9.7 and 10.8 MB: about 21.5 MB a scan). zlib levels 5-9 cost two to five
# times as long for 1 % less. A mask is mostly long runs: zlib level 6 halves it (0.15 MB) in 0.1 s.
COMPRESSIONS = ("small", "fast")
GZIP_LEVEL = {"signal": 4, "fraction": 4, "mask": 6}  # zlib, for "small"
ISAL_LEVEL = 2  # for "fast"


def stored_signal(volume: np.ndarray) -> np.ndarray:
    """``volume`` as the uint16 whole numbers a "signal" file holds (rounded, clipped to 0-65535)."""
    return _as_uint16(volume, 1.0)


def volume_image(volume: np.ndarray, affine: np.ndarray, kind: str) -> nib.Nifti1Image:
    """``volume`` (z, y, x, C-ordered) as a NIfTI image. ``kind``: "signal" (uint16; a uint16 volume is
    taken as it is), "fraction" (uint16 scaled to 0-1 by the header's slope, so viewers and nibabel read
    fractions) or "mask" (uint8)."""
    if kind == "signal":
        data = volume if volume.dtype == np.uint16 else stored_signal(volume)
        image = nib.Nifti1Image(data.transpose(2, 1, 0), affine)
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
    return image


def save_volume(path: Path, volume: np.ndarray, affine: np.ndarray, kind: str, compression: str = "small") -> None:
    """Write ``volume`` as NIfTI (see ``volume_image``); a ``.gz`` name is gzip, ``compression`` "small" or
    "fast" (see ``COMPRESSIONS``)."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"unknown compression {compression!r}; choose one of {', '.join(COMPRESSIONS)}")
    image = volume_image(volume, affine, kind)
    if not path.name.endswith(".gz"):
        nib.save(image, path)
    elif compression == "fast":
        path.write_bytes(igzip.compress(image.to_bytes(), compresslevel=ISAL_LEVEL))
    else:
        path.write_bytes(zlib.compress(image.to_bytes(), GZIP_LEVEL[kind], wbits=31))  # wbits 31: a gzip member


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
