"""A tiny preprocessed cohort with QC, references and atlas templates for the atlas tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pydicom
import pytest

from ml.synthetic import make_cohort
from tests.archives import rewrite_archive
from tests.workers import wait_for  # noqa: F401  (used by the worker test)
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.subjects.models import ImportBatch

REFERENCE = "22402-2.0"


def drop_station(archive: Path, station: int, out: Path) -> Path:
    """A copy of ``archive`` without the four series of ``station`` (series 4 (n - 1) + 1 .. 4 n)."""
    series = range(4 * (station - 1) + 1, 4 * station + 1)
    with zipfile.ZipFile(archive) as zipped:
        dropped = {name for name in zipped.namelist() if name.endswith(".dcm") and pydicom.dcmread(
            io.BytesIO(zipped.read(name)), stop_before_pixels=True).SeriesNumber in series}
    return rewrite_archive(archive, out, drop=lambda name: name in dropped)


@pytest.fixture(scope="session")
def atlas_cohort(tmp_path_factory):
    """Five clean quarter-scale subjects and one whose liver station (2) is missing."""
    clean = make_cohort(tmp_path_factory.mktemp("atlas-clean"), 5, seed=91, scale=0.25, repeat_fraction=0.0,
                        fault_rates={})
    other = make_cohort(tmp_path_factory.mktemp("atlas-other"), 1, seed=92, scale=0.25, repeat_fraction=0.0,
                        fault_rates={})
    broken = drop_station(other.archives[0], 2, tmp_path_factory.mktemp("atlas-broken"))
    return clean, sorted(clean.archives) + [broken]


@pytest.fixture
def study(atlas_cohort, rater):
    """Imported, preprocessed, QC-passed scans; references for the first four (dataset A)."""
    clean, archives = atlas_cohort
    report = scans_import_archives(paths=archives)
    scans = sorted((Scan.objects.select_related("subject").get(pk=r.scan_id) for r in report.results),
                   key=lambda s: archives.index(next(a for a in archives if a.name == s.archive_name)))
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.FIELDS, source="test")
    for index, scan in enumerate(scans):
        assert scan_preprocess(scan=scan).ok
        scan.refresh_from_db()
        qc_decision_record(scan=scan, rater=rater, verdict="pass")
        if index < 4:
            ReferenceValue.objects.create(subject=scan.subject, field=REFERENCE, value=2.0 + 3 * index,
                                          import_batch=batch)
    return clean, scans


def label_of(clean, scan: Scan) -> Path:
    return clean.labels_dir / f"{scan.subject.eid}_20201_{scan.instance}_0" / "liver.nii.gz"
