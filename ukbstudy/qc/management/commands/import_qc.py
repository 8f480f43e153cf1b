"""python manage.py import_qc CSV [--user USERNAME] : import QC decisions kept in a spreadsheet."""

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.accounts.commands import command_user
from ukbstudy.qc.importing import COLUMNS, QCImportError, qc_decisions_import


class Command(BaseCommand):
    help = (f"Import visual QC decisions from a CSV with columns {','.join(COLUMNS)}. The whole file is checked "
            "first; a bad file imports nothing. Importing the same file again changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("csv", help="CSV file (UTF-8) with a header row.")
        parser.add_argument("--user", help="Username recorded in the log as the one who imported the file.")

    def handle(self, *args, csv, user, **options):
        imported_by = command_user(user)
        try:
            report = qc_decisions_import(path_or_file=csv, imported_by=imported_by)
        except QCImportError as exc:
            raise CommandError("nothing imported:\n  " + "\n  ".join(exc.errors)) from None
        self.stdout.write(f"{report.rows} rows: {report.created} decisions created, {report.unchanged} already "
                          f"recorded, {report.withdrawn_skipped} of withdrawn participants skipped")
