"""python manage.py preprocess [--all | --pending | --failed | --eid EID ...] [--wait]"""


from django.core.management.base import BaseCommand, CommandError

from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.jobs import preprocess_start
from ukbstudy.jobs.commands import command_follow, command_report_items


class Command(BaseCommand):
    help = ("Fuse stations and write derived maps, network inputs, QC images and hints for scans, as one job "
            "(in-process without a broker, on the Celery workers with one).")

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Every scan (reprocess).")
        which.add_argument("--pending", action="store_true", help="Scans not processed yet.")
        which.add_argument("--failed", action="store_true", help="Scans whose processing failed.")
        which.add_argument("--eid", type=int, nargs="+", help="The scans of these participants.")
        parser.add_argument("--wait", action="store_true", help="With workers: wait and report the outcome.")

    def handle(self, *args, all, pending, failed, eid, wait, **options):
        scans = Scan.objects.all()
        if pending:
            scans = scans.exclude(processing_state=Scan.State.PROCESSED)
        elif failed:
            scans = scans.filter(processing_state=Scan.State.FAILED)
        elif eid:
            scans = scans.filter(subject__eid__in=eid)
            if not scans.exists():
                raise CommandError(f"no scans for eid {', '.join(map(str, eid))}")
        job = preprocess_start(scans=scans)
        job = command_follow(self, job, wait=wait, what=f"{job.progress_total} scan(s)")
        if job is not None and command_report_items(self, job, Scan.all_objects, done="processed"):
            raise CommandError(f"{len(job.result['failed'])} scan(s) failed")
