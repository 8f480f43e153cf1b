"""Preprocessing of imported scans: the image pipeline (``ml.imaging``) run per scan, results recorded.

Each run writes into a new folder; only when every file is there does one transaction point the scan at
it, and the previous folder is removed after the commit. A scan is therefore never half-processed: it
shows either the last complete results or, after a failure, the reason with its earlier results intact.
A run whose worker was killed leaves its folder behind; the next run of that scan removes folders that no
scan points at and that nothing has written to for ``PREPROCESS_STALE_RUN_SECONDS`` (15 minutes by
default: a run of one scan takes seconds, so a folder that old whose run is still going in another worker
is not to be expected).
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ml.imaging import pipeline
from ml.imaging.hints import SEVERITY_RANK

from ..models import Scan
from .archive_files import scan_archive_file
from .archives import archive_index

logger = logging.getLogger(__name__)
NO_HINT_RANK = len(SEVERITY_RANK)


@dataclass
class PreprocessOutcome:
    scan_id: int
    ok: bool
    reason: str = ""
    seconds: float = 0.0


def scan_preprocess(*, scan: Scan) -> PreprocessOutcome:
    """Run the image pipeline on one scan and record its derived files, hints and statistics."""
    media = Path(settings.MEDIA_ROOT)
    scan_dir = media / "derived" / str(scan.field_id) / str(scan.subject.eid) / f"{scan.instance}_{scan.array_index}"
    run_dir = scan_dir / f"run-{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    Scan.all_objects.filter(pk=scan.pk).update(processing_state=Scan.State.PROCESSING)
    _remove_stale_runs(scan_dir, keep=scan.derived.get("folder"), media=media)
    try:
        run_dir.mkdir(parents=True)
        archive = scan_archive_file(scan=scan)  # checked: a moved or changed archive is never read
        # ``ml`` reads no settings: this site's choices travel as arguments, read at each run.
        result = pipeline.preprocess_archive(archive, scan.inventory.get("stations", {}), scan.deviations, run_dir,
                                             archive_index(archive),
                                             keep_station_volumes=settings.IMAGING_KEEP_STATION_VOLUMES,
                                             compression=settings.IMAGING_VOLUME_COMPRESSION)
    except Exception as exc:  # every failure fails this scan only, with its reason; the cohort run goes on
        shutil.rmtree(run_dir, ignore_errors=True)
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("preprocessing scan %s failed: %s", scan, reason)
        Scan.all_objects.filter(pk=scan.pk).update(processing_state=Scan.State.FAILED, processing_error=reason)
        return PreprocessOutcome(scan.pk, False, reason)
    try:
        _record(scan, run_dir.relative_to(media), result)
    except Exception as exc:
        shutil.rmtree(run_dir, ignore_errors=True)
        Scan.all_objects.filter(pk=scan.pk).update(processing_state=Scan.State.FAILED,
                                                   processing_error=f"recording results failed: {exc}")
        raise
    return PreprocessOutcome(scan.pk, True, seconds=round(sum(result.timings.values()), 3))


def _remove_stale_runs(scan_dir: Path, *, keep: str | None, media: Path) -> None:
    """Folders of runs that died (a killed worker): not the recorded one, untouched for a while."""
    if not scan_dir.is_dir():
        return
    cutoff = time.time() - settings.PREPROCESS_STALE_RUN_SECONDS
    for folder in scan_dir.glob("run-*"):
        if str(folder.relative_to(media)) == keep:
            continue
        try:  # another run may be removing its own folder meanwhile
            newest = max([folder.stat().st_mtime, *(entry.stat().st_mtime for entry in folder.rglob("*"))])
        except OSError:
            continue
        if newest < cutoff:
            logger.info("removing the folder of an unfinished earlier run: %s", folder)
            shutil.rmtree(folder, ignore_errors=True)


def _record(scan: Scan, folder: Path, result) -> None:
    """Point the scan at ``folder``; the folder it pointed at (read under the row lock, so overlapping runs
    each replace what the other recorded) is removed once this commits."""
    hints = [h.as_dict() for h in result.hints]
    derived = {"folder": str(folder), **{name: str(folder / file) for name, file in result.files.items()}}
    media = Path(settings.MEDIA_ROOT)
    with transaction.atomic():
        previous = Scan.all_objects.select_for_update().values_list("derived", flat=True).get(pk=scan.pk).get("folder")
        if previous and previous != str(folder):
            transaction.on_commit(lambda: shutil.rmtree(media / previous, ignore_errors=True))
        Scan.all_objects.filter(pk=scan.pk).update(
            derived=derived, qc_hints=hints, hint_rank=min((SEVERITY_RANK[h["severity"]] for h in hints),
                                                           default=NO_HINT_RANK),
            preprocessing={k: v for k, v in result.summary().items() if k not in ("files", "hints")},
            processing_state=Scan.State.PROCESSED, processing_error="", processed_at=timezone.now())
    scan.refresh_from_db()
