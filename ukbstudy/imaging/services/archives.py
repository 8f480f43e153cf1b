"""Import of UK Biobank neck-to-knee archives (field 20201) into the study database.

Every archive is imported on its own and atomically: it is hashed, inventoried from its DICOM headers
(``ml.ukb.inventory``), copied under MEDIA_ROOT and recorded as a Scan in one transaction, or rejected
with the reason and nothing written. An archive whose members are not MR images of one patient and
one study, or (with ``UKB_ARCHIVE_EID_IN_HEADERS``) whose PatientID is not the eid of its file name, is
rejected (``ml.ukb.identity``). Re-importing an archive with a known SHA-256 is a no-op.

``in_place`` (default ``IMAGING_ARCHIVES_IN_PLACE``) registers archives where they lie instead of copying
them (a 42 MB copy per scan is 4 TB at 100,000 scans): the scan records the absolute path, size and
modification time besides the SHA-256, nothing is written beside the archive (its series index goes under
MEDIA_ROOT) and nothing ever deletes it. Readers check it through ``archive_files.scan_archive_file``.
"""

from __future__ import annotations

import hashlib
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
from ukbstudy.subjects.models import ImportBatch, Subject, Visit

from ..models import Scan
from .archive_files import ArchiveFileError, scan_archive_file

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
    """The JSON index (series UID -> member names) of an archive: beside our copy under MEDIA_ROOT, or under
    MEDIA_ROOT/archive-index for an archive registered in place, whose folder is not ours (and may be
    read-only); keyed by its path, so the importer and the readers find it from the path alone."""
    if stored.is_relative_to(Path(settings.MEDIA_ROOT) / "archives"):
        return stored.with_name(stored.name + ".index.json")
    key = hashlib.sha256(str(stored).encode()).hexdigest()[:16]
    return Path(settings.MEDIA_ROOT) / "archive-index" / key / (stored.name + ".index.json")


def archive_index(archive: Path) -> dict[str, list[str]] | None:
    """The archive's index as the importer wrote it (``archive_index_path``), or None when there is none (the
    pipeline then finds the members itself)."""
    path = archive_index_path(archive)
    return json.loads(path.read_text()) if path.exists() else None


def write_json_atomically(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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


def scans_import_archives(*, paths: Iterable[str | Path], user=None, progress: Progress | None = None,
                          in_place: bool | None = None) -> ArchivesReport:
    """Import every archive in ``paths`` (files or folders); one result per file. ``in_place`` registers the
    archives where they are instead of copying them; None takes ``IMAGING_ARCHIVES_IN_PLACE`` (off unless
    set), the deployment's choice."""
    if in_place is None:
        in_place = settings.IMAGING_ARCHIVES_IN_PLACE
    files = archive_paths_expand(paths)
    batch = _LazyBatch(source="\n".join(str(p) for p in paths), user=user)
    results = []
    for index, path in enumerate(files):
        results.append(scan_import_archive(path=path, batch=batch, in_place=in_place))
        if progress:
            progress(index + 1, len(files), f"{path.name}: {results[-1].status}")
    report = ArchivesReport(results=results, batch_id=batch.batch.pk if batch.batch else None)
    if batch.batch:
        ImportBatch.objects.filter(pk=batch.batch.pk).update(summary={"counts": report.counts})
    return report


def scan_import_archive(*, path: Path, batch: _LazyBatch, in_place: bool = False) -> ArchiveResult:
    try:
        return _import_archive(path, batch, in_place)
    except ArchiveError as exc:
        logger.info("rejected %s", exc)
        return ArchiveResult(path=str(path), status="rejected", reason=str(exc))
    except Exception as exc:  # one bad file must not stop a batch of thousands: report it and go on
        logger.exception("unexpected error importing %s", path)
        return ArchiveResult(path=str(path), status="rejected",
                             reason=f"{Path(path).name}: unexpected error ({type(exc).__name__}: {exc})")


def _import_archive(path: Path, batch: _LazyBatch, in_place: bool) -> ArchiveResult:
    if not path.is_file():
        raise ArchiveError(path, "no such file")
    name = parse_archive_name(path)
    _check_field_and_instance(path, name)
    hashed = path.stat()
    sha = sha256_of(path)
    duplicate = _duplicate_result(path, sha, in_place_state=hashed if in_place else None)
    if duplicate:
        return duplicate
    _check_subject(path, name)
    stored = _in_place_path(path) if in_place else _store_archive(path, name, sha)
    try:
        inventory = _inventory(stored, unchanged_since=hashed if in_place else None)
        scan = _record_scan(path, sha, stored, inventory, batch, in_place, hashed if in_place else None)
    except IntegrityError:
        _discard(stored, in_place=in_place)
        concurrent = _duplicate_result(path, sha)
        if concurrent:
            return concurrent
        raise ArchiveError(path, "a scan for this participant and visit was imported concurrently") from None
    except BaseException:
        _discard(stored, in_place=in_place)
        raise
    return ArchiveResult(path=str(path), status="imported", eid=name.eid, scan_id=scan.pk,
                         deviations=[d.message for d in inventory.deviations])


def _inventory(stored: Path, *, unchanged_since: os.stat_result | None) -> ArchiveInventory:
    """Inventory the file the scan will point at and write its series index. A copy was hashed as it was
    written; an archive read in place must show the size and time it had when hashed, or what is recorded
    might not be what was hashed."""
    inventory = inventory_archive(stored, import_limits(), eid_in_headers=settings.UKB_ARCHIVE_EID_IN_HEADERS)
    if unchanged_since is not None and not _same_file_state(stored.stat(), unchanged_since):
        raise ArchiveError(stored, "the file changed while it was being imported; import it again")
    write_json_atomically(archive_index_path(stored), inventory.series_members())
    return inventory


def _same_file_state(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)


def _in_place_path(path: Path) -> Path:
    """The absolute path recorded for an archive registered where it is (symbolic links kept as given: a
    mount point's link is the name that stays valid)."""
    absolute = Path(os.path.abspath(path))
    limit = Scan._meta.get_field("archive_path").max_length
    if len(str(absolute)) > limit:
        raise ArchiveError(path, f"its absolute path is longer than {limit} characters; move or link it")
    return absolute


def _duplicate_result(path: Path, sha: str, *, in_place_state: os.stat_result | None = None
                      ) -> ArchiveResult | None:
    """The result for an archive already imported; ``in_place_state`` (its state when hashed, for an import
    in place) lets a moved archive registered in place be pointed at its new place."""
    scan = Scan.all_objects.filter(archive_sha256=sha).select_related("subject").first()
    if scan is None:
        return None
    reason = f"already imported as scan {scan}"
    if in_place_state is not None and _relocate(scan, _in_place_path(path), in_place_state):
        reason += f"; its archive was missing or changed at the recorded path, now registered at {path}"
    return ArchiveResult(path=str(path), status="duplicate", eid=scan.subject.eid, scan_id=scan.pk,
                         reason=reason)


def _relocate(scan: Scan, found: Path, state: os.stat_result) -> bool:
    """An archive registered in place that was moved: importing it in place from where it is now (same
    SHA-256, so the same bytes) points the scan there, the remedy the archive check names. A scan whose
    recorded file is still good is left alone (the same archive in two places)."""
    if not scan.archive_in_place or Path(scan.archive_path) == found:
        return False
    try:
        scan_archive_file(scan=scan)
        return False
    except ArchiveFileError:
        pass
    old_index, new_index = archive_index_path(Path(scan.archive_path)), archive_index_path(found)
    Scan.all_objects.filter(pk=scan.pk).update(archive_path=str(found), archive_bytes=state.st_size,
                                               archive_mtime_ns=state.st_mtime_ns)
    if old_index.exists():
        new_index.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old_index, new_index)
    return True


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


