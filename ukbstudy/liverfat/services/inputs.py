"""Network inputs and targets read from the database and the media root."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.conf import settings

from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.selectors.datasets import usable_reference_values


class InputError(ValueError):
    """A scan's network input is missing or does not match the others."""


def network_input_path(scan: Scan) -> Path:
    relative = (scan.derived or {}).get("network_input_array")
    if not relative:
        raise InputError(f"scan {scan.subject.eid}_{scan.instance} has no network input: preprocess it first")
    return Path(settings.MEDIA_ROOT) / relative


def load_inputs(scans: Sequence[Scan]) -> np.ndarray:
    """The scans' 8-bit network inputs stacked as one (N, H, W) uint8 array, decoded once into memory."""
    images, shape = None, None
    for index, scan in enumerate(scans):
        path = network_input_path(scan)
        try:
            image = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"scan {scan.subject.eid}_{scan.instance}: cannot read {path}: {exc}") from exc
        if image.dtype != np.uint8 or image.ndim != 2:
            raise InputError(f"scan {scan.subject.eid}_{scan.instance}: {path} holds {image.dtype} {image.shape}, "
                             "expected a 2D uint8 image")
        if images is None:
            shape = image.shape
            images = np.empty((len(scans), *shape), dtype=np.uint8)
        elif image.shape != shape:
            raise InputError(f"scan {scan.subject.eid}_{scan.instance}: input {image.shape} differs from {shape} "
                             "of the other scans (preprocessed at another scale?)")
        images[index] = image
    if images is None:
        raise InputError("no scans to load")
    return images


def reference_values(scans: Sequence[Scan], field: str) -> np.ndarray:
    """Each scan's reference value: from ``field``, or from the first of a comma-separated list of fields that
    has a value not marked implausible in outlier review (see ``datasets.usable_reference_values``)."""
    values = usable_reference_values([s.subject_id for s in scans], field)
    missing = [scan.subject.eid for scan in scans if scan.subject_id not in values]
    if missing:
        raise InputError(f"{len(missing)} subjects have no value in field {field}, e.g. {missing[:5]}")
    return np.array([values[scan.subject_id] for scan in scans], dtype=np.float64)


def data_fingerprint(scans: Sequence[Scan], targets: np.ndarray | None = None) -> str:
    """SHA-256 over the eids, archive hashes, network input files and targets of a training set, in order."""
    digest = hashlib.sha256()
    for index, scan in enumerate(scans):
        digest.update(f"{scan.subject.eid}:{scan.instance}:{scan.archive_sha256}:".encode())
        digest.update((scan.derived or {}).get("network_input_array", "").encode())
        if targets is not None:
            digest.update(f":{targets[index]:.6g}".encode())
        digest.update(b"\n")
    return digest.hexdigest()
