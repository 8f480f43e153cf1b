"""python manage.py export_measurements [--format long|wide] [--quantity Q ...] [--method M ...] [--out FILE]"""

import sys

from django.core.management.base import BaseCommand

from ukbstudy.measurements.models import Export
from ukbstudy.measurements.selectors.exports import ExportFilters
from ukbstudy.measurements.services import export_csv


class Command(BaseCommand):
    help = "Write measurements as CSV (long: one row per measurement; wide: one row per subject)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=Export.Format.values, default=Export.Format.LONG)
        parser.add_argument("--quantity", action="append", default=[])
        parser.add_argument("--method", action="append", default=[])
        parser.add_argument("--model-version", type=int)
        parser.add_argument("--out", help="File to write (default: standard output).")

    def handle(self, *args, format, quantity, method, model_version, out, **options):
        filters = ExportFilters(quantities=quantity, methods=method, model_version=model_version)
        lines = export_csv(format=format, filters=filters, channel="command")
        if out:
            with open(out, "w", newline="", encoding="utf-8") as handle:
                handle.writelines(lines)
            self.stderr.write(f"written to {out}")
        else:
            sys.stdout.writelines(lines)
