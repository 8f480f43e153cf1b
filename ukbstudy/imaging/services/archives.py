"""Import of UK Biobank neck-to-knee archives (field 20201) into the study database.

Every archive is imported on its own and atomically: it is hashed, inventoried from its DICOM headers
(``ml.ukb.inventory``), copied under MEDIA_ROOT and recorded as a Scan in one transaction, or rejected
with the reason and nothing written. An archive whose members are not MR images of one patient and
one study, or (with ``UKB_ARCHIVE_EID_IN_HEADERS``) whose PatientID is not the eid of its file name, is
rejected (``ml.ukb.identity``). Re-importing an archive with a known SHA-256 is a no-op.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from ml.ukb import protocol
from ml.ukb.archive import ArchiveError, ArchiveLimits, parse_archive_name, sha256_of
from ml.ukb.inventory import ArchiveInventory, inventory_archive
from ukbstudy.subjects.models import ImportBatch, Subject

from ..models import Scan

logger = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]


@dataclass
class ArchiveResult:
    """Outcome for one file: ``imported``, ``duplicate`` (already imported) or ``rejected`` (with reason)."""

    path: str
    status: str
    reason: str = ""
    eid: int | None = None
    scan_id: int | None = None
    deviations: list[str] = field(default_factory=list)


@dataclass
class ArchivesReport:
    results: list[ArchiveResult]
    batch_id: int | None

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.results)
        return {status: counts.get(status, 0) for status in ("imported", "duplicate", "rejected")}

    def as_dict(self) -> dict:
        return {"batch_id": self.batch_id, "counts": self.counts, "results": [asdict(r) for r in self.results]}


def archive_paths_expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders replaced by the zip files below them, in a stable order."""
    expanded = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            expanded.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".zip"))
        else:
            expanded.append(path)
    return expanded


def archive_index_path(stored: Path) -> Path:
    """The JSON index (series UID -> member names) kept beside a stored archive."""
    return stored.with_name(stored.name + ".index.json")


def write_json_atomically(path: Path, value) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value))
    os.replace(temporary, path)


def import_limits() -> ArchiveLimits:
    return ArchiveLimits(**settings.UKB_IMPORT_LIMITS)


class _LazyBatch:
    """Creates the ImportBatch only when the first archive is written, so a run that imports nothing
    leaves the database exactly as it was."""

    def __init__(self, source: str, user):
        self.source = source
        self.user = user
        self.batch = None

    def get(self) -> ImportBatch:
        if self.batch is None:
            self.batch = ImportBatch.objects.create(kind=ImportBatch.Kind.ARCHIVES, source=self.source,
                                                    created_by=self.user)
        return self.batch


def scans_import_archives(*, paths: Iterable[str | Path], user=None,
                          progress: Progress | None = None) -> ArchivesReport:
    """Import every archive in ``paths`` (files or folders); one result per file."""
    files = archive_paths_expand(paths)
    batch = _LazyBatch(source="\n".join(str(p) for p in paths), user=user)
    results = []
    for index, path in enumerate(files):
        results.append(scan_import_archive(path=path, batch=batch))
        if progress:
            progress(index + 1, len(files), f"{path.name}: {results[-1].status}")
    report = ArchivesReport(results=results, batch_id=batch.batch.pk if batch.batch else None)
    if batch.batch:
        ImportBatch.objects.filter(pk=batch.batch.pk).update(summary={"counts": report.counts})
    return report


def scan_import_archive(*, path: Path, batch: _LazyBatch) -> ArchiveResult:
    try:
        return _import_archive(path, batch)
    except ArchiveError as exc:
        logger.info("rejected %s", exc)
        return ArchiveResult(path=str(path), status="rejected", reason=str(exc))
    except Exception as exc:  # one bad file must not stop a batch of thousands: report it and go on
        logger.exception("unexpected error importing %s", path)
        return ArchiveResult(path=str(path), status="rejected",
                             reason=f"{Path(path).name}: unexpected error ({type(exc).__name__}: {exc})")


