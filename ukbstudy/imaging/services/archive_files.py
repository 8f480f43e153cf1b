"""Where a scan's archive is, and whether it is still the archive that was imported.

Every reader of an archive asks ``scan_archive_file`` for its path. A copy lives under MEDIA_ROOT
(``archive_path`` relative to it); an archive registered in place (``archive_in_place``) stays where the UK
Biobank bulk folder or a shared filesystem keeps it (``archive_path`` absolute) and is not ours to write or
delete. Either way the file must still be what was hashed at import: each call stats it (size and
modification time as recorded, which costs nothing next to reading 42 MB), and hashes it in full only when
the time differs, so a moved, replaced or edited archive is reported, naming the scan, the path and what is
wrong, and never read as if it were that scan. A file rewritten with its size and time kept is beyond a
stat: ``check_archives --hash`` (``full_hash``) reads every byte.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from ml.ukb.archive import sha256_of

from ..models import Scan

MISSING, CHANGED, UNREADABLE = "missing", "changed", "unreadable"


class ArchiveFileError(Exception):
    """A scan's archive is not where it was registered (``missing``), is not the bytes imported
    (``changed``) or cannot be examined (``unreadable``); the message names scan, path and problem."""

    def __init__(self, *, scan: Scan, path: Path, kind: str, detail: str):
        self.eid, self.instance, self.path, self.kind, self.detail = scan.subject.eid, scan.instance, path, kind, detail
        super().__init__(f"archive of scan {scan} at {path} is {kind}: {detail}")


@dataclass
class ArchivesCheckReport:
    checked: int
    problems: list[ArchiveFileError]


def scan_archive_location(*, scan: Scan) -> Path:
    """The path the scan records, unchecked: absolute in place, else under MEDIA_ROOT."""
    if scan.archive_in_place:
        return Path(scan.archive_path)
    return Path(settings.MEDIA_ROOT) / scan.archive_path


def scan_archive_file(*, scan: Scan, full_hash: bool = False) -> Path:
    """The archive of ``scan``, checked to be the one imported (see the module); raises ArchiveFileError."""
    path = scan_archive_location(scan=scan)
    found = _stat(scan, path)
    if found.st_size != scan.archive_bytes:
        raise ArchiveFileError(scan=scan, path=path, kind=CHANGED, detail=(
            f"it has {found.st_size} bytes, {scan.archive_bytes} when imported (modified {_when(found)})"))
    if full_hash or found.st_mtime_ns != scan.archive_mtime_ns:
        _check_hash(scan, path, found)
    return path


def scans_check_archives(*, full_hash: bool = False) -> ArchivesCheckReport:
    """Check every scan's archive (withdrawn participants' scans excepted, as in every default query)."""
    fields = ("subject__eid", "field_id", "instance", "array_index", "archive_sha256", "archive_path",
              "archive_in_place", "archive_bytes", "archive_mtime_ns")
    scans = Scan.objects.select_related("subject").only(*fields).order_by("pk")
    report = ArchivesCheckReport(checked=0, problems=[])
    for scan in scans.iterator(chunk_size=1000):
        report.checked += 1
        try:
            scan_archive_file(scan=scan, full_hash=full_hash)
        except ArchiveFileError as problem:
            report.problems.append(problem)
    return report


def _stat(scan: Scan, path: Path) -> os.stat_result:
    try:
        found = path.stat()
    except FileNotFoundError:
        raise ArchiveFileError(scan=scan, path=path, kind=MISSING, detail=_missing_advice(scan)) from None
    except OSError as exc:
        raise ArchiveFileError(scan=scan, path=path, kind=UNREADABLE, detail=exc.strerror or str(exc)) from None
    if not stat.S_ISREG(found.st_mode):
        raise ArchiveFileError(scan=scan, path=path, kind=UNREADABLE, detail="not a regular file")
    return found


def _missing_advice(scan: Scan) -> str:
    if scan.archive_in_place:
        return ("no file there (moved or deleted?); put it back, or import it in place from where it is now "
                "(import_ukb --in-place PATH), which records the new path")
    return "no file there (the copy under MEDIA_ROOT was moved or deleted); restore it from a backup"


def _check_hash(scan: Scan, path: Path, found: os.stat_result) -> None:
    """Modified since import (or imported before times were recorded): only the SHA-256 tells whether the
    bytes changed. Unchanged bytes get the new time recorded, so the next check is a stat again; the time
    is the one from before hashing, so a write during the hash shows as a new time next time."""
    try:
        sha = sha256_of(path)
    except OSError as exc:
        raise ArchiveFileError(scan=scan, path=path, kind=UNREADABLE, detail=exc.strerror or str(exc)) from None
    if sha != scan.archive_sha256:
        raise ArchiveFileError(scan=scan, path=path, kind=CHANGED, detail=(
            f"modified {_when(found)} and its SHA-256 is now {sha[:12]}..., not {scan.archive_sha256[:12]}... "
            f"as imported"))
    if found.st_mtime_ns != scan.archive_mtime_ns:
        Scan.all_objects.filter(pk=scan.pk).update(archive_mtime_ns=found.st_mtime_ns)
        scan.archive_mtime_ns = found.st_mtime_ns


def _when(found: os.stat_result) -> str:
    return datetime.fromtimestamp(found.st_mtime_ns / 1e9, tz=UTC).isoformat(timespec="seconds")
