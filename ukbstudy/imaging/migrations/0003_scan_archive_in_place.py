"""Archives registered in place (absolute path, never copied or deleted) and the modification time that
lets every read check an archive with a stat."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("imaging", "0002_table_names")]

    operations = [
        migrations.AddField(
            model_name="scan",
            name="archive_in_place",
            field=models.BooleanField(default=False, help_text=(
                "Registered where it lies (not copied, never deleted by the app); read through scan_archive_file.")),
        ),
        migrations.AddField(
            model_name="scan",
            name="archive_mtime_ns",
            field=models.BigIntegerField(blank=True, null=True, help_text=(
                "Modification time (ns since 1970) of the file read at import or at the last check whose hash "
                "matched; a different time makes the next read re-hash it. Empty for scans imported before "
                "times were kept.")),
        ),
        migrations.AlterField(
            model_name="scan",
            name="archive_path",
            field=models.CharField(max_length=500, help_text=(
                "Relative to MEDIA_ROOT for a copy; absolute for an archive registered in place.")),
        ),
    ]