def _import_archive(path: Path, batch: _LazyBatch) -> ArchiveResult:
    if not path.is_file():
        raise ArchiveError(path, "no such file")
    name = parse_archive_name(path)
    _check_field_and_instance(path, name)
    sha = sha256_of(path)
    duplicate = _duplicate_result(path, sha)
    if duplicate:
        return duplicate
    _check_subject(path, name)
    stored = _store_archive(path, name, sha)
    try:
        # Everything from here on reads the stored copy, whose hash was checked: what is recorded is
        # exactly what is kept, even if the source changes meanwhile.
        inventory = inventory_archive(stored, import_limits(), eid_in_headers=settings.UKB_ARCHIVE_EID_IN_HEADERS)
        write_json_atomically(archive_index_path(stored), inventory.series_members())
        scan = _record_scan(path, sha, stored, inventory, batch)
    except IntegrityError:
        _discard(stored)
        concurrent = _duplicate_result(path, sha)
        if concurrent:
            return concurrent
        raise ArchiveError(path, "a scan for this participant and visit was imported concurrently") from None
    except BaseException:
        _discard(stored)
        raise
    return ArchiveResult(path=str(path), status="imported", eid=name.eid, scan_id=scan.pk,
                         deviations=[d.message for d in inventory.deviations])


def _duplicate_result(path: Path, sha: str) -> ArchiveResult | None:
    scan = Scan.all_objects.filter(archive_sha256=sha).select_related("subject").first()
    if scan is None:
        return None
    return ArchiveResult(path=str(path), status="duplicate", eid=scan.subject.eid, scan_id=scan.pk,
                         reason=f"already imported as scan {scan}")


def _check_field_and_instance(path: Path, name) -> None:
    if name.field != protocol.FIELD_ID:
        raise ArchiveError(path, f"field {name.field} is not {protocol.FIELD_ID} (neck-to-knee body MRI)")
    if name.instance not in protocol.IMAGING_INSTANCES:
        raise ArchiveError(path, f"instance {name.instance} is not an imaging visit (2 or 3)")


def _check_subject(path: Path, name) -> None:
    subject = Subject.all_objects.filter(eid=name.eid).first()
    if subject is None:
        return
    if subject.withdrawn:
        raise ArchiveError(path, f"participant {name.eid} has withdrawn; nothing is imported for them")
    other = Scan.all_objects.filter(subject=subject, field_id=name.field, instance=name.instance,
                                    array_index=name.array).first()
    if other:
        raise ArchiveError(path, f"scan {other} was already imported from a different archive "
                                 f"(SHA-256 {other.archive_sha256[:12]}...); remove it first to replace it")


def _store_archive(path: Path, name, sha: str) -> Path:
    """Copy the archive to its place under MEDIA_ROOT; the copy appears there complete or not at all."""
    # A folder per archive hash: two different archives with one file name never share a path.
    relative = Path("archives") / str(name.field) / str(name.eid) / sha[:16] / path.name
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".importing-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as out:
            copied_sha = sha256_of(path, copy_to=out)
        if copied_sha != sha:
            raise ArchiveError(path, "the file changed while it was being imported; import it again")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _discard(stored: Path) -> None:
    """Remove a copy that no scan row refers to (a concurrent import of the same archive may own it)."""
    relative = str(stored.relative_to(settings.MEDIA_ROOT))
    if not Scan.all_objects.filter(archive_path=relative).exists():
        stored.unlink(missing_ok=True)
        archive_index_path(stored).unlink(missing_ok=True)
        for folder in (stored.parent, stored.parent.parent):  # the hash and eid folders, if now empty
            try:
                folder.rmdir()
            except OSError:
                break


def _record_scan(path: Path, sha: str, stored: Path, inventory: ArchiveInventory, batch: _LazyBatch) -> Scan:
    batch_created_here = batch.batch is None
    try:
        return _create_scan(path, sha, stored, inventory, batch)
    except BaseException:
        if batch_created_here:
            batch.batch = None  # rolled back with the scan
        raise


def _create_scan(path: Path, sha: str, stored: Path, inventory: ArchiveInventory, batch: _LazyBatch) -> Scan:
    with transaction.atomic():
        subject, _ = Subject.all_objects.get_or_create(eid=inventory.eid)
        return Scan.objects.create(
            subject=subject, field_id=inventory.field, instance=inventory.instance, array_index=inventory.array,
            archive_sha256=sha, archive_path=str(stored.relative_to(settings.MEDIA_ROOT)),
            archive_name=path.name, archive_bytes=path.stat().st_size,
            study_date=_parse_dicom_date(inventory.study_date), study_uid=inventory.study_uid[:64],
            n_series=inventory.n_series, n_files=inventory.n_files,
            inventory={**inventory.stations_json(), "manifest": inventory.manifest},
            deviations=inventory.deviations_json(), n_deviations=len(inventory.deviations),
            import_batch=batch.get(),
        )


def _parse_dicom_date(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
