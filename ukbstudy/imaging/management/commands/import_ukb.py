"""python manage.py import_ukb [--in-place] PATH... : import neck-to-knee archives (field 20201) or folders of them."""

import argparse

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.imaging.services.archives import scans_import_archives


class Command(BaseCommand):
    help = "Import UK Biobank {eid}_20201_{instance}_0.zip archives (files or folders of them)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Zip files or folders containing them.")
        parser.add_argument(
            "--in-place", action=argparse.BooleanOptionalAction, default=None,
            help="Register the archives where they are (absolute path, size, time and SHA-256; nothing written "
                 "beside them, never deleted) instead of copying them under MEDIA_ROOT; --no-in-place copies. "
                 "Default: UKBSTUDY_ARCHIVES_IN_PLACE (off).")

    def handle(self, *args, paths, verbosity, in_place=None, **options):
        def progress(done, total, message):
            if verbosity >= 2:
                self.stdout.write(f"[{done}/{total}] {message}")

        report = scans_import_archives(paths=paths, progress=progress, in_place=in_place)
        for result in report.results:
            if result.status == "rejected":
                self.stderr.write(f"rejected  {result.reason}")
            elif verbosity >= 1:
                extra = f" ({len(result.deviations)} deviation(s): {'; '.join(result.deviations)})" \
                    if result.deviations else ""
                if result.status == "duplicate":
                    extra = f" ({result.reason})"  # names the scan, and a moved archive's new path
                self.stdout.write(f"{result.status:<9} {result.path}{extra}")
        counts = report.counts
        self.stdout.write(f"{counts['imported']} imported, {counts['duplicate']} skipped as duplicate, "
                          f"{counts['rejected']} rejected")
        if not report.results:
            raise CommandError("no archives found in the given paths")
        if counts["rejected"]:
            raise CommandError(f"{counts['rejected']} archive(s) rejected")
