"""Field 20201 zip archives: flat DICOM files in shuffled order plus the quirky manifest.

Like the real deliveries, the manifest is called ``manifest.cvs`` in about half of the archives, its
columns carry the names public parsers of real archives read (``filename``, ``patientid``, ``date``,
``series discription``, sic), and its dates (``Mar 12, 2017``) are written unquoted, so a naive comma
split yields one field more than the header. A ``seriesid`` column follows the description, so that a
parser which indexes the header row by a data row's description column (as one published 20201
reader does) finds a field there. Importers must still read the DICOM headers, never file names, order
or the manifest.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ml.synthetic.acquisition import SeriesSlot
from ml.synthetic.dicom_writer import AE_TITLE, Patient, SeriesEncoder, series_template, uid
from ml.synthetic.scan import Run, Scan
from ml.ukb.protocol import STATION_BY_NUMBER, series_description

MANIFEST_HEADER = "filename,patientid,studyid,aetitle,date,time,series discription,seriesid"
MANIFEST_NAMES = ("manifest.cvs", "manifest.csv")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Deflate level: on noisy 12-bit images level 1 compresses as well as level 6 (within ~1 %) at a
# fraction of the time, which keeps a full-scale archive within a few seconds.
COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class Member:
    """One DICOM file of an archive: which series and slice it holds and its name."""

    slot: SeriesSlot
    run: Run
    index: int
    sop_uid: str

    @property
    def name(self) -> str:
        return f"{self.sop_uid}.dcm"


def manifest_date(day: date) -> str:
    """``Mar 12, 2017``: the manifest's date style, independent of the locale."""
    return f"{_MONTHS[day.month - 1]} {day.day:02d}, {day.year}"


def members(scan: Scan, seed: int, rng: np.random.Generator) -> list[Member]:
    """Every DICOM file of the archive, in the shuffled order they are stored."""
    runs = {run.acquisition: run for run in scan.runs}
    eid, instance = scan.visit.subject.eid, scan.visit.instance
    listed = [Member(slot, runs[slot.acquisition], k, uid(seed, eid, instance, "sop", slot.number, k))
              for slot in scan.slots for k in range(len(runs[slot.acquisition].grid.z))]
    return [listed[i] for i in rng.permutation(len(listed))]


def series_uid_of(slot: SeriesSlot, patient: Patient, seed: int) -> str:
    """SeriesInstanceUID of one series, shared by its DICOM headers and the manifest's ``seriesid``."""
    return uid(seed, patient.eid, patient.study_uid, "series", slot.number)


def manifest_text(listed: list[Member], patient: Patient, seed: int) -> str:
    """The manifest: header, then one unquoted line per DICOM file, each ending in a newline (LF)."""
    day = manifest_date(patient.started.date())
    lines = [MANIFEST_HEADER]
    for member in listed:
        slot = member.slot
        clock = (patient.started + timedelta(seconds=slot.time_s)).strftime("%H%M%S")
        description = series_description(STATION_BY_NUMBER[slot.acquisition.station], slot.series_type)
        lines.append(f"{member.name},{patient.eid},{patient.study_uid},{AE_TITLE},{day},{clock},{description},"
                     f"{series_uid_of(slot, patient, seed)}")
    return "\n".join(lines) + "\n"


def _encoded(listed: list[Member], patient: Patient, seed: int) -> Iterator[tuple[str, bytes]]:
    """(name, file bytes) in archive order, building one encoder per series on first use."""
    encoders: dict[int, SeriesEncoder] = {}
    for member in listed:
        slot = member.slot
        if slot.number not in encoders:
            template = series_template(slot, member.run.grid, patient, series_uid_of(slot, patient, seed))
            encoders[slot.number] = SeriesEncoder(template)
        pixels = member.run.series[slot.series_type][member.index]
        yield member.name, encoders[slot.number].encode(member.run.grid, member.index, pixels, member.sop_uid)


def write_archive(path: Path, scan: Scan, patient: Patient, seed: int, rng: np.random.Generator) -> None:
    """Write the zip of one visit: shuffled DICOM files, then the manifest (.cvs or .csv)."""
    listed = members(scan, seed, rng)
    manifest_name = MANIFEST_NAMES[int(rng.integers(2))]
    stamp = patient.started.timetuple()[:6]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in _encoded(listed, patient, seed):
            archive.writestr(_info(name, stamp), data, compresslevel=COMPRESS_LEVEL)
        manifest = manifest_text(listed, patient, seed)
        archive.writestr(_info(manifest_name, stamp), manifest, compresslevel=COMPRESS_LEVEL)


def _info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    """Zip entry with a fixed timestamp and permissions, so reruns give identical archives."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def patient_of(scan: Scan, seed: int) -> Patient:
    """Header facts of the visit's participant and study: age (whole years), height and weight at the visit."""
    visit = scan.visit
    subject = visit.subject
    height_m = visit.height_cm / 100
    return Patient(
        eid=subject.eid, sex="M" if subject.sex == 1 else "F", age=int(visit.age_true),
        height_m=height_m, weight_kg=visit.bmi_true * height_m**2,
        study_uid=uid(seed, subject.eid, visit.instance, "study"),
        frame_uid=uid(seed, subject.eid, visit.instance, "frame"), started=visit.acquired,
    )
