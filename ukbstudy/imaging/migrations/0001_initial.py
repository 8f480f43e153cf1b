"""Scans move from the subjects app to imaging: state only, the table is renamed in 0002."""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

from ukbstudy.subjects.migrations._content_types import content_types_mover

move_content_types, restore_content_types = content_types_mover('imaging', ['scan'])


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
                name='Scan',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('field_id', models.PositiveIntegerField(default=20201)),
                    ('instance', models.PositiveSmallIntegerField(choices=[(2, 'First imaging visit'), (3, 'Repeat imaging visit')])),
                    ('array_index', models.PositiveSmallIntegerField(default=0)),
                    ('archive_sha256', models.CharField(max_length=64, unique=True, verbose_name='archive SHA-256')),
                    ('archive_path', models.CharField(help_text='Relative to MEDIA_ROOT.', max_length=500)),
                    ('archive_name', models.CharField(help_text='File name as delivered.', max_length=200)),
                    ('archive_bytes', models.BigIntegerField()),
                    ('study_date', models.DateField(blank=True, null=True)),
                    ('study_uid', models.CharField(blank=True, max_length=64)),
                    ('n_series', models.PositiveSmallIntegerField(help_text='DICOM series found in the archive.')),
                    ('n_files', models.PositiveIntegerField(help_text='DICOM files found in the archive.')),
                    ('inventory', models.JSONField(default=dict, help_text='Kept series per station and type (in/opp/F/W).')),
                    ('deviations', models.JSONField(blank=True, default=list, help_text='Departures from the 24-series protocol.')),
                    ('n_deviations', models.PositiveSmallIntegerField(db_index=True, default=0)),
                    ('processing_state', models.CharField(choices=[('imported', 'Imported'), ('processing', 'Processing'), ('processed', 'Processed'), ('failed', 'Processing failed')], db_index=True, default='imported', max_length=16)),
                    ('processing_error', models.TextField(blank=True)),
                    ('processed_at', models.DateTimeField(blank=True, null=True)),
                    ('derived', models.JSONField(blank=True, default=dict, help_text='Derived image paths, relative to MEDIA_ROOT.')),
                    ('preprocessing', models.JSONField(blank=True, default=dict, help_text='Grid, network input parameters, statistics and timings.')),
                    ('qc_hints', models.JSONField(blank=True, default=list, help_text='Automatic QC hints, most severe first.')),
                    ('hint_rank', models.PositiveSmallIntegerField(db_index=True, default=3, help_text='Most severe hint: 0 high, 1 medium, 2 low, 3 none (orders the QC queue).')),
                    ('qc_raters', models.PositiveSmallIntegerField(default=0, help_text='Distinct raters who decided on this scan (kept by the QC services; orders the queue).')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('import_batch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scans', to='subjects.importbatch')),
                    ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scans', to='subjects.subject')),
                ],
                options={
                    'db_table': 'subjects_scan',
                    'ordering': ['subject__eid', 'instance'],
                    'base_manager_name': 'all_objects',
                    'indexes': [models.Index(fields=['processing_state', 'hint_rank', 'qc_raters', 'id'], name='scan_qc_queue')],
                    'constraints': [models.UniqueConstraint(fields=('subject', 'field_id', 'instance', 'array_index'), name='scan_unique_per_subject_visit')],
                },
                managers=[
                    ('objects', django.db.models.manager.Manager()),
                    ('all_objects', django.db.models.manager.Manager()),
                ],
            ),
        ]),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
