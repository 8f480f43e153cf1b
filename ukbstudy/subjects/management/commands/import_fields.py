"""python manage.py import_fields CSV : import a showcase-style CSV (eid + FIELD-I.A columns)."""

from django.core.management.base import BaseCommand, CommandError

from ml.ukb.showcase import ShowcaseError
from ukbstudy.subjects.services.fields import subjects_import_fields


class Command(BaseCommand):
    help = "Import subjects, reference values and covariates from a UK Biobank showcase-style CSV."

    def add_arguments(self, parser):
        parser.add_argument("csv", help="CSV with an 'eid' column and FIELD-INSTANCE.ARRAY columns.")

    def handle(self, *args, csv, **options):
        try:
            report = subjects_import_fields(path=csv)
        except ShowcaseError as exc:
            raise CommandError(f"nothing imported. {exc}") from None
        for column in report.unknown_columns:
            self.stderr.write(f"column not imported: {column}")
        if report.withdrawn_skipped:
            self.stdout.write(f"{len(report.withdrawn_skipped)} row(s) of withdrawn participants skipped")
        created, updated, same = report.values_created, report.values_updated, report.values_unchanged
        self.stdout.write(
            f"{report.rows} rows: subjects {report.subjects_created} created, {report.subjects_updated} updated; "
            f"reference values {created['reference']} created, {updated['reference']} updated, "
            f"{same['reference']} unchanged; covariates {created['covariate']} created, "
            f"{updated['covariate']} updated, {same['covariate']} unchanged"
            + ("" if report.changed else " (nothing changed)"))