def _discard(stored: Path, *, in_place: bool) -> None:
    """Remove what this import wrote and no scan row refers to (a concurrent import of the same archive may
    own it): our copy and its index, or, for an archive registered in place, only our index of it: the
    archive itself is not ours and is never deleted."""
    if Scan.all_objects.filter(archive_path=_recorded_path(stored, in_place)).exists():
        return
    index = archive_index_path(stored)
    index.unlink(missing_ok=True)
    if in_place:
        _remove_if_empty(index.parent)
        return
    stored.unlink(missing_ok=True)
    _remove_if_empty(stored.parent, stored.parent.parent)  # the hash and eid folders


def _remove_if_empty(*folders: Path) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break


def _recorded_path(stored: Path, in_place: bool) -> str:
    """``Scan.archive_path``: absolute for an archive registered in place, else relative to MEDIA_ROOT."""
    return str(stored) if in_place else str(stored.relative_to(settings.MEDIA_ROOT))


def _record_scan(path: Path, sha: str, stored: Path, inventory: ArchiveInventory, batch: _LazyBatch,
                 in_place: bool, hashed: os.stat_result | None) -> Scan:
    batch_created_here = batch.batch is None
    try:
        return _create_scan(path, sha, stored, inventory, batch, in_place, hashed)
    except BaseException:
        if batch_created_here:
            batch.batch = None  # rolled back with the scan
        raise


def _create_scan(path: Path, sha: str, stored: Path, inventory: ArchiveInventory, batch: _LazyBatch,
                 in_place: bool, hashed: os.stat_result | None) -> Scan:
    # What scan_archive_file checks the file against from now on: for an archive in place, the state it was
    # hashed in (a change after that must not be recorded beside the old hash); for our copy, the copy's.
    state = hashed or stored.stat()
    with transaction.atomic():
        subject, _ = Subject.all_objects.get_or_create(eid=inventory.eid)
        visit, _ = Visit.all_objects.get_or_create(subject=subject, instance=inventory.instance)
        return Scan.objects.create(
            subject=subject, visit=visit, field_id=inventory.field, instance=inventory.instance,
            array_index=inventory.array,
            archive_sha256=sha, archive_path=_recorded_path(stored, in_place), archive_in_place=in_place,
            archive_name=path.name, archive_bytes=state.st_size, archive_mtime_ns=state.st_mtime_ns,
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
