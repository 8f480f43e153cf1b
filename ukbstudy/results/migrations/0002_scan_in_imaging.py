"""Scans now live in the imaging app: the foreign keys point there (state only, same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imaging', '0001_initial'),
        ('results', '0001_initial'),
    ]

    # The table stays where it is: only Django's record of which app holds the model changes.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='outlierverdict',
                name='scan',
                field=models.ForeignKey(blank=True, help_text='The scan whose images were reviewed.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='outlier_verdicts', to='imaging.scan'),
            ),
        ]),
    ]
