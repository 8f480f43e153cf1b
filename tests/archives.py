"""Synthetic cohorts and archive surgery for import tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from ml.synthetic import make_cohort
from ml.synthetic.archive import patient_of, write_archive
from ml.synthetic.faults import FaultPlan
from ml.synthetic.population import make_population
from ml.synthetic.scan import Scan, scan_visit
from ml.synthetic.seeding import stream


def pydicom_test_file(name: str) -> Path:
    """A real MR file shipped inside pydicom (MR_small.dcm, MR_truncated.dcm)."""
    return Path(get_testdata_file(name))


def cohort_archives(out: Path, n: int, seed: int, faults: dict[str, float] | None = None) -> list[Path]:
    """Archives of a small fast cohort (scale 0.25) with the given faults forced (or none)."""
    summary = make_cohort(out, n, seed=seed, scale=0.25, repeat_fraction=0.0, fault_rates=faults or {})
    return sorted(Path(p) for p in summary.archives)


def planted_archive(out: Path, seed: int, plan: FaultPlan, scale: float = 0.25) -> tuple[Path, Scan]:
    """The archive of one synthetic visit with exactly the faults of ``plan``, and the generator's scan
    (its runs, labels and truth) to check an import against."""
    visit = replace(make_population(1, seed, 0.0, {}).visits[0], faults=plan)
    scan = scan_visit(visit, seed, scale)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{visit.name}.zip"
    rng = stream(seed, "archive", visit.subject.eid, visit.instance)
    write_archive(path, scan, patient_of(scan, seed), seed, rng)
    return path, scan


def rewrite_archive(source: Path, target_dir: Path, *, add: dict[str, bytes] | None = None,
                    drop: Callable[[str], bool] | None = None, name: str | None = None) -> Path:
    """A copy of ``source`` with members added or dropped (and optionally another file name)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / (name or source.name)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if drop is None or not drop(info.filename):
                dst.writestr(info.filename, src.read(info))
        for member, data in (add or {}).items():
            dst.writestr(member, data)
    return target


IDENTITY_KEYWORDS = ("PatientID", "PatientName", "StudyInstanceUID")


def dicom_with(data: bytes, **elements: str) -> bytes:
    """The DICOM file ``data`` with the header elements given by keyword replaced."""
    dataset = pydicom.dcmread(io.BytesIO(data))
    for keyword, value in elements.items():
        setattr(dataset, keyword, value)
    out = io.BytesIO()
    dataset.save_as(out)
    return out.getvalue()


def dicom_members(path: Path) -> list[str]:
    """Names of the DICOM files of an archive, in archive order."""
    with zipfile.ZipFile(path) as archive:
        return [name for name in archive.namelist() if name.endswith(".dcm")]


def archive_identity(path: Path) -> dict[str, str]:
    """PatientID, PatientName and StudyInstanceUID of the archive's first DICOM file."""
    with zipfile.ZipFile(path) as archive:
        dataset = pydicom.dcmread(io.BytesIO(archive.read(dicom_members(path)[0])))
    return {keyword: str(dataset.get(keyword, "")) for keyword in IDENTITY_KEYWORDS}


def rewrite_headers(source: Path, target_dir: Path, which: Callable[[str], bool], **elements: str) -> Path:
    """A copy of ``source`` whose DICOM members chosen by ``which`` (member name -> bool) carry ``elements``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / source.name
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            chosen = info.filename.endswith(".dcm") and which(info.filename)
            dst.writestr(info.filename, dicom_with(data, **elements) if chosen else data)
    return target
