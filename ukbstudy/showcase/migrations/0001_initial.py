"""Reference values and covariates move from the subjects app to showcase: state only, the tables are
renamed in 0002."""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

APP = 'showcase'
MODELS = ['referencevalue', 'covariatevalue']


def _move_content_types(apps, source: str, target: str) -> None:
    """Permissions (and the groups and users holding them) follow the models from ``source`` to ``target``.

    Where ``target`` has the content type already (a migrate in between created it, with fresh
    permissions), its permissions' grants join the moving ones' and it is removed, so that one content
    type per model is left and no grant is lost.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MODELS:
        moving = ContentType.objects.filter(app_label=source, model=model).first()
        if moving is None:
            continue
        there = ContentType.objects.filter(app_label=target, model=model).first()
        if there is not None:
            for permission in Permission.objects.filter(content_type=there):
                kept = Permission.objects.filter(content_type=moving, codename=permission.codename).first()
                if kept is not None:
                    kept.group_set.add(*permission.group_set.all())
                    kept.user_set.add(*permission.user_set.all())
            there.delete()
        moving.app_label = target
        moving.save(update_fields=["app_label"])


def move_content_types(apps, schema_editor):
    _move_content_types(apps, "subjects", APP)


def restore_content_types(apps, schema_editor):
    _move_content_types(apps, APP, "subjects")


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
