"""Scans now live in the imaging app: the foreign keys point there (state only, same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imaging', '0001_initial'),
        ('measurements', '0004_model_version_task_tokens'),
    ]

    # The table stays where it is: only Django's record of which app holds the model changes.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='measurement',
                name='scan',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='measurements', to='imaging.scan'),
            ),
        ]),
    ]
