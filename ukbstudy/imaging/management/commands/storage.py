"""python manage.py storage [--format text|json]: bytes under MEDIA_ROOT per scan and kind of file."""

import json

from django.core.management.base import BaseCommand

from ml.imaging.storage import PROJECTED_SCANS, report_text
from ukbstudy.imaging.selectors import scans_storage


class Command(BaseCommand):
    help = (f"Report the disk space of derived files (per kind) and archive copies under MEDIA_ROOT: total, mean "
            f"per scan and projected to {PROJECTED_SCANS:,} scans. Read-only: it stats files, opens none.")

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, format, **options):
        report = scans_storage()
        self.stdout.write(json.dumps(report.as_dict(), indent=1) if format == "json" else report_text(report))
