"""Scans now live in the imaging app: the foreign keys point there (state only, same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imaging', '0001_initial'),
        ('qc', '0004_qcdecision_decided_at'),
    ]

    # The table stays where it is: only Django's record of which app holds the model changes.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='qcdecision',
                name='scan',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='qc_decisions', to='imaging.scan'),
            ),
            migrations.AlterField(
                model_name='qcdeferral',
                name='scan',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='qc_deferrals', to='imaging.scan'),
            ),
            migrations.AlterField(
                model_name='qclock',
                name='scan',
                field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='qc_lock', to='imaging.scan'),
            ),
        ]),
    ]
