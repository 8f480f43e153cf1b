"""Visits: what UK Biobank measures per visit (date, age, height, BMI, centre) moves from the participant to
their imaging visit. The values a participant had were those of the first imaging visit (instance 2)."""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

CENTRES = [(11025, "Cheadle (imaging)"), (11026, "Reading (imaging)"), (11027, "Newcastle (imaging)"),
           (11028, "Bristol (imaging)")]
MOVED = ("age", "height_cm", "bmi", "centre")


def fire_deferred_checks(schema_editor):
    """PostgreSQL defers foreign key checks to the end of the migration's transaction; a later ALTER TABLE of
    a table with rows written here would fail ("pending trigger events"), so they run now."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def visits_from_subjects(apps, schema_editor):
    Subject = apps.get_model("subjects", "Subject")
    Visit = apps.get_model("subjects", "Visit")
    rows = Subject.objects.values_list("pk", *MOVED).iterator(chunk_size=5000)
    batch = []
    for pk, *values in rows:
        if any(value is not None for value in values):
            batch.append(Visit(subject_id=pk, instance=2, **dict(zip(MOVED, values, strict=True))))
        if len(batch) >= 5000:
            Visit.objects.bulk_create(batch)
            batch = []
    Visit.objects.bulk_create(batch)
    fire_deferred_checks(schema_editor)


def subjects_from_visits(apps, schema_editor):
    Subject = apps.get_model("subjects", "Subject")
    Visit = apps.get_model("subjects", "Visit")
    for visit in Visit.objects.filter(instance=2).iterator(chunk_size=5000):
        Subject.objects.filter(pk=visit.subject_id).update(**{name: getattr(visit, name) for name in MOVED})
    fire_deferred_checks(schema_editor)


class Migration(migrations.Migration):

    dependencies = [("subjects", "0006_scans_and_showcase_values_moved")]

    operations = [
        migrations.AlterField(
            model_name="importbatch", name="kind",
            field=models.CharField(choices=[("archives", "UK Biobank archives (field 20201)"),
                                            ("fields", "Showcase fields CSV"),
                                            ("measurements", "Measurements CSV (values a lab already has)")],
                                   max_length=16),
        ),
        migrations.CreateModel(
            name="Visit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("instance", models.PositiveSmallIntegerField(
                    choices=[(2, "First imaging visit"), (3, "Repeat imaging visit")])),
                ("date", models.DateField(blank=True, help_text="Date of attending the centre (field 53).",
                                          null=True)),
                ("age", models.FloatField(blank=True, help_text="Age at the visit (years, field 21003).", null=True)),
                ("height_cm", models.FloatField(blank=True, help_text="Standing height (cm, field 50).", null=True)),
                ("bmi", models.FloatField(blank=True, help_text="Body mass index (kg/m2, field 21001).", null=True)),
                ("centre", models.PositiveIntegerField(blank=True, choices=CENTRES,
                                                       help_text="Assessment centre (field 54).", null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("subject", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="visits",
                                              to="subjects.subject")),
            ],
            options={"ordering": ["subject__eid", "instance"], "base_manager_name": "all_objects"},
            managers=[("objects", django.db.models.manager.Manager()),
                      ("all_objects", django.db.models.manager.Manager())],
        ),
        migrations.AddConstraint(
            model_name="visit",
            constraint=models.UniqueConstraint(fields=("subject", "instance"), name="visit_unique_per_instance"),
        ),
        migrations.RunPython(visits_from_subjects, subjects_from_visits),
        migrations.RemoveField(model_name="subject", name="age"),
        migrations.RemoveField(model_name="subject", name="height_cm"),
        migrations.RemoveField(model_name="subject", name="bmi"),
        migrations.RemoveField(model_name="subject", name="centre"),
    ]
