"""Safe reading of UK Biobank zip archives (``{eid}_{field}_{instance}_{array}.zip``).

Archives come from outside, so every member is checked before anything is decompressed: no absolute
paths, no ``..`` components, no links, no encryption, and sizes and compression ratios below the limits
(a zip bomb is refused before extraction). Members are read into memory one at a time with a hard cap,
so a central directory that lies about sizes cannot exhaust memory either.
"""

from __future__ import annotations

import hashlib
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from isal import isal_zlib

from .manifest import parse_manifest

ARCHIVE_NAME = re.compile(r"^(?P<eid>\d+)_(?P<field>\d+)_(?P<instance>\d+)_(?P<array>\d+)\.zip$", re.IGNORECASE)
MANIFEST_NAMES = ("manifest.csv", "manifest.cvs")


class ArchiveError(Exception):
    """An archive that cannot be imported; the message names the archive and, if known, the member."""

    def __init__(self, archive: str | Path, message: str, member: str | None = None):
        self.archive = Path(archive).name
        self.member = member
        self.reason = message
        where = f"{self.archive}: {member}" if member else self.archive
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable, so a Celery worker can report it
        return (type(self), (self.archive, self.reason, self.member))


@dataclass(frozen=True)
class ArchiveLimits:
    """Upper bounds checked before extraction."""

    max_archive_bytes: int = 2 * 1024**3
    max_uncompressed_bytes: int = 4 * 1024**3
    max_member_bytes: int = 64 * 1024**2
    max_ratio: float = 200.0
    max_members: int = 20000


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class ArchiveName:
    eid: int
    field: int
    instance: int
    array: int


def parse_archive_name(path: str | Path) -> ArchiveName:
    """``1234567_20201_2_0.zip`` -> ArchiveName(1234567, 20201, 2, 0)."""
    match = ARCHIVE_NAME.match(Path(path).name)
    if not match:
        raise ArchiveError(path, "file name is not of the form {eid}_{field}_{instance}_{array}.zip")
    return ArchiveName(*(int(match[k]) for k in ("eid", "field", "instance", "array")))


def sha256_of(path: str | Path, copy_to: BinaryIO | None = None, chunk_bytes: int = 4 * 1024**2) -> str:
    """SHA-256 of the file; with ``copy_to`` the bytes hashed are also written there (one read for both)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
            if copy_to is not None:
                copy_to.write(chunk)
    return digest.hexdigest()


class SafeZip:
    """A zip archive whose members have been checked against ``limits`` on opening."""

    def __init__(self, path: str | Path, limits: ArchiveLimits = DEFAULT_LIMITS):
        self.path = Path(path)
        self.limits = limits
        self.size = self.path.stat().st_size
        if self.size > limits.max_archive_bytes:
            raise ArchiveError(path, f"archive is {self.size} bytes, above the limit of {limits.max_archive_bytes}")
        if not zipfile.is_zipfile(self.path):
            raise ArchiveError(path, "not a zip archive")
        try:
            self._zip = zipfile.ZipFile(self.path)
            self.members = [info for info in self._zip.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ArchiveError(path, f"damaged zip archive ({exc})") from None
        self._check_members()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc_info) -> None:
        self._zip.close()

    def _check_members(self) -> None:
        if len(self.members) > self.limits.max_members:
            raise ArchiveError(self.path, f"{len(self.members)} members, above the limit of {self.limits.max_members}")
        names = [info.filename for info in self.members]
        if len(set(names)) != len(names):
            duplicate = next(name for name in names if names.count(name) > 1)
            raise ArchiveError(self.path, "the archive holds two members of this name", member=duplicate)
        total = 0
        for info in self.members:
            self._check_member(info)
            total += info.file_size
        if total > self.limits.max_uncompressed_bytes:
            raise ArchiveError(self.path, f"uncompressed size {total} bytes is above the limit of "
                                          f"{self.limits.max_uncompressed_bytes} (zip bomb?)")
        compressed = sum(info.compress_size for info in self.members)
        if compressed > self.size:
            raise ArchiveError(self.path, "damaged zip directory (members larger than the archive)")
        if total > self.limits.max_ratio * max(compressed, 1):
            raise ArchiveError(self.path, f"overall compression ratio {total / max(compressed, 1):.0f} is above "
                                          f"{self.limits.max_ratio:.0f} (zip bomb?)")

    def _check_member(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise ArchiveError(self.path, "unsafe path (absolute or containing '..')", member=name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(self.path, "symbolic links are not allowed", member=name)
        if info.flag_bits & 0x1:
            raise ArchiveError(self.path, "encrypted members are not supported", member=name)
        if info.compress_size > self.size:
            raise ArchiveError(self.path, "damaged zip directory (member larger than the archive)", member=name)
        if info.file_size > self.limits.max_member_bytes:
            raise ArchiveError(self.path, f"member is {info.file_size} bytes, above the limit of "
                                          f"{self.limits.max_member_bytes}", member=name)
        if info.file_size > self.limits.max_ratio * max(info.compress_size, 1):
            raise ArchiveError(self.path, f"compression ratio {info.file_size / max(info.compress_size, 1):.0f} "
                                          f"is above {self.limits.max_ratio:.0f} (zip bomb?)", member=name)

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The member's bytes, checked against its CRC and never more than its declared size."""
        try:
            with self._zip.open(info) as handle:
                data = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise ArchiveError(self.path, f"cannot be read from the archive ({exc})", member=info.filename) from None
        if len(data) != info.file_size:
            raise ArchiveError(self.path, "size differs from the archive directory", member=info.filename)
        return data

    def manifest(self) -> zipfile.ZipInfo | None:
        for info in self.members:
            if PurePosixPath(info.filename).name.lower() in MANIFEST_NAMES:
                return info
        return None

    def data_members(self) -> Iterator[zipfile.ZipInfo]:
        manifest = self.manifest()
        return (info for info in self.members if info is not manifest)


def manifest_filenames(text: str) -> set[str]:
    """File names listed in a UK Biobank manifest, in either header style and either date style.

    Read by ``ml.ukb.manifest.parse_manifest``: the file name column is found by its header name and an
    unquoted ``Mon DD, YYYY`` date does not shift it; blank lines and empty names are skipped.
    """
    return {row.filename for row in parse_manifest(text) if row.filename}


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length (zipfile's)


def read_member(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, handle: BinaryIO) -> bytes:
    """``zipped.read(info)``, with deflated members inflated by ISA-L (about twice as fast as zlib on DICOM
    files) from ``handle``, the archive opened for reading; size and CRC are checked as zipfile checks them.
    Any other member (stored, another method, encrypted) is read by zipfile."""
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        return zipped.read(info)
    handle.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if signature != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"bad local file header for {info.filename}")
    handle.seek(name_length + extra_length, 1)
    data = isal_zlib.decompress(handle.read(info.compress_size), -zlib.MAX_WBITS, max(info.file_size, 1))
    if len(data) != info.file_size or isal_zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"bad CRC or size for {info.filename}")
    return data
