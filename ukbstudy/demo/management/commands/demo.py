"""python manage.py demo : the whole study pipeline on a synthetic cohort, then the web app.

Steps: migrate, write a synthetic cohort (once per seed and size), import its showcase CSV and archives,
preprocess every scan (fused volumes, maps, network inputs, QC images, hints), import the generator's
simulated visual QC, run the liver fat network (cross-validation, training, inference), the multi-atlas
baseline, the bone marrow segmentation and the results pages' computations, print the statistics engine's
paper-style tables, create a ``demo`` administrator with a fresh password, and serve the app on 127.0.0.1.

The app is served as soon as the scans are preprocessed and the simulated QC is in: the network, atlas and
marrow steps then run in a thread of this process as jobs (progress on the jobs page and as lines here), so a
newcomer can rate scans meanwhile. ``--no-serve`` runs everything in turn and stops. While jobs run, a line
per job reports its progress every 15 s.
"""

import io
import secrets
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.module_loading import import_string

from ml.synthetic import make_cohort
from ml.synthetic.tables import GENERATOR_VERSION, SIMULATED_RATER
from ukbstudy.accounts.services import user_create
from ukbstudy.demo.progress import job_progress_lines
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.jobs import preprocess_start
from ukbstudy.imaging.services.preprocessing import NO_HINT_RANK
from ukbstudy.jobs import background
from ukbstudy.qc.importing import qc_decisions_import
from ukbstudy.showcase.services.fields import showcase_import_fields
from ukbstudy.subjects.models import Subject

LEFT_FOR_RATERS = 8
# Participants with a repeat imaging visit (instance 3): enough pairs for the change statistics of
# /results/longitudinal/ (UK Biobank's repeat imaging is heading for 60,000 of its 100,000).
DEMO_REPEAT_FRACTION = 0.25
STEPS = {  # each runs its capability on the demo cohort and prints a summary
    "liverfat": "ukbstudy.liverfat.demo.demo_step",
    "atlas": "ukbstudy.atlas.demo.demo_step",
    "marrow": "ukbstudy.marrow.demo.demo_step",
    "results": "ukbstudy.results.demo.demo_step",
}
# Step settings per profile: "demo" runs in minutes on a laptop; "paper" sizes the runs like the papers (10-fold
# cross-validation, the quick configuration's full training, 100 subjects of C for the atlas, 75 manual marrow
# segmentations and the segmentation benchmark's training), for bench/bench_paper.py.
PROFILES = {
    "demo": {},
    "longitudinal": {"liverfat": {"folds": 10, "overrides": {"downsample": 1}}},
    "paper": {"liverfat": {"folds": 10, "overrides": {}}, "atlas": {"c_subjects": 100},
              "marrow": {"manual": 75, "config": {"iterations": 300, "batch_size": 4, "base_channels": 8}}},
}


