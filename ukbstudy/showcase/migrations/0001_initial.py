"""Reference values and covariates move from the subjects app to showcase: state only, the tables are
renamed in 0002."""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

from ukbstudy.subjects.migrations._content_types import content_types_mover

move_content_types, restore_content_types = content_types_mover('showcase', ['referencevalue', 'covariatevalue'])


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('subjects', '0005_backfill_qc_raters'),
    ]

    # The table stays where it is: only Django's record of which app holds the model changes.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='CovariateValue',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('field_id', models.CharField(db_index=True, help_text='FIELD-INSTANCE.ARRAY, e.g. 22402-2.0', max_length=32)),
                    ('value', models.FloatField()),
                    ('unit', models.CharField(blank=True, max_length=16)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('import_batch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='subjects.importbatch')),
                    ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='subjects.subject')),
                ],
                options={
                    'db_table': 'subjects_covariatevalue',
                    'ordering': ['subject__eid', 'field_id'],
                    'abstract': False,
                    'base_manager_name': 'all_objects',
                    'constraints': [models.UniqueConstraint(fields=('subject', 'field_id'), name='covariate_unique_field')],
                },
                managers=[
                    ('objects', django.db.models.manager.Manager()),
                    ('all_objects', django.db.models.manager.Manager()),
                ],
            ),
            migrations.CreateModel(
                name='ReferenceValue',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('field_id', models.CharField(db_index=True, help_text='FIELD-INSTANCE.ARRAY, e.g. 22402-2.0', max_length=32)),
                    ('value', models.FloatField()),
                    ('unit', models.CharField(blank=True, max_length=16)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('import_batch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='subjects.importbatch')),
                    ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='subjects.subject')),
                ],
                options={
                    'db_table': 'subjects_referencevalue',
                    'ordering': ['subject__eid', 'field_id'],
                    'abstract': False,
                    'base_manager_name': 'all_objects',
                    'constraints': [models.UniqueConstraint(fields=('subject', 'field_id'), name='reference_unique_field')],
                },
                managers=[
                    ('objects', django.db.models.manager.Manager()),
                    ('all_objects', django.db.models.manager.Manager()),
                ],
            ),
        ]),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
