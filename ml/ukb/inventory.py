"""Inventory of a neck-to-knee Dixon archive from its DICOM headers.

The archive's file names and order carry no meaning; everything is read from the headers:
series are grouped by SeriesInstanceUID, typed (in / opp / F / W) by ImageType and SeriesDescription,
grouped into acquisitions that share one slice geometry, and the acquisitions assigned to stations 1-6
by their scale-free geometry (in-plane field of view and head-foot extent) and their position along z.
Departures from the 24-series protocol are recorded as deviations rather than raised, so that a lab
sees and reviews them; only an archive that cannot be read at all, or whose members are not MR images
of one patient and study (of the file name's eid, see ``ml.ukb.identity``), raises ``ArchiveError``.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import pydicom
from pydicom.errors import InvalidDicomError

from . import protocol
from .archive import DEFAULT_LIMITS, ArchiveError, ArchiveLimits, SafeZip, manifest_filenames, parse_archive_name
from .identity import MemberIdentity, check_consistent, check_member
from .stations import Deviation, SeriesInfo, SliceGeometry, assign_stations, group_acquisitions

REQUIRED_TAGS = ("SeriesInstanceUID", "Rows", "Columns", "BitsAllocated", "PixelSpacing", "ImagePositionPatient",
                 "ImageOrientationPatient")
UNCOMPRESSED_SYNTAXES = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}


@dataclass
class ArchiveInventory:
    """What an archive holds: kept series per station and type, and every deviation found."""

    eid: int
    field: int
    instance: int
    array: int
    n_files: int
    n_series: int
    study_uid: str
    study_date: str
    manifest: str
    stations: dict[int, dict[str, SeriesInfo]] = field(default_factory=dict)
    deviations: list[Deviation] = field(default_factory=list)

    def stations_json(self) -> dict:
        """JSON-ready ``{"stations": {"1": {"F": {...}, ...}}}``."""
        return {"stations": {str(number): {kind: series.summary() for kind, series in by_type.items()}
                             for number, by_type in sorted(self.stations.items())}}

    def deviations_json(self) -> list[dict]:
        return [asdict(d) for d in self.deviations]

    def series_members(self) -> dict[str, list[str]]:
        """Archive members of every kept series, head to foot: lets readers skip the other files."""
        return {series.series_uid: [s.member for s in series.slices]
                for by_type in self.stations.values() for series in by_type.values()}


@dataclass
class _Slice:
    member: str
    z: float


def inventory_archive(path: str | Path, limits: ArchiveLimits = DEFAULT_LIMITS,
                      eid_in_headers: bool = True) -> ArchiveInventory:
    """Read and check every member of the archive at ``path`` and inventory its Dixon series.

    Every member must be an MR image of one patient and one study (``ml.ukb.identity``); with
    ``eid_in_headers`` its PatientID must also be the eid of the file name.
    """
    name = parse_archive_name(path)
    with SafeZip(path, limits) as archive:
        manifest_info = archive.manifest()
        series, studies, n_files = _read_series(archive, name.eid, eid_in_headers)
        manifest_text = archive.read(manifest_info).decode("utf-8", "replace") if manifest_info else None
    if not series:
        raise ArchiveError(path, "no DICOM series found")
    members = {s.member for one in series.values() for s in one.slices}
    deviations = _manifest_deviations(manifest_text, manifest_info, members)
    acquisitions = group_acquisitions(_dixon_series(series.values(), deviations), deviations.append)
    stations = assign_stations(acquisitions, deviations.append)
    if not stations:
        raise ArchiveError(path, "no Dixon series (in / opp / F / W) of a known station found")
    if len(series) != protocol.EXPECTED_SERIES:
        deviations.append(Deviation("series_count", f"{len(series)} series instead of {protocol.EXPECTED_SERIES}"))
    study_uid, study_date = next(iter(studies.items())) if studies else ("", "")
    return ArchiveInventory(
        eid=name.eid, field=name.field, instance=name.instance, array=name.array, n_files=n_files,
        n_series=len(series), study_uid=study_uid, study_date=study_date,
        manifest=PurePosixPath(manifest_info.filename).name if manifest_info else "",
        stations=stations, deviations=deviations,
    )


def _read_series(archive: SafeZip, eid: int,
                 eid_in_headers: bool) -> tuple[dict[str, SeriesInfo], dict[str, str], int]:
    series: dict[str, SeriesInfo] = {}
    studies: dict[str, str] = {}
    identities: list[MemberIdentity] = []
    n_files = 0
    for info in archive.data_members():
        dataset = _read_dicom(archive, info.filename, archive.read(info))
        identities.append(MemberIdentity.from_dataset(info.filename, dataset))
        check_member(archive.path, identities[-1], eid, eid_in_headers)
        try:
            geometry = SliceGeometry.from_dataset(dataset)
            uid = str(dataset.SeriesInstanceUID)
            if uid not in series:
                series[uid] = SeriesInfo.from_dataset(dataset, geometry)
            position = _slice_position(dataset, geometry)
        except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
            raise ArchiveError(archive.path, f"malformed DICOM header ({type(exc).__name__}: {exc})",
                               member=info.filename) from None
        if series[uid].geometry != geometry:
            raise ArchiveError(archive.path, "slice geometry differs from the rest of its series", member=info.filename)
        series[uid].slices.append(_Slice(info.filename, position))
        studies.setdefault(str(dataset.get("StudyInstanceUID", "")), str(dataset.get("StudyDate", "")))
        n_files += 1
    check_consistent(archive.path, identities)  # after all members: the odd one out is named
    return series, studies, n_files


def _read_dicom(archive: SafeZip, member: str, data: bytes) -> pydicom.Dataset:
    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
    except InvalidDicomError:
        raise ArchiveError(archive.path, "not a DICOM file", member=member) from None
    except Exception as exc:  # pydicom raises many types for damaged files
        raise ArchiveError(archive.path, f"damaged DICOM file ({exc})", member=member) from None
    missing = [tag for tag in REQUIRED_TAGS if tag not in dataset]
    if missing:
        raise ArchiveError(archive.path, f"DICOM file lacks {', '.join(missing)}", member=member)
    try:
        _check_pixel_data(archive, member, dataset)
    except (TypeError, ValueError, AttributeError) as exc:
        reason = f"malformed image header ({type(exc).__name__}: {exc})"
        raise ArchiveError(archive.path, reason, member=member) from None
    return dataset


def _check_pixel_data(archive: SafeZip, member: str, dataset: pydicom.Dataset) -> None:
    if "PixelData" not in dataset:
        raise ArchiveError(archive.path, "DICOM file has no pixel data", member=member)
    syntax = str(dataset.file_meta.get("TransferSyntaxUID", ""))
    if syntax and syntax not in UNCOMPRESSED_SYNTAXES:
        return  # compressed pixel data has no fixed length to check
    expected = (dataset.Rows * dataset.Columns * int(dataset.get("SamplesPerPixel", 1))
                * int(dataset.get("NumberOfFrames", 1) or 1) * int(dataset.BitsAllocated) // 8)
    actual = len(dataset.PixelData)
    if actual < expected:
        raise ArchiveError(archive.path, f"truncated pixel data ({actual} of {expected} bytes)", member=member)


def _slice_position(dataset: pydicom.Dataset, geometry: SliceGeometry) -> float:
    """Position of the slice along its normal (z for axial slices), in mm."""
    (rx, ry, rz), (cx, cy, cz) = geometry.orientation[:3], geometry.orientation[3:]
    normal = (ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx)
    return sum(n * float(p) for n, p in zip(normal, dataset.ImagePositionPatient, strict=True))


def _manifest_deviations(text: str | None, info, members: set[str]) -> list[Deviation]:
    """The manifest (either header style, either date style) against the DICOM files actually found.

    A disagreement is a deviation, never a rejection: the DICOM headers decide what the archive holds.
    """
    if text is None:
        return [Deviation("manifest_missing", "archive has no manifest.csv or manifest.cvs")]
    listed = manifest_filenames(text)
    basenames = {PurePosixPath(m).name for m in members}
    unlisted, absent = basenames - listed, listed - basenames
    if unlisted or absent:
        example = f" (e.g. {min(absent)})" if absent else ""
        return [Deviation("manifest_mismatch", f"{PurePosixPath(info.filename).name}: {len(absent)} listed files "
                                               f"absent{example}, {len(unlisted)} files not listed")]
    return []


def _dixon_series(all_series, deviations: list[Deviation]) -> list[SeriesInfo]:
    """Finish every series; keep the Dixon ones and record the others as extra series."""
    dixon = []
    for series in all_series:
        series.finish()
        deviations.extend(Deviation("series_geometry", message) for message in series.problems)
        if series.series_type is None:
            deviations.append(Deviation("extra_series", f"series {series.series_number} "
                                                        f"({series.description or 'no description'}) is not a Dixon "
                                                        "in/opp/F/W series and was ignored"))
        else:
            dixon.append(series)
    return dixon
