"""The moved tables take this app's names (``imaging_<model>``)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("imaging", "0001_initial"), ("subjects", "0006_scans_and_showcase_values_moved")]

    operations = [
        migrations.AlterModelTable(name="scan", table=None),
    ]
