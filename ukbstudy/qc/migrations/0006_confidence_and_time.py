"""A QC decision may carry the rater's confidence (1-5) and the seconds the decision took (issue: item 9).

Both columns are nullable: decisions recorded before, imported ones and a rater who gives no confidence
leave them empty. Adding a nullable column keeps the table (ALTER TABLE ADD COLUMN), but on SQLite a check
constraint rebuilds it, which drops its append-only triggers; they are installed again as the last step
(and, going backwards, once the constraints are gone), not left to the post-migrate signal alone.
"""

from django.db import migrations, models

from ukbstudy.qc.triggers import install_append_only_triggers


def reinstall_triggers(apps, schema_editor):
    install_append_only_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("imaging", "0002_table_names"),
        ("qc", "0005_scan_in_imaging"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),
        migrations.AddField(
            model_name="qcdecision",
            name="confidence",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, help_text="The rater's confidence, 1 (unsure) to 5 (certain)."),
        ),
        migrations.AddField(
            model_name="qcdecision",
            name="seconds_spent",
            field=models.FloatField(
                blank=True, null=True,
                help_text="Seconds from the scan's page shown to this decision, measured in the browser, "
                          "at most 3600."),
        ),
        migrations.AddConstraint(
            model_name="qcdecision",
            constraint=models.CheckConstraint(
                condition=models.Q(("confidence__isnull", True), ("confidence__range", (1, 5)), _connector="OR"),
                name="qc_confidence_range"),
        ),
        migrations.AddConstraint(
            model_name="qcdecision",
            constraint=models.CheckConstraint(
                condition=models.Q(("seconds_spent__isnull", True), ("seconds_spent__range", (0, 3600.0)),
                                   _connector="OR"),
                name="qc_seconds_spent_range"),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
