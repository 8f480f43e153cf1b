"""Liver fat jobs record the model-version task they train or infer for; its token became
``liver_ff_regression`` (measurements 0004), so the jobs' parameters follow and the liver fat page keeps
listing the runs made before."""

from django.db import migrations

KINDS = ("cross_validate", "train", "infer")


def _retoken(apps, old: str, new: str) -> None:
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.filter(kind__in=KINDS, parameters__task=old):
        job.parameters["task"] = new
        job.save(update_fields=["parameters"])


def forwards(apps, schema_editor):
    _retoken(apps, "liver_ff", "liver_ff_regression")


def backwards(apps, schema_editor):
    _retoken(apps, "liver_ff_regression", "liver_ff")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_job_items"), ("measurements", "0004_model_version_task_tokens")]

    operations = [migrations.RunPython(forwards, backwards)]
