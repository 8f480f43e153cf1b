"""Manual segmentations: NIfTI label volumes per scan and region, validated against the slab's grid."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ml.marrow.io import LabelError, load_label
from ml.marrow.regions import REGION_NAMES, region_of
from ukbstudy.imaging.models import Scan

from ..models import ManualSegmentation
from .slabs import slab_grid

LABEL_FOLDER = re.compile(r"^(?P<eid>\d+)_20201_(?P<instance>[23])_0$")


def manual_segmentation_record(*, scan: Scan, region: str, path: Path, user=None) -> ManualSegmentation:
    """Validate the label in ``path`` against ``scan``'s slab and store it (replacing an earlier one)."""
    spec = region_of(region)
    shape, affine = slab_grid(scan, spec)
    mask = load_label(Path(path), shape, affine)
    relative = Path("marrow") / "manual" / str(scan.subject.eid) / f"{scan.instance}_{scan.array_index}" / \
        f"{region}.nii.gz"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".nii.gz", delete=False) as handle:
        shutil.copyfileobj(open(path, "rb"), handle)
    Path(handle.name).replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with transaction.atomic():
        record, _ = ManualSegmentation.objects.update_or_create(
            scan=scan, region=region, defaults={"path": str(relative), "voxels": int(mask.sum()), "sha256": digest,
                                                "source": Path(path).name[:200], "imported_by": user})
    return record


@dataclass
class LabelImportReport:
    imported: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: int = 0

    def as_dict(self) -> dict:
        return {"imported": len(self.imported), "errors": self.errors, "skipped": self.skipped}


def manual_segmentations_import(*, labels_dir: Path, scans, count: int | None = None, seed: int = 0,
                                regions=REGION_NAMES, user=None) -> LabelImportReport:
    """Import ``labels/{eid}_20201_{instance}_0/{region}.nii.gz`` (the synthetic generator's layout) for
    ``count`` of ``scans`` (a seeded choice; all when None), every region in ``regions``."""
    report = LabelImportReport()
    by_key = {(s.subject.eid, s.instance): s for s in scans}
    folders = sorted((f for f in Path(labels_dir).iterdir() if LABEL_FOLDER.match(f.name)),
                     key=lambda f: hashlib.sha256(f"{seed}:{f.name}".encode()).hexdigest())
    chosen = 0
    for folder in folders:
        match = LABEL_FOLDER.match(folder.name)
        scan = by_key.get((int(match["eid"]), int(match["instance"])))
        if scan is None:
            report.skipped += 1
            continue
        if count is not None and chosen >= count:
            break
        chosen += 1
        for region in regions:
            try:
                manual_segmentation_record(scan=scan, region=region, path=folder / f"{region}.nii.gz", user=user)
                report.imported.append(f"{folder.name}/{region}")
            except (LabelError, FileNotFoundError, ValueError) as exc:
                report.errors.append(f"{folder.name}/{region}: {exc}")
    return report
