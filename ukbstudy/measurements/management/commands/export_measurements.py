"""python manage.py export_measurements [--format long|wide|tidy] [--include qc_status|reference|covariates ...]
[--quantity Q ...] [--method M ...] [--model-version ID] [--out FILE]"""

import sys

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.measurements.models import Export
from ukbstudy.measurements.selectors.exports import INCLUDE, LAYOUTS, TIDY, ExportFilters
from ukbstudy.measurements.services import export_csv


class Command(BaseCommand):
    help = ("Write measurements as CSV (long: one row per measurement; wide: one row per participant and visit; "
            "tidy: one row per participant and visit, for collaborators, with --include columns beside the "
            "measurements).")

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=LAYOUTS, default=Export.Format.LONG)
        parser.add_argument("--include", action="append", default=[], choices=INCLUDE,
                            help="Tidy format: also the QC status, reference values or DXA covariates (repeat).")
        parser.add_argument("--quantity", action="append", default=[])
        parser.add_argument("--method", action="append", default=[])
        parser.add_argument("--model-version", type=int)
        parser.add_argument("--out", help="File to write (default: standard output).")

    def handle(self, *args, format, include, quantity, method, model_version, out, **options):
        if include and format != TIDY:
            raise CommandError(f"--include needs --format {TIDY}")
        filters = ExportFilters(quantities=quantity, methods=method, model_version=model_version,
                                include=list(dict.fromkeys(include)))
        lines = export_csv(format=format, filters=filters, channel="command")
        if out:
            with open(out, "w", newline="", encoding="utf-8") as handle:
                handle.writelines(lines)
            self.stderr.write(f"written to {out}")
        else:
            sys.stdout.writelines(lines)
