"""A showcase value names its column ``field`` (``22402-2.0``), as every page, parameter and export does;
``field_id`` is the integer showcase id alone (a scan's 20201)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('showcase', '0002_table_names'),
        ('subjects', '0006_scans_and_showcase_values_moved'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='covariatevalue',
            options={'base_manager_name': 'all_objects', 'ordering': ['subject__eid', 'field']},
        ),
        migrations.AlterModelOptions(
            name='referencevalue',
            options={'base_manager_name': 'all_objects', 'ordering': ['subject__eid', 'field']},
        ),
        migrations.RemoveConstraint(
            model_name='covariatevalue',
            name='covariate_unique_field',
        ),
        migrations.RemoveConstraint(
            model_name='referencevalue',
            name='reference_unique_field',
        ),
        migrations.RenameField(
            model_name='covariatevalue',
            old_name='field_id',
            new_name='field',
        ),
        migrations.RenameField(
            model_name='referencevalue',
            old_name='field_id',
            new_name='field',
        ),
        migrations.AddConstraint(
            model_name='covariatevalue',
            constraint=models.UniqueConstraint(fields=('subject', 'field'), name='covariate_unique_field'),
        ),
        migrations.AddConstraint(
            model_name='referencevalue',
            constraint=models.UniqueConstraint(fields=('subject', 'field'), name='reference_unique_field'),
        ),
    ]
