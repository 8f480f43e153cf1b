"""Small builders for rows that tests need but do not import from archives."""

from __future__ import annotations

import hashlib
import itertools

from ukbstudy.imaging.models import Scan
from ukbstudy.subjects.models import ImportBatch, Subject, Visit

_counter = itertools.count(1)
VISIT_FIELDS = ("date", "age", "height_cm", "bmi", "centre")


def make_subject(eid: int | None = None, **attributes) -> Subject:
    """A participant; visit attributes given (age, bmi, height_cm, centre, date) go on their first imaging
    visit (instance 2), created then."""
    visit = {name: attributes.pop(name) for name in VISIT_FIELDS if name in attributes}
    subject = Subject.all_objects.create(eid=eid or 2_000_000 + next(_counter), **attributes)
    if visit:
        make_visit(subject, 2, **visit)
    return subject


def make_visit(subject: Subject, instance: int = 2, **attributes) -> Visit:
    visit, _ = Visit.all_objects.update_or_create(subject=subject, instance=instance, defaults=attributes)
    return visit


def make_scan(subject: Subject | None = None, instance: int = 2, **attributes) -> Scan:
    subject = subject or make_subject()
    attributes.setdefault("visit", make_visit(subject, instance))
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.ARCHIVES, source="factory")
    sha = hashlib.sha256(f"{subject.eid}-{instance}-{next(_counter)}".encode()).hexdigest()
    values = dict(subject=subject, instance=instance, archive_sha256=sha,
                  archive_path=f"archives/20201/{subject.eid}/{sha[:16]}/{subject.eid}_20201_{instance}_0.zip",
                  archive_name=f"{subject.eid}_20201_{instance}_0.zip", archive_bytes=1, n_series=24,
                  n_files=24, import_batch=batch)
    values.update(attributes)
    return Scan.all_objects.create(**values)


def processed_scans(archives) -> list[Scan]:
    """Import real archives and preprocess every scan, as a lab does before review; the scans by id."""
    from ukbstudy.imaging.services.archives import scans_import_archives
    from ukbstudy.imaging.services.preprocessing import scan_preprocess

    scans_import_archives(paths=archives)
    for scan in Scan.objects.all():
        scan_preprocess(scan=scan)
    return list(Scan.objects.order_by("pk"))
