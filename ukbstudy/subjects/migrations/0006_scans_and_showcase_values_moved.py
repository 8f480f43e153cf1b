"""Scans moved to imaging, reference values and covariates to showcase (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('atlas', '0002_scan_in_imaging'),
        ('liverfat', '0002_scan_in_imaging'),
        ('marrow', '0002_scan_in_imaging'),
        ('measurements', '0005_scan_in_imaging'),
        ('qc', '0005_scan_in_imaging'),
        ('results', '0002_scan_in_imaging'),
        ('showcase', '0001_initial'),
        ('subjects', '0005_backfill_qc_raters'),
    ]

    # The table stays where it is: only Django's record of which app holds the model changes.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(
                model_name='referencevalue',
                name='import_batch',
            ),
            migrations.RemoveField(
                model_name='referencevalue',
                name='subject',
            ),
            migrations.RemoveField(
                model_name='scan',
                name='import_batch',
            ),
            migrations.RemoveField(
                model_name='scan',
                name='subject',
            ),
            migrations.DeleteModel(
                name='CovariateValue',
            ),
            migrations.DeleteModel(
                name='ReferenceValue',
            ),
            migrations.DeleteModel(
                name='Scan',
            ),
        ]),
    ]
