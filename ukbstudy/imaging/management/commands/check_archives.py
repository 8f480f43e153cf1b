"""python manage.py check_archives [--hash] : is every scan's archive where it was registered, and unchanged?"""

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.imaging.services.archive_files import scans_check_archives


class Command(BaseCommand):
    help = ("Check every scan's archive (copies under MEDIA_ROOT and archives registered in place): present, "
            "with the size and modification time recorded, re-hashed where the time differs. Exits non-zero "
            "when an archive is missing, changed or unreadable.")

    def add_arguments(self, parser):
        parser.add_argument("--hash", action="store_true", dest="full_hash",
                            help="Compute every archive's SHA-256 (reads every byte), also where size and time "
                                 "match: finds a file rewritten with its time kept.")

    def handle(self, *args, full_hash, **options):
        report = scans_check_archives(full_hash=full_hash)
        for problem in report.problems:
            self.stderr.write(f"{problem.kind:<10} eid {problem.eid} instance {problem.instance} "
                              f"{problem.path}: {problem.detail}")
        kinds = sorted({p.kind for p in report.problems})
        by_kind = ", ".join(f"{sum(p.kind == k for p in report.problems)} {k}" for k in kinds)
        how = "SHA-256" if full_hash else "size and time, SHA-256 where the time differs"
        self.stdout.write(f"{report.checked} archive(s) checked ({how}): {len(report.problems)} problem(s)"
                          + (f" ({by_kind})" if by_kind else ""))
        if report.problems:
            raise CommandError(f"{len(report.problems)} archive(s) missing, changed or unreadable")
