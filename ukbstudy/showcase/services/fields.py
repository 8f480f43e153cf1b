"""Import of UK Biobank baskets (any header style): subject attributes (sex), visit attributes (date, age,
height, BMI, centre at each imaging visit), reference values and covariates.

The file is validated as a whole first (``ml.ukb.showcase``) and then written in one transaction, so a
bad file writes nothing. Writes are computed as differences against the database: importing the same
file twice changes nothing the second time (and records no batch).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ml.ukb.archive import sha256_of
from ml.ukb.fields import load_catalogue
from ml.ukb.showcase import ParsedShowcase, ShowcaseError, ShowcaseRow, parse_showcase
from ukbstudy.subjects.models import VISIT_ATTRIBUTES, ImportBatch, Subject, Visit

from ..models import CovariateValue, ReferenceValue

SUBJECT_ATTRIBUTES = {"sex": "sex"}


@dataclass
class FieldsReport:
    rows: int = 0
    subjects_created: int = 0
    subjects_updated: int = 0
    visits_created: int = 0
    visits_updated: int = 0
    values_created: dict[str, int] = field(default_factory=lambda: {"reference": 0, "covariate": 0})
    values_updated: dict[str, int] = field(default_factory=lambda: {"reference": 0, "covariate": 0})
    values_unchanged: dict[str, int] = field(default_factory=lambda: {"reference": 0, "covariate": 0})
    withdrawn_skipped: list[int] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    header_style: str = ""  # the basket's header style, as detected (ml.ukb.headers)
    batch_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.subjects_created or self.subjects_updated or self.visits_created or self.visits_updated
                    or sum(self.values_created.values())
                    or sum(self.values_updated.values()))

    def as_dict(self) -> dict:
        return asdict(self)


def showcase_import_fields(*, path: str | Path, user=None) -> FieldsReport:
    """Import the showcase CSV at ``path``; raises ShowcaseError (nothing written) on any bad row."""
    path = Path(path)
    if not path.is_file():
        raise ShowcaseError(path, ["no such file"])
    parsed = parse_showcase(path, load_catalogue(settings.UKB_EXTRA_FIELDS or None))
    subjects = Subject.all_objects.in_bulk([row.eid for row in parsed.rows], field_name="eid")
    _check_unknown_eids(path, parsed, subjects)
    report = FieldsReport(rows=len(parsed.rows), unknown_columns=parsed.unknown_columns, header_style=parsed.style)
    with transaction.atomic():
        batch = ImportBatch(kind=ImportBatch.Kind.FIELDS, source=str(path), source_sha256=sha256_of(path),
                            created_by=user)
        rows = [row for row in parsed.rows if not _withdrawn(row, subjects, report)]
        subjects = _write_subjects(rows, subjects, report)
        _write_visits(rows, subjects, report)
        for model, target in ((ReferenceValue, "reference"), (CovariateValue, "covariate")):
            _write_values(model, target, rows, subjects, parsed, batch, report)
        if report.changed:
            batch.summary = {k: v for k, v in report.as_dict().items() if k != "batch_id"}
            batch.save()
            report.batch_id = batch.pk
    return report


def _check_unknown_eids(path: Path, parsed: ParsedShowcase, subjects: dict[int, Subject]) -> None:
    """A row creates a participant only if it gives their sex (field 31, present for every UK Biobank
    participant); a row for an eid the study does not know without it is an error: usually a file from
    another application, whose eids are encoded differently."""
    errors = [f"line {row.line}: eid {row.eid} is unknown and the row has no sex (31-0.0) to create the "
              "participant; import the participants first"
              for row in parsed.rows if row.eid not in subjects and "sex" not in row.subject]
    if errors:
        raise ShowcaseError(path, errors)


def _withdrawn(row: ShowcaseRow, subjects: dict[int, Subject], report: FieldsReport) -> bool:
    subject = subjects.get(row.eid)
    if subject is not None and subject.withdrawn:
        report.withdrawn_skipped.append(row.eid)
        return True
    return False


def _write_subjects(rows: list[ShowcaseRow], subjects: dict[int, Subject], report: FieldsReport) -> dict[int, Subject]:
    new = [Subject(eid=row.eid) for row in rows if row.eid not in subjects]
    for subject in new:
        subjects[subject.eid] = subject
    changed, fields_changed = [], set()
    for row in rows:
        subject = subjects[row.eid]
        differing = _assign(subject, row.subject, SUBJECT_ATTRIBUTES)
        if differing and subject.pk is not None:
            subject.updated_at = timezone.now()  # bulk_update does not apply auto_now
            changed.append(subject)
            fields_changed.update(differing)
    Subject.all_objects.bulk_create(new, batch_size=1000)
    if changed:
        Subject.all_objects.bulk_update(changed, sorted(fields_changed) + ["updated_at"], batch_size=1000)
    report.subjects_created = len(new)
    report.subjects_updated = len(changed)
    if new:  # bulk_create sets primary keys on PostgreSQL and SQLite, but reload to be backend-neutral
        subjects.update(Subject.all_objects.in_bulk([s.eid for s in new], field_name="eid"))
    return subjects


def _assign(row, values: dict[str, object], names: dict[str, str]) -> set[str]:
    """Set on ``row`` the ``values`` (by catalogue key; ``names`` maps a key to the model field) that differ
    from what it holds; the model fields changed."""
    differing = {names[key]: value for key, value in values.items() if getattr(row, names[key]) != value}
    for name, value in differing.items():
        setattr(row, name, value)
    return set(differing)


def _write_visits(rows: list[ShowcaseRow], subjects: dict[int, Subject], report: FieldsReport) -> None:
    """Each row's visit attributes onto the participant's visit of that instance (created when missing)."""
    wanted = {(subjects[row.eid].pk, instance): values for row in rows for instance, values in row.visits.items()
              if values}
    if not wanted:
        return
    existing = {(v.subject_id, v.instance): v for v in Visit.all_objects.filter(
        subject_id__in={s for s, _ in wanted})}
    create, update, fields_changed = [], [], set()
    now = timezone.now()  # bulk_update does not apply auto_now
    for (subject_id, instance), values in wanted.items():
        visit = existing.get((subject_id, instance))
        if visit is None:
            create.append(Visit(subject_id=subject_id, instance=instance,
                                **{VISIT_ATTRIBUTES[key]: value for key, value in values.items()}))
            continue
        differing = _assign(visit, values, VISIT_ATTRIBUTES)
        if differing:
            visit.updated_at = now
            update.append(visit)
            fields_changed.update(differing)
    Visit.all_objects.bulk_create(create, batch_size=1000)
    if update:
        Visit.all_objects.bulk_update(update, sorted(fields_changed) + ["updated_at"], batch_size=1000)
    report.visits_created = len(create)
    report.visits_updated = len(update)


def _write_values(model, target: str, rows, subjects, parsed: ParsedShowcase, batch: ImportBatch,
                  report: FieldsReport) -> None:
    units = {c.column.text: c.spec.unit for c in parsed.columns}
    wanted = {(subjects[row.eid].pk, name): value
              for row in rows for name, value in getattr(row, target).items()}
    if not wanted:
        return
    names = {name for _, name in wanted}
    existing = {(v.subject_id, v.field): v for v in model.all_objects.filter(
        subject_id__in={s for s, _ in wanted}, field__in=names)}
    create, update = [], []
    for (subject_id, name), value in wanted.items():
        current = existing.get((subject_id, name))
        if current is None:
            create.append(model(subject_id=subject_id, field=name, value=value, unit=units[name]))
        elif current.value != value or current.unit != units[name]:
            current.value = value
            current.unit = units[name]
            update.append(current)
    if create or update:
        if batch.pk is None:
            batch.save()
        now = timezone.now()  # bulk_update does not apply auto_now
        for value in create + update:
            value.import_batch = batch
            value.updated_at = now
    model.all_objects.bulk_create(create, batch_size=1000)
    model.all_objects.bulk_update(update, ["value", "unit", "import_batch", "updated_at"], batch_size=1000)
    report.values_created[target] = len(create)
    report.values_updated[target] = len(update)
    report.values_unchanged[target] = len(wanted) - len(create) - len(update)
