"""Model versions' task tokens say what the model does and no longer share a token with a quantity
(``liver_ff``) or a method (``atlas``)."""

from django.db import migrations, models

RENAMED = {"liver_ff": "liver_ff_regression", "atlas": "liver_ff_atlas"}


def forwards(apps, schema_editor):
    ModelVersion = apps.get_model("measurements", "ModelVersion")
    for old, new in RENAMED.items():
        ModelVersion.objects.filter(task=old).update(task=new)


def backwards(apps, schema_editor):
    ModelVersion = apps.get_model("measurements", "ModelVersion")
    for old, new in RENAMED.items():
        ModelVersion.objects.filter(task=new).update(task=old)


class Migration(migrations.Migration):
    dependencies = [("measurements", "0003_quantity_method_index")]

    operations = [
        migrations.AlterField(
            model_name="modelversion",
            name="task",
            field=models.CharField(
                choices=[("liver_ff_regression", "Liver fat regression"),
                         ("bmff_segmentation", "Bone marrow segmentation"),
                         ("liver_ff_atlas", "Multi-atlas liver fat")],
                db_index=True, max_length=32),
        ),
        migrations.RunPython(forwards, backwards),
    ]