class Command(BaseCommand):
    help = "Run the pipeline on a synthetic demo cohort and serve the web app."

    def add_arguments(self, parser):
        parser.add_argument("--subjects", type=int, default=40)
        parser.add_argument("--scale", type=float, default=0.5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--repeat-fraction", type=float, default=DEMO_REPEAT_FRACTION,
                            help="Share of participants with a repeat imaging visit (instance 3).")
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Stop after the pipeline.")
        parser.add_argument("--skip", action="append", default=[], choices=sorted(STEPS),
                            help="Leave out a step (repeatable).")
        parser.add_argument("--profile", choices=sorted(PROFILES), default="demo",
                            help="Step sizes: demo (minutes on a laptop) or paper (the papers' sizes; longer).")

    def handle(self, *args, subjects, scale, seed, repeat_fraction, addrport, no_serve, skip, profile, **options):
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        cohort = self._cohort(subjects, scale, seed, repeat_fraction)
        with job_progress_lines(self._say):
            self._import(cohort)
            self._preprocess()
        flagged = Scan.objects.filter(n_deviations__gt=0).count()
        hinted = Scan.objects.filter(hint_rank__lt=NO_HINT_RANK).count()
        self._say(f"study: {Subject.objects.count()} subjects, {Scan.objects.count()} scans ({flagged} with "
                  f"deviations from the protocol, {hinted} with QC hints)")
        self._simulated_qc(cohort)
        steps = [(name, step) for name, step in STEPS.items() if name not in skip]
        if no_serve:
            self._steps(steps, cohort, profile, started)
            self._login_lines(addrport)
            return
        # Serve now: the network, atlas and marrow steps run as jobs in a thread of this process (their own,
        # not the server's job thread), which the newcomer watches on the jobs page while rating scans.
        self._login_lines(addrport, later=[name for name, _ in steps])
        threading.Thread(target=self._steps_in_thread, args=(steps, cohort, profile, started), name="demo-steps",
                         daemon=True).start()
        call_command("runserver", addrport, use_reloader=False)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _import(self, cohort: Path) -> None:
        fields = showcase_import_fields(path=cohort / "showcase.csv")
        self._say(f"showcase: {fields.subjects_created} subjects created, "
                  f"{sum(fields.values_created.values())} values created")
        self._say(f"archives: importing {len(list((cohort / 'archives').glob('*.zip')))} zips ...")
        report = scans_import_archives(paths=[cohort / "archives"])
        self._say("archives: " + ", ".join(f"{n} {status}" for status, n in report.counts.items()))

    def _steps(self, steps, cohort: Path, profile: str, started: float) -> None:
        with job_progress_lines(self._say):
            for name, step in steps:
                begun = time.perf_counter()
                import_string(step)(stdout=self.stdout, cohort_dir=cohort, **PROFILES[profile].get(name, {}))
                self._say(f"({name}: {time.perf_counter() - begun:.0f} s)")
        self._reports()
        self._say(f"demo pipeline finished in {(time.perf_counter() - started) / 60:.1f} min")

    def _steps_in_thread(self, steps, cohort: Path, profile: str, started: float) -> None:
        try:
            with background.inline():
                self._steps(steps, cohort, profile, started)
        except Exception as exc:  # the server goes on; the failure is shown where the newcomer looks
            self._say(self.style.ERROR(f"demo pipeline stopped: {type(exc).__name__}: {exc}"))
            raise
        finally:
            connections.close_all()

    def _login_lines(self, addrport: str, later: list[str] | None = None) -> None:
        password = self._demo_admin()
        rater_password = self._demo_user("rater", "rater")
        self._say(self.style.SUCCESS(
            f"\nOpen http://{addrport}/ and log in as demo / {password} (admin) or rater / {rater_password} "
            "(QC queue: keys p/q/f, 1-9, n, Enter, b, l); the admin site is at /admin/, the API at /api/\n"))
        if later:
            self._say(f"The {', '.join(later)} steps now run as jobs in the background: watch them at "
                      f"http://{addrport}/jobs/ (progress lines follow here too)\n")

    def _preprocess(self) -> None:
        """Fuse and derive images for every scan not processed yet (in-process, or on the workers)."""
        pending = Scan.objects.exclude(processing_state=Scan.State.PROCESSED)
        job = preprocess_start(scans=pending)
        while not settings.CELERY_TASK_ALWAYS_EAGER and not job.is_finished:
            time.sleep(1)
            job.refresh_from_db()
        job.refresh_from_db()
        failed = len(job.result.get("failed", []))
        self.stdout.write(f"preprocessing: {job.progress_done - failed} scans processed, {failed} failed")

    def _simulated_qc(self, cohort: Path) -> None:
        """The generator's simulated visual QC (a rater failing swaps, noise, metal, missing stations)."""
        if not get_user_model().objects.filter(username=SIMULATED_RATER).exists():
            user = user_create(username=SIMULATED_RATER, password=secrets.token_urlsafe(24), role="rater")
            user.set_unusable_password()
            user.save(update_fields=["password"])
        lines = (cohort / "qc_decisions.csv").read_text().splitlines(keepends=True)
        left = max(1, min(LEFT_FOR_RATERS, (len(lines) - 1) // 5))
        keep = lines[:len(lines) - left]  # the last scans wait in the QC queue for the demo rater
        report = qc_decisions_import(path_or_file=io.StringIO("".join(keep)))
        self.stdout.write(f"visual QC (simulated rater): {report.created} decisions recorded, {report.unchanged} "
                          f"already recorded; {len(lines) - len(keep)} scans left in the QC queue for the demo rater")

    def _reports(self) -> None:
        """The statistics engine on the demo cohort's values (tables for the methods not run yet stay empty)."""
        reports = [
            ("Reference fields 22402 vs 22436 (liver fat paper, Table 1 layout)",
             ["report", "agreement", "--a", "reference", "--b", "reference:22436-2.0"]),
            ("Spine BMD (bone marrow paper, Tables 4 and 5 layout)",
             ["report", "regression", "--dependent", "bmd_spine", "--explanatory", "bmi", "--explanatory", "age",
              "--model", "sex,bmi", "--model", "sex,bmi,fat_pct_legs", "--model", "sex,bmi,fat_pct_legs,vat_mass"]),
        ]
        for title, arguments in reports:
            self.stdout.write(f"\n== {title}")
            try:
                call_command(*arguments, stdout=self.stdout)
            except CommandError as exc:
                self.stdout.write(f"(not enough data yet: {exc})")

    def _cohort(self, subjects: int, scale: float, seed: int, repeat_fraction: float) -> Path:
        folder = (Path(settings.DATA_DIR) / "demo"
                  / f"cohort-n{subjects}-s{scale:g}-seed{seed}-r{repeat_fraction:g}-g{GENERATOR_VERSION}")
        if not folder.exists():
            self.stdout.write(f"writing a synthetic cohort of {subjects} subjects to {folder} ...")
            partial = folder.with_name(folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)  # left over from an interrupted run
            make_cohort(partial, subjects, seed=seed, scale=scale, repeat_fraction=repeat_fraction)
            partial.rename(folder)  # the cohort folder appears complete or not at all
        return folder

    def _demo_admin(self) -> str:
        """A local administrator with a new random password on every run (printed, never stored)."""
        password = self._demo_user("demo", "admin")
        get_user_model().objects.filter(username="demo").update(is_superuser=True, is_staff=True)
        return password

    def _demo_user(self, username: str, role: str) -> str:
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@localhost"})
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        return password
