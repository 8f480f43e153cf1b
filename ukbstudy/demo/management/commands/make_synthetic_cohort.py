"""python manage.py make_synthetic_cohort --subjects N --out DIR --seed S [--scale F] [--rap] [--report]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.synthetic import make_cohort


class Command(BaseCommand):
    help = ("Write a synthetic cohort in the UK Biobank layout: DICOM zips (field 20201), a showcase CSV, "
            "ground truth values and label volumes (NIfTI).")

    def add_arguments(self, parser):
        parser.add_argument("--subjects", type=int, required=True)
        parser.add_argument("--out", required=True, help="Output folder (created).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--scale", type=float, default=1.0,
                            help="Voxels per axis relative to UK Biobank (1.0 = full scale; 0.25 for fast tests).")
        parser.add_argument("--repeat-fraction", type=float, default=0.05,
                            help="Share of subjects that also get a repeat-visit scan (instance 3).")
        parser.add_argument("--clean", action="store_true", help="Plant no faults.")
        parser.add_argument("--rap", action="store_true",
                            help="Also write the showcase as a Research Analysis Platform table export "
                                 "(showcase_rap.csv: participant.eid, participant.p22402_i2, ...).")
        parser.add_argument("--report", action="store_true",
                            help="Then measure how hard the cohort is (SNR, liver FF spread, marrow size, seams, "
                                 "BMI range beside the papers' figures): prints a table, writes realism.json.")

    def handle(self, *args, subjects, out, seed, scale, repeat_fraction, clean, rap, report, verbosity,
               **options):
        if subjects < 1:
            raise CommandError("--subjects must be at least 1")
        if not 0.05 <= scale <= 1.0:
            raise CommandError("--scale must be between 0.05 and 1.0")

        def progress(done, total):
            if verbosity >= 2 or done == total:
                self.stdout.write(f"[{done}/{total}] subjects written")

        try:
            summary = make_cohort(Path(out), subjects, seed=seed, scale=scale, repeat_fraction=repeat_fraction,
                                  fault_rates={} if clean else None, progress=progress, rap_export=rap)
        except FileExistsError as exc:
            raise CommandError(f"{exc}; choose an empty or new --out folder") from None
        self.stdout.write(f"{len(summary.archives)} archives, {summary.showcase_csv} and {summary.ground_truth_csv} "
                          f"written in {summary.seconds:.1f} s")
        if report:
            from ml.synthetic.realism import cohort_report  # scipy and scikit-image only when asked for

            realism = cohort_report(summary.out_dir)
            path = realism.write_json(summary.out_dir / "realism.json")
            self.stdout.write(realism.table())
            self.stdout.write(f"realism figures written to {path}")
