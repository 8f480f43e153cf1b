"""python manage.py atlas templates add|list|deactivate ... | run ... | calibrate ..."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.commands import command_follow, command_report_items
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DATASETS, UnknownDataset, dataset_scans

from ...models import AtlasTemplate
from ...services.calibration import CalibrationError, atlas_calibrate
from ...services.runs import atlas_run_start
from ...services.templates import TemplateError, atlas_template_add, atlas_template_deactivate, template_set_current


class Command(BaseCommand):
    help = "Multi-atlas liver fat: manage templates, run the atlas over scans as a job, refit the correction."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        templates = actions.add_parser("templates", help="Atlas templates (scans with manual liver masks).")
        verbs = templates.add_subparsers(dest="verb", required=True)
        add = verbs.add_parser("add", help="Add a template: a processed scan and its liver mask (NIfTI).")
        add.add_argument("--eid", type=int, required=True)
        add.add_argument("--instance", type=int, default=2)
        masks = add.add_mutually_exclusive_group(required=True)
        masks.add_argument("--mask", help="Binary NIfTI on the scan's fused grid.")
        masks.add_argument("--from-labels", help="A synthetic cohort's labels folder ({eid}_20201_{i}_0/liver.nii.gz).")
        add.add_argument("--note", default="")
        verbs.add_parser("list", help="List templates.")
        deactivate = verbs.add_parser("deactivate", help="Leave a template out of new runs.")
        deactivate.add_argument("id", type=int)
        run = actions.add_parser("run", help="Measure scans (one job, one task per scan), then correct.")
        which = run.add_mutually_exclusive_group(required=True)
        which.add_argument("--dataset", choices=DATASETS)
        which.add_argument("--eid", type=int, nargs="+")
        run.add_argument("--field", default=DEFAULT_REFERENCE_FIELD, help="Reference field of dataset A.")
        run.add_argument("--wait", action="store_true", help="With workers: wait and report the outcome.")
        calibrate = actions.add_parser("calibrate", help="Refit the correction on A and rewrite the values.")
        calibrate.add_argument("--field", default=DEFAULT_REFERENCE_FIELD)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except (TemplateError, CalibrationError, UnknownDataset) as exc:
            raise CommandError(str(exc)) from None

    def _templates(self, *, verb, **options):
        if verb == "add":
            scan = Scan.objects.filter(subject__eid=options["eid"], instance=options["instance"]).first()
            if scan is None:
                raise CommandError(f"no scan for eid {options['eid']} visit {options['instance']}")
            mask = options["mask"] or Path(options["from_labels"]) / f"{options['eid']}_20201_{options['instance']}_0" \
                / "liver.nii.gz"
            template = atlas_template_add(scan=scan, mask_file=mask, note=options["note"])
            self.stdout.write(f"template {template.pk}: {scan}, {template.voxels} liver voxels")
        elif verb == "list":
            for t in AtlasTemplate.objects.select_related("scan__subject"):
                self.stdout.write(f"{t.pk:>4}  eid {t.scan.subject.eid} visit {t.scan.instance}  {t.voxels:>7} voxels  "
                                  f"{'active' if t.active else 'inactive'}  {t.note}")
        else:
            template = AtlasTemplate.objects.filter(pk=options["id"]).first()
            if template is None:
                raise CommandError(f"no template {options['id']}")
            atlas_template_deactivate(template=template)
            self.stdout.write(f"template {template.pk} deactivated")

    def _run(self, *, dataset, eid, field, wait, **options):
        scans = dataset_scans(dataset, field=field) if dataset else Scan.objects.filter(subject__eid__in=eid)
        job = atlas_run_start(scans=scans, field=field, template_set=template_set_current())
        # the last task writes the calibration just after the job reads "succeeded"
        job = command_follow(self, job, wait=wait, what=f"{job.progress_total} scan(s)",
                             settled=lambda job: "calibration" in job.result or job.status != Job.Status.SUCCEEDED)
        if job is not None:
            self._report(job)

    def _report(self, job: Job) -> None:
        command_report_items(self, job, Scan.all_objects, done="measured")
        calibration = job.result.get("calibration", {})
        if "slope" in calibration:
            self.stdout.write(f"correction on A (n = {calibration['n']}): {calibration['slope']:.3f} x raw "
                              f"{calibration['intercept']:+.3f}; values stored as {calibration['model_version']}")
        if job.status == Job.Status.FAILED:
            raise CommandError(job.error.splitlines()[0] if job.error else "the atlas job failed")

    def _calibrate(self, *, field, **options):
        template_set = template_set_current()
        version = atlas_calibrate(template_set=template_set.fingerprint, field=field,
                                  templates=template_set.describe())
        correction = version.config["correction"]
        self.stdout.write(f"{version}: {correction['slope']:.3f} x raw {correction['intercept']:+.3f} "
                          f"(n = {correction['n']} on A)")
