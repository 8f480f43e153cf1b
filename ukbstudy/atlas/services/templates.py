"""Atlas templates: a processed scan plus a manual liver mask, validated against the scan's fused grid."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from django.conf import settings
from django.db import transaction

from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import ScanVolumeMissing, scan_fused_header

from ..models import AtlasTemplate

AFFINE_TOLERANCE_MM = 0.05


class TemplateError(ValueError):
    """A mask that cannot serve as a template; the message names the file and what is wrong."""


@dataclass(frozen=True)
class TemplateSet:
    """The templates a run uses, identified by a fingerprint of their ids and mask checksums."""

    templates: tuple[AtlasTemplate, ...]

    @property
    def fingerprint(self) -> str:
        text = ";".join(f"{t.pk}:{t.mask_sha256}" for t in sorted(self.templates, key=lambda t: t.pk))
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> list[dict]:
        return [{"id": t.pk, "scan": t.scan_id, "eid": t.scan.subject.eid, "mask_sha256": t.mask_sha256,
                 "voxels": t.voxels} for t in self.templates]


def template_set_current() -> TemplateSet:
    """The active templates (of participants who have not withdrawn)."""
    return TemplateSet(tuple(AtlasTemplate.objects.filter(active=True).select_related("scan__subject")))


def template_set_of(ids: list[int]) -> TemplateSet:
    found = {t.pk: t for t in AtlasTemplate.objects.filter(pk__in=ids).select_related("scan__subject")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise TemplateError(f"template(s) {missing} no longer exist or their participants have withdrawn")
    return TemplateSet(tuple(found[i] for i in ids))


def atlas_template_add(*, scan: Scan, mask_file: str | Path, user=None, note: str = "") -> AtlasTemplate:
    """Validate ``mask_file`` (a binary NIfTI liver mask on ``scan``'s fused grid) and store it as a template."""
    mask_file = Path(mask_file)
    data = _read_bytes(mask_file)
    voxels = _validate(mask_file, _scan_grid(scan), data)
    sha = hashlib.sha256(data).hexdigest()
    relative = Path("atlas") / "templates" / f"{scan.subject.eid}_{scan.instance}_{sha[:12]}.nii.gz"
    if AtlasTemplate.all_objects.filter(scan=scan, mask_sha256=sha).exists():
        raise TemplateError(f"{mask_file}: this mask is already a template of {scan}")
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    try:
        with transaction.atomic():
            return AtlasTemplate.objects.create(scan=scan, mask_path=str(relative), mask_sha256=sha, voxels=voxels,
                                                created_by=user, note=note[:200])
    except Exception:
        target.unlink(missing_ok=True)
        raise


def atlas_template_deactivate(*, template: AtlasTemplate) -> None:
    """Leave a template out of new runs (values measured with it keep their provenance)."""
    AtlasTemplate.all_objects.filter(pk=template.pk).update(active=False)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _scan_grid(scan: Scan) -> tuple[tuple[int, ...], np.ndarray]:
    """Shape (x, y, z as stored) and affine of the scan's fused volumes."""
    missing = TemplateError(f"{scan} has no fused volumes yet: preprocess it first")
    if scan.processing_state != Scan.State.PROCESSED:
        raise missing
    try:
        image = scan_fused_header(scan=scan)  # fat's header: older runs' ff.nii.gz lies on the same grid
    except ScanVolumeMissing:
        raise missing from None
    return tuple(image.shape), image.affine


def _validate(path: Path, grid: tuple[tuple[int, ...], np.ndarray], data: bytes) -> int:
    try:
        image = nib.Nifti1Image.from_bytes(_gunzip(data))
        mask = np.asarray(image.dataobj)
    except Exception as exc:
        raise TemplateError(f"{path}: not a readable NIfTI file ({type(exc).__name__}: {exc})") from None
    shape, affine = grid
    if mask.shape != shape:
        raise TemplateError(f"{path}: shape {mask.shape} differs from the scan's fused grid {shape} (x, y, z)")
    if not np.allclose(image.affine, affine, atol=AFFINE_TOLERANCE_MM):
        raise TemplateError(f"{path}: affine differs from the scan's fused grid by up to "
                            f"{np.abs(image.affine - affine).max():.3g} mm")
    values = np.unique(mask)
    if not set(values.tolist()) <= {0, 1}:
        raise TemplateError(f"{path}: a mask holds only 0 and 1, found {values[:5].tolist()}")
    voxels = int((mask == 1).sum())
    if voxels == 0:
        raise TemplateError(f"{path}: the mask is empty")
    return voxels


def _gunzip(data: bytes) -> bytes:
    import gzip

    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def template_liver(template: AtlasTemplate) -> np.ndarray:
    """The stored mask as bool (z, y, x)."""
    stored = np.asarray(nib.load(Path(settings.MEDIA_ROOT) / template.mask_path).dataobj)
    return stored.transpose(2, 1, 0) > 0
