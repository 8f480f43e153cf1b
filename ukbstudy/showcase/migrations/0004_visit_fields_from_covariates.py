"""Age, height and BMI of the repeat imaging visit (21003-3.0, 50-3.0, 21001-3.0) were kept as covariates
before visits existed: they move onto the participant's instance-3 visit (created where missing), and the
covariate rows go. Instance-2 values were on the participant and moved with subjects.0007."""

from django.db import migrations

MOVED = {"21003-3.0": "age", "50-3.0": "height_cm", "21001-3.0": "bmi"}


def covariates_to_visits(apps, schema_editor):
    CovariateValue = apps.get_model("showcase", "CovariateValue")
    Visit = apps.get_model("subjects", "Visit")
    rows = CovariateValue.objects.filter(field__in=MOVED)
    for subject_id, field, value in rows.values_list("subject_id", "field", "value").iterator(chunk_size=5000):
        visit, _ = Visit.objects.get_or_create(subject_id=subject_id, instance=3)
        if getattr(visit, MOVED[field]) is None:
            setattr(visit, MOVED[field], value)
            visit.save(update_fields=[MOVED[field]])
    rows.delete()
    if schema_editor.connection.vendor == "postgresql":  # the foreign key checks now, not at a later ALTER TABLE
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [("showcase", "0003_value_field"), ("subjects", "0007_visits")]

    operations = [migrations.RunPython(covariates_to_visits, migrations.RunPython.noop)]
