"""python manage.py import_ukb PATH... : import neck-to-knee archives (field 20201) or folders of them."""

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.imaging.services.archives import scans_import_archives


class Command(BaseCommand):
    help = "Import UK Biobank {eid}_20201_{instance}_0.zip archives (files or folders of them)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Zip files or folders containing them.")

    def handle(self, *args, paths, verbosity, **options):
        def progress(done, total, message):
            if verbosity >= 2:
                self.stdout.write(f"[{done}/{total}] {message}")

        report = scans_import_archives(paths=paths, progress=progress)
        for result in report.results:
            if result.status == "rejected":
                self.stderr.write(f"rejected  {result.reason}")
            elif verbosity >= 1:
                extra = f" ({len(result.deviations)} deviation(s): {'; '.join(result.deviations)})" \
                    if result.deviations else ""
                self.stdout.write(f"{result.status:<9} {result.path}{extra}")
        counts = report.counts
        self.stdout.write(f"{counts['imported']} imported, {counts['duplicate']} skipped as duplicate, "
                          f"{counts['rejected']} rejected")
        if not report.results:
            raise CommandError("no archives found in the given paths")
        if counts["rejected"]:
            raise CommandError(f"{counts['rejected']} archive(s) rejected")
