"""python manage.py withdraw_subjects EID... [--file withdrawals.csv]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.subjects.services.withdrawal import subjects_withdraw


class Command(BaseCommand):
    help = "Mark participants withdrawn (from then on hidden from every page, statistic and export)."

    def add_arguments(self, parser):
        parser.add_argument("eids", nargs="*", type=int)
        parser.add_argument("--file", help="UK Biobank withdrawal file: one eid per line.")

    def handle(self, *args, eids, file, **options):
        eids = list(eids) + (_read_eids(Path(file)) if file else [])
        if not eids:
            raise CommandError("give eids or --file")
        outcome = subjects_withdraw(eids=eids)
        self.stdout.write(f"{len(outcome['withdrawn'])} withdrawn, {len(outcome['already_withdrawn'])} already "
                          f"withdrawn, {len(outcome['unknown'])} not in the study")


def _read_eids(path: Path) -> list[int]:
    eids = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        text = line.strip().split(",")[0].strip()
        if not text or text.lower() == "eid":
            continue
        if not text.isdigit():
            raise CommandError(f"{path.name}, line {line_number}: {text!r} is not an eid")
        eids.append(int(text))
    return eids
