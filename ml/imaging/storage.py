"""What scans cost on disk: bytes per kind of derived file, archive copies, and what that comes to at scale.

A run folder (``pipeline.preprocess_archive``) is walked with ``os.scandir``, nothing is opened, so a report
over 100,000 scans is a stat per file. Besides the pipeline's own outputs a folder may hold the fractions
and station volumes of older runs or of ``keep_station_volumes``, and the QC viewer's coronal stacks
(``coronal_fat.npy``), written beside the volumes on first view: each is its own kind, so none hides in
"other".
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DERIVED_KINDS = ("fat", "water", "mask", "network input", "QC images", "station volumes", "fractions (old runs)",
                 "viewer cache", "other")
ARCHIVE_KINDS = ("archive copies", "archive indexes")
PROJECTED_SCANS = 100_000
_KIND_OF = [
    (re.compile(r"fat\.nii(\.gz)?"), "fat"),
    (re.compile(r"water\.nii(\.gz)?"), "water"),
    (re.compile(r"body_mask\.nii(\.gz)?"), "mask"),
    (re.compile(r"network_input\.(png|npy)"), "network input"),
    (re.compile(r"qc_\w+\.png"), "QC images"),
    (re.compile(r"station\d+_(fat|water)\.nii(\.gz)?"), "station volumes"),
    (re.compile(r"[fw]f\.nii(\.gz)?"), "fractions (old runs)"),
    (re.compile(r"\.?coronal_\w+.*\.npy"), "viewer cache"),
]


def kind_of(name: str) -> str:
    """The kind of the run-folder file called ``name``; "other" for anything else (``preprocess.json``)."""
    return next((kind for pattern, kind in _KIND_OF if pattern.fullmatch(name)), "other")


def folder_usage(folder: Path) -> Counter:
    """Bytes per kind of the files in ``folder`` (sub-folders counted as "other"); empty if it is gone."""
    usage: Counter = Counter()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return usage
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                usage["other"] += sum(folder_usage(Path(entry.path)).values())
            elif entry.is_file(follow_symlinks=False):
                usage[kind_of(entry.name)] += entry.stat(follow_symlinks=False).st_size
        except OSError:  # removed meanwhile by a newer run
            continue
    return usage


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass
class StorageReport:
    """Totals over a set of scans; means are per processed scan (derived) or per scan (archives)."""

    scans: int = 0
    processed: int = 0  # scans whose run folder was walked
    in_place: int = 0  # archives registered where they lie: not under MEDIA_ROOT, not counted
    derived: Counter = field(default_factory=Counter)
    archives: Counter = field(default_factory=Counter)

    def add_run(self, usage: Counter) -> None:
        self.processed += 1
        self.derived.update(usage)

    def rows(self) -> list[dict]:
        """One row per kind and a total per section: bytes in all, per scan, and at PROJECTED_SCANS."""
        sections = (("derived", DERIVED_KINDS, self.derived, self.processed),
                    ("archives", ARCHIVE_KINDS, self.archives, self.scans))
        rows = []
        for section, kinds, totals, count in sections:
            named = [(kind, totals.get(kind, 0)) for kind in kinds]
            rows += [_row(section, kind, total, count) for kind, total in (*named, ("all", sum(totals.values())))]
        return rows

    def as_dict(self) -> dict:
        return {"scans": self.scans, "processed": self.processed, "archives_in_place": self.in_place,
                "projected_scans": PROJECTED_SCANS, "rows": self.rows()}


def _row(section: str, kind: str, total: int, count: int) -> dict:
    mean = total / count if count else 0.0
    return {"section": section, "kind": kind, "bytes": int(total), "mean_bytes": round(mean),
            "projected_bytes": round(mean * PROJECTED_SCANS)}


def human_bytes(count: float) -> str:
    """Decimal units, as disks are sold: 19.4 MB, 1.94 TB."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(count) < 1000 or unit == "PB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.3g} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def report_text(report: StorageReport) -> str:
    """The report as a table: kind, total, mean per scan, projection."""
    lines = [f"{report.scans} scans, {report.processed} processed; {report.in_place} archives registered in "
             f"place (outside MEDIA_ROOT, not counted)",
             f"{'':<24} {'total':>10} {'per scan':>10} {f'{PROJECTED_SCANS:,} scans':>14}"]
    section = None
    for row in report.rows():
        if row["section"] != section:
            section = row["section"]
            per = "per processed scan" if section == "derived" else "per scan"
            lines.append(f"{section} ({per})")
        label = f"  {row['kind']}" if row["kind"] != "all" else f"  all {section}"
        lines.append(f"{label:<24} {human_bytes(row['bytes']):>10} {human_bytes(row['mean_bytes']):>10} "
                     f"{human_bytes(row['projected_bytes']):>14}")
    return "\n".join(lines)
