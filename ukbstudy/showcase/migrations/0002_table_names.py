"""The moved tables take this app's names (``showcase_<model>``)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("showcase", "0001_initial"), ("subjects", "0006_scans_and_showcase_values_moved")]

    operations = [
        migrations.AlterModelTable(name="referencevalue", table=None),
        migrations.AlterModelTable(name="covariatevalue", table=None),
    ]
