"""Coronal slice tiles of a scan's fused fat and water volumes for the QC viewer (``ml.imaging.slices``).

The browser never gets the fused NIfTI (tens of megabytes): the first tile asked for makes a uint8 stack
of the volume's coronal slices (about 14 MB at full scale, a third of a second), kept in the viewer cache
(``IMAGING_VIEWER_CACHE_ROOT``, outside the media root, so it never counts against a scan's storage) under
the scan's run folder name, so a new preprocessing run, which writes a new folder, never serves an old
stack. Each tile is then one slice of the memory-mapped stack as a PNG. The cache keeps at most
``IMAGING_VIEWER_CACHE_BYTES``: making a stack removes those looked at longest ago beyond it (a rater moves
through the queue; a stack comes back in a third of a second). Two requests making the same stack each
write their own temporary file and the last rename wins; the files are identical. Runs made before the cache
moved kept their stack beside their derived files (``coronal_fat.npy``): it is still read from there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from django.conf import settings

from ml.imaging.slices import KINDS, read_stack, slice_png

from ..models import Scan


class SliceUnavailable(Exception):
    """The scan has no such volume or slice (not processed, unknown kind, index out of range)."""


def _media_path(relative: str) -> Path:
    media = Path(settings.MEDIA_ROOT).resolve()
    path = (media / relative).resolve()
    if not path.is_relative_to(media):
        raise SliceUnavailable("derived path outside the media folder")
    return path


def scan_slice_stack(*, scan: Scan, kind: str) -> np.ndarray:
    """The (y, z, x) uint8 coronal stack of the scan's fused ``kind`` volume, memory-mapped; made and
    cached on the first call."""
    if kind not in KINDS or kind not in scan.derived or "folder" not in scan.derived:
        raise SliceUnavailable(f"scan {scan.pk} has no fused {kind} volume")
    beside = _media_path(scan.derived["folder"]) / f"coronal_{kind}.npy"  # an older run's
    if beside.is_file():
        return np.load(beside, mmap_mode="r")
    cached = _cache_path(scan.derived["folder"], kind)
    if not cached.is_file():
        source = _media_path(scan.derived[kind])
        if not source.is_file():
            raise SliceUnavailable(f"the fused {kind} volume of scan {scan.pk} is missing")
        cached.parent.mkdir(parents=True, exist_ok=True)
        _save_atomically(cached, read_stack(source))
        viewer_cache_trim(keep=cached)
    else:
        os.utime(cached)  # looked at now: the last to go
    return np.load(cached, mmap_mode="r")


def _cache_path(folder: str, kind: str) -> Path:
    root = Path(settings.IMAGING_VIEWER_CACHE_ROOT).resolve()
    path = (root / folder / f"coronal_{kind}.npy").resolve()
    if not path.is_relative_to(root):
        raise SliceUnavailable("derived path outside the viewer cache")
    return path


def viewer_cache_trim(*, keep: Path | None = None) -> int:
    """Remove the stacks used longest ago until the cache holds at most IMAGING_VIEWER_CACHE_BYTES (``keep``,
    the one just made, stays); returns the bytes removed."""
    root = Path(settings.IMAGING_VIEWER_CACHE_ROOT)
    stacks = []
    for path in root.rglob("coronal_*.npy"):
        try:
            found = path.stat()
        except OSError:  # removed meanwhile by another request
            continue
        stacks.append((found.st_mtime_ns, found.st_size, path))
    excess, removed = sum(size for _, size, _ in stacks) - settings.IMAGING_VIEWER_CACHE_BYTES, 0
    for _, size, path in sorted(stacks):
        if excess <= 0:
            break
        if path != keep:
            path.unlink(missing_ok=True)
            excess, removed = excess - size, removed + size
    return removed


def _save_atomically(path: Path, array: np.ndarray) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npy")
    try:
        with os.fdopen(handle, "wb") as out:
            np.save(out, array)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def scan_slice_png(*, scan: Scan, kind: str, index: int) -> bytes:
    """Coronal slice ``index`` of the scan's ``kind`` volume as a PNG of square-millimetre pixels."""
    spacing = scan.preprocessing.get("grid", {}).get("spacing_zyx_mm")
    if not spacing:
        raise SliceUnavailable(f"scan {scan.pk} has no fused grid recorded")
    stack = scan_slice_stack(scan=scan, kind=kind)
    if not 0 <= index < stack.shape[0]:
        raise SliceUnavailable(f"scan {scan.pk} has {stack.shape[0]} coronal slices, not slice {index}")
    dz, _, dx = spacing
    return slice_png(stack, index, (dz, dx))
