"""subjects.0007_visits and imaging.0004_scan_visit on data: a participant's age, height, BMI and centre move
to their first imaging visit (instance 2), every scan gets the visit of its instance (created where missing),
and unapplying the migrations puts the attributes back on the participant."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ukbstudy.imaging.models import Scan
from ukbstudy.showcase.models import CovariateValue
from ukbstudy.subjects.models import Subject, Visit

pytestmark = pytest.mark.django_db(transaction=True)

# The state before visits: the migrations that need them (subjects.0007, imaging.0004, showcase.0004,
# measurements.0007 and 0008, which depend on subjects.0007) are unapplied; every other app stays at its leaf.
BEFORE = [("subjects", "0006_scans_and_showcase_values_moved"), ("imaging", "0003_scan_archive_in_place"),
          ("measurements", "0006_export_format_tidy"), ("showcase", "0003_value_field")]
MOVED = ("age", "height_cm", "bmi", "centre")


def migrate(targets) -> object:
    """Migrate to ``targets`` (None: every app's leaf) and return the historical apps of that state."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_visits():
    """Historical models of the state before visits; every app at its leaf again afterwards."""
    apps = migrate(BEFORE)
    yield apps
    migrate(None)


def old_scan(apps, subject, instance: int, batch):
    Scan = apps.get_model("imaging", "Scan")
    name = f"{subject.eid}_20201_{instance}_0.zip"
    sha = f"{subject.eid}{instance}".ljust(64, "0")
    return Scan.objects.create(subject=subject, instance=instance, archive_sha256=sha,
                               archive_path=f"archives/20201/{subject.eid}/{name}", archive_name=name,
                               archive_bytes=1, n_series=24, n_files=24, import_batch=batch)


def test_the_migrations_need_exactly_these_to_be_unapplied(before_visits):
    applied = MigrationExecutor(connection).loader.applied_migrations
    assert ("subjects", "0007_visits") not in applied and ("imaging", "0004_scan_visit") not in applied
    assert ("measurements", "0007_import_batch_method_labels") not in applied
    assert ("subjects", "0006_scans_and_showcase_values_moved") in applied
    assert ("imaging", "0003_scan_archive_in_place") in applied and ("qc", "0006_confidence_and_time") in applied
    fields = {f.name for f in before_visits.get_model("subjects", "Subject")._meta.get_fields()}
    assert set(MOVED) <= fields


def test_attributes_move_to_the_first_visit_and_scans_get_their_visits(before_visits):
    apps = before_visits
    OldSubject, ImportBatch = apps.get_model("subjects", "Subject"), apps.get_model("subjects", "ImportBatch")
    batch = ImportBatch.objects.create(kind="archives", source="migration test")
    both = OldSubject.objects.create(eid=1001, sex="F", age=61.0, height_cm=170.5, bmi=24.3, centre=11026)
    repeat_only = OldSubject.objects.create(eid=1002, sex="M")
    OldSubject.objects.create(eid=1003, sex="M")  # no attributes, no scan: no visit
    gone = OldSubject.objects.create(eid=1009, sex="F", age=70.0, withdrawn=True)
    ids = {"2": old_scan(apps, both, 2, batch).pk, "3": old_scan(apps, both, 3, batch).pk,
           "repeat_only": old_scan(apps, repeat_only, 3, batch).pk, "gone": old_scan(apps, gone, 2, batch).pk}
    # Before visits, the repeat visit's age and BMI of a basket were kept as covariates.
    OldCovariate = apps.get_model("showcase", "CovariateValue")
    for field, value in (("21003-3.0", 63.0), ("21001-3.0", 25.1), ("23204-2.0", 1.2)):
        OldCovariate.objects.create(subject=repeat_only, field=field, value=value, import_batch=batch)

    migrate(None)

    moved = Visit.all_objects.get(subject__eid=1002, instance=3)
    assert (moved.age, moved.bmi, moved.height_cm) == (63.0, 25.1, None)
    assert list(CovariateValue.all_objects.values_list("field", flat=True)) == ["23204-2.0"]  # the others moved

    first = Visit.all_objects.get(subject__eid=1001, instance=2)
    assert (first.age, first.height_cm, first.bmi, first.centre, first.date) == (61.0, 170.5, 24.3, 11026, None)
    second = Visit.all_objects.get(subject__eid=1001, instance=3)
    assert [getattr(second, name) for name in (*MOVED, "date")] == [None] * 5
    assert Scan.all_objects.get(pk=ids["2"]).visit_id == first.pk
    assert Scan.all_objects.get(pk=ids["3"]).visit_id == second.pk
    only = Scan.all_objects.get(pk=ids["repeat_only"])
    assert (only.visit.subject.eid, only.visit.instance, only.visit.age) == (1002, 3, 63.0)
    assert list(Visit.all_objects.filter(subject__eid=1002).values_list("instance", flat=True)) == [3]
    assert not Visit.all_objects.filter(subject__eid=1003).exists()
    assert Visit.all_objects.get(subject__eid=1009, instance=2).age == 70.0  # a withdrawn participant's too
    assert Scan.all_objects.get(pk=ids["gone"]).visit.subject.eid == 1009
    assert not Visit.objects.filter(subject__eid=1009).exists()  # and hidden as ever
    assert all(scan.visit.subject_id == scan.subject_id and scan.visit.instance == scan.instance
               for scan in Scan.all_objects.select_related("visit"))
    assert not {f.name for f in Subject._meta.get_fields()} & set(MOVED)
    assert Visit.all_objects.count() == 4


def test_unapplying_puts_the_first_visits_attributes_back_on_the_participant(before_visits):
    apps = before_visits
    OldSubject, ImportBatch = apps.get_model("subjects", "Subject"), apps.get_model("subjects", "ImportBatch")
    batch = ImportBatch.objects.create(kind="archives", source="migration test")
    subject = OldSubject.objects.create(eid=1001, sex="F", age=61.0, height_cm=170.5, bmi=24.3, centre=11026)
    old_scan(apps, subject, 2, batch)
    old_scan(apps, subject, 3, batch)
    migrate(None)
    Visit.all_objects.filter(subject__eid=1001, instance=2).update(age=62.0, bmi=25.0)
    Visit.all_objects.filter(subject__eid=1001, instance=3).update(age=64.0, bmi=30.0)  # not the participant's

    apps = migrate(BEFORE)
    restored = apps.get_model("subjects", "Subject").objects.get(eid=1001)
    assert (restored.age, restored.height_cm, restored.bmi, restored.centre) == (62.0, 170.5, 25.0, 11026)
    assert sorted(apps.get_model("imaging", "Scan").objects.values_list("instance", flat=True)) == [2, 3]
