"""QCDecision.created_at becomes decided_at, the name the API and the QC CSV already use (issue 18).

Renaming the column keeps its indexes (PostgreSQL and SQLite both carry them over, and SQLite renames the
column in place, so the append-only triggers on the table stay too); only Django's state needs the two
named indexes and the ordering to name the new field, so they are not dropped and built again.
"""

from django.db import migrations, models

NEWEST_FIRST = ["-decided_at", "-id"]


class Migration(migrations.Migration):

    dependencies = [
        ("qc", "0003_locks_and_deferrals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameField(model_name="qcdecision", old_name="created_at", new_name="decided_at"),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="qcdecision", name="qc_scan_newest"),
                migrations.RemoveIndex(model_name="qcdecision", name="qc_rater_newest"),
                migrations.RenameField(model_name="qcdecision", old_name="created_at", new_name="decided_at"),
                migrations.AlterModelOptions(
                    name="qcdecision",
                    options={"base_manager_name": "all_objects", "get_latest_by": ["decided_at", "id"],
                             "ordering": NEWEST_FIRST, "verbose_name": "QC decision"},
                ),
                migrations.AddIndex(
                    model_name="qcdecision",
                    index=models.Index(fields=["scan", *NEWEST_FIRST], name="qc_scan_newest"),
                ),
                migrations.AddIndex(
                    model_name="qcdecision",
                    index=models.Index(fields=["rater", "-decided_at"], name="qc_rater_newest"),
                ),
            ],
        ),
    ]
