"""python manage.py import_measurements CSV [--user USERNAME] : import values a lab already has."""

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.accounts.commands import command_user
from ukbstudy.measurements.importing import COLUMNS, MeasurementImportError, measurements_import


class Command(BaseCommand):
    help = (f"Import measurements a lab already has from a CSV with columns {','.join(COLUMNS)} (unit optional, "
            "%). The whole file is checked first; a bad file imports nothing. Importing the same file again "
            "changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("csv", help="CSV file (UTF-8) with a header row.")
        parser.add_argument("--user", help="Username recorded on the import batch as the one who imported it.")

    def handle(self, *args, csv, user, **options):
        imported_by = command_user(user)
        try:
            report = measurements_import(path_or_file=csv, imported_by=imported_by)
        except MeasurementImportError as exc:
            raise CommandError("nothing imported:\n  " + "\n  ".join(exc.reported)) from None
        batch = f" (import batch {report.batch_id})" if report.batch_id else " (nothing written)"
        self.stdout.write(f"{report.rows} rows: {report.created} created, {report.updated} updated, "
                          f"{report.unchanged} unchanged, {report.withdrawn_skipped} of withdrawn participants "
                          f"skipped{batch}")
