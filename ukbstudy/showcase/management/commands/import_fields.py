"""python manage.py import_fields CSV : import a UK Biobank basket (ukbconv CSV or R, or a RAP table export)."""

from django.core.management.base import BaseCommand, CommandError

from ml.ukb.showcase import ShowcaseError
from ukbstudy.showcase.services.fields import showcase_import_fields


class Command(BaseCommand):
    help = "Import subjects, reference values and covariates from a UK Biobank basket (header style detected)."

    def add_arguments(self, parser):
        parser.add_argument("csv", help="basket: ukbconv CSV (eid, 22402-2.0), ukbconv R output (f.eid, "
                                        "f.22402.2.0, tab-separated) or a Research Analysis Platform table "
                                        "export (participant.eid, participant.p22402_i2)")

    def handle(self, *args, csv, **options):
        try:
            report = showcase_import_fields(path=csv)
        except ShowcaseError as exc:
            raise CommandError(f"nothing imported. {exc}") from None
        self.stdout.write(f"header style: {report.header_style}")
        for column in report.unknown_columns:
            self.stderr.write(f"column not imported: {column}")
        if report.withdrawn_skipped:
            self.stdout.write(f"{len(report.withdrawn_skipped)} row(s) of withdrawn participants skipped")
        created = report.values_created
        updated = report.values_updated
        same = report.values_unchanged
        self.stdout.write(
            f"{report.rows} rows: subjects {report.subjects_created} created, {report.subjects_updated} updated; "
            f"visits {report.visits_created} created, {report.visits_updated} updated; "
            f"reference values {created['reference']} created, {updated['reference']} updated, "
            f"{same['reference']} unchanged; covariates {created['covariate']} created, "
            f"{updated['covariate']} updated, {same['covariate']} unchanged"
            + ("" if report.changed else " (nothing changed)"))
