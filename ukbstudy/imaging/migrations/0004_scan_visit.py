"""Every scan hangs off its visit: the visit of its participant and instance, created where missing."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def link_visits(apps, schema_editor):
    Scan = apps.get_model("imaging", "Scan")
    Visit = apps.get_model("subjects", "Visit")
    pairs = set(Scan.objects.values_list("subject_id", "instance").distinct())
    existing = set(Visit.objects.values_list("subject_id", "instance"))
    Visit.objects.bulk_create([Visit(subject_id=s, instance=i) for s, i in sorted(pairs - existing)],
                              batch_size=5000)
    Scan.objects.update(visit_id=Subquery(Visit.objects.filter(
        subject_id=OuterRef("subject_id"), instance=OuterRef("instance")).values("pk")[:1]))
    if schema_editor.connection.vendor == "postgresql":  # the foreign key checks now, not at the ALTER TABLE below
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [("imaging", "0003_scan_archive_in_place"), ("subjects", "0007_visits")]

    operations = [
        migrations.AddField(
            model_name="scan", name="visit",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="scans",
                                    to="subjects.visit"),
        ),
        migrations.RunPython(link_visits, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="scan", name="visit",
            field=models.ForeignKey(
                help_text=("The visit the archive was acquired at; its subject and instance are the scan's own (set "
                           "together by the archive import, which is the only writer)."),
                on_delete=django.db.models.deletion.PROTECT, related_name="scans", to="subjects.visit"),
        ),
    ]
