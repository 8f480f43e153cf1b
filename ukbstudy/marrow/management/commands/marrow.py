"""python manage.py marrow import-labels | upload | train | segment | report"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.marrow.io import LabelError
from ml.marrow.regions import REGION_NAMES
from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.commands import command_follow
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.selectors.datasets import processed_scans, qc_passed_scans

from ...report import dice_lines, status_lines
from ...selectors import current_model_version
from ...services.jobs import NoModel, marrow_segment_start, marrow_train_start
from ...services.manual import manual_segmentation_record, manual_segmentations_import
from ...services.slabs import SlabMissing
from ...services.training import DEFAULT_TEST_FRACTION


class Command(BaseCommand):
    help = "Bone marrow segmentation: manual labels, training, segmentation with error checks and BMFF, Dice report."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        labels = sub.add_parser("import-labels", help="Import the synthetic generator's labels/ folder.")
        labels.add_argument("labels_dir", type=Path)
        labels.add_argument("--count", type=int, default=75, help="Scans to take (seeded choice; paper: 61-75).")
        labels.add_argument("--seed", type=int, default=0)
        labels.add_argument("--any-qc", action="store_true", help="Also scans that did not pass visual QC.")
        upload = sub.add_parser("upload", help="Import one manual label volume (NIfTI on the slab's grid).")
        upload.add_argument("eid", type=int)
        upload.add_argument("region", choices=REGION_NAMES)
        upload.add_argument("path", type=Path)
        upload.add_argument("--instance", type=int, default=2)
        train = sub.add_parser("train", help="Train the U-Net and the ROI-attention U-Net per region.")
        train.add_argument("--iterations", type=int, default=300)
        train.add_argument("--base-channels", type=int, default=8)
        train.add_argument("--regions", nargs="+", choices=REGION_NAMES, default=list(REGION_NAMES))
        train.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION)
        train.add_argument("--seed", type=int, default=0)
        segment = sub.add_parser("segment", help="Segment processed scans with the current model.")
        segment.add_argument("--eid", type=int, nargs="+")
        segment.add_argument("--instance", type=int, choices=(2, 3), default=2,
                             help="The visit's scans: 2 first imaging visit (default), 3 repeat.")
        sub.add_parser("report", help="Held-out Dice (baseline beside attention model) and status counts.")

    def handle(self, *args, action, **options):
        getattr(self, "_" + action.replace("-", "_"))(**options)

    def _import_labels(self, labels_dir: Path, count: int, seed: int, any_qc: bool, **_):
        if not labels_dir.is_dir():
            raise CommandError(f"{labels_dir} is not a folder")
        scans = (processed_scans() if any_qc else qc_passed_scans()).select_related("subject")
        report = manual_segmentations_import(labels_dir=labels_dir, scans=list(scans), count=count, seed=seed)
        for error in report.errors:
            self.stderr.write(f"rejected  {error}")
        self.stdout.write(f"{len(report.imported)} manual segmentation(s) imported, {len(report.errors)} rejected")

    def _upload(self, eid: int, region: str, path: Path, instance: int, **_):
        scan = Scan.objects.filter(subject__eid=eid, instance=instance).select_related("subject").first()
        if scan is None:
            raise CommandError(f"no scan for eid {eid}, instance {instance}")
        try:
            record = manual_segmentation_record(scan=scan, region=region, path=path)
        except (LabelError, SlabMissing, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"stored {region} of {eid}: {record.voxels} voxels")

    def _train(self, iterations: int, base_channels: int, regions: list[str], test_fraction: float, seed: int, **_):
        job = marrow_train_start(config={"iterations": iterations, "base_channels": base_channels}, regions=regions,
                                 test_fraction=test_fraction, seed=seed)
        if self._finished(job):
            self.stdout.write("\n".join(dice_lines()))

    def _segment(self, eid: list[int] | None, instance: int, **_):
        scans = processed_scans(instance=instance)
        scans = scans.filter(subject__eid__in=eid) if eid else scans
        try:
            job = marrow_segment_start(scans=scans)
        except NoModel as exc:
            raise CommandError(str(exc)) from exc
        if self._finished(job):
            self.stdout.write("\n".join(status_lines(current_model_version())))

    def _report(self, **_):
        self.stdout.write("\n".join(dice_lines()))
        model_version = current_model_version()
        if model_version is not None:
            self.stdout.write("\n".join(status_lines(model_version)))

    def _finished(self, job: Job) -> bool:
        job = command_follow(self, job, wait=False)
        if job is None:
            return False
        for failure in job.result.get("failed", []):
            self.stderr.write(f"failed    scan {failure['item']}: {failure['reason']}")
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
        self.stdout.write(f"job {job.pk} {job.status} in {job.duration_seconds:.0f} s")
        return True
