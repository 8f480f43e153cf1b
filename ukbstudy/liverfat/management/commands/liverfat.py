"""python manage.py liverfat cv|train|infer|models|current ...: the liver fat network from the command line.

Same services as the web app: each run is a job (in-process without a broker, on the workers with one).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from ml.liverfat import CONFIGS, parse_overrides
from ukbstudy.imaging.models import Scan
from ukbstudy.jobs.commands import command_follow
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat.services.registry import TASK, liverfat_model_make_current
from ukbstudy.liverfat.services.runs import (
    DEFAULT_FOLDS,
    RunError,
    cross_validation_start,
    inference_start,
    training_start,
)
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DATASETS


class Command(BaseCommand):
    help = "Cross-validate, train and run the liver fat regression network; list and choose model versions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("cv", "train"):
            run = sub.add_parser(name, help="10-fold cross-validation on dataset A" if name == "cv"
                                 else "train on all of dataset A and register the model")
            run.add_argument("--config", choices=sorted(CONFIGS), default="quick")
            run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                             help="override a configuration value, e.g. --set iterations=2000 --set depth=50")
            run.add_argument("--field", default=DEFAULT_REFERENCE_FIELD,
                             help="reference field (22402-2.0, 22436-2.0) or fields by preference "
                                  "(22402-2.0,22436-2.0: each subject's first plausible value)")
            run.add_argument("--wait", action="store_true", help="with workers: wait and report the outcome")
            if name == "cv":
                run.add_argument("--folds", type=int, default=DEFAULT_FOLDS)
                run.add_argument("--seed", type=int, default=0)
            else:
                run.add_argument("--not-current", action="store_true", help="register without making it current")
        infer = sub.add_parser("infer", help="infer liver fat for a dataset or for given participants")
        infer.add_argument("--dataset", choices=DATASETS, default="B")
        infer.add_argument("--eid", type=int, nargs="+", help="these participants' first-visit scans instead")
        infer.add_argument("--model-version", type=int, help="model version id (default: the current one)")
        infer.add_argument("--chunk-size", type=int, default=256)
        infer.add_argument("--wait", action="store_true")
        sub.add_parser("models", help="list model versions with their cross-validation metrics")
        current = sub.add_parser("current", help="make a trained model version current")
        current.add_argument("model_version", type=int)

    def handle(self, *args, action, **options):
        try:
            if action == "models":
                return self._models()
            if action == "current":
                version = ModelVersion.objects.filter(pk=options["model_version"], task=TASK).first()
                if version is None:
                    raise CommandError(f"no liver fat model version {options['model_version']}")
                liverfat_model_make_current(model_version=version)
                self.stdout.write(f"{version} is now current")
                return None
            job = self._start(action, options)
        except (RunError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self._follow(job, options["wait"])
        return None

    def _start(self, action: str, options: dict) -> Job:
        if action == "infer":
            version = None
            if options["model_version"]:
                version = ModelVersion.objects.filter(pk=options["model_version"], task=TASK).first()
                if version is None:
                    raise CommandError(f"no liver fat model version {options['model_version']}")
            scan_ids = None
            if options["eid"]:
                scan_ids = list(Scan.objects.filter(subject__eid__in=options["eid"], instance=2)
                                .values_list("pk", flat=True))
                if not scan_ids:
                    raise CommandError(f"no first-visit scans for eid {', '.join(map(str, options['eid']))}")
            return inference_start(model_version=version, dataset=options["dataset"], scan_ids=scan_ids,
                                   chunk_size=options["chunk_size"])
        overrides = parse_overrides(options["set"])
        if action == "cv":
            return cross_validation_start(config=options["config"], overrides=overrides, field=options["field"],
                                          folds=options["folds"], seed=options["seed"])
        return training_start(config=options["config"], overrides=overrides, field=options["field"],
                              make_current=not options["not_current"])

    def _follow(self, job: Job, wait: bool) -> None:
        job = command_follow(self, job, wait=wait, interval=5)
        if job is None:
            return
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
        self.stdout.write(f"job {job.pk} succeeded in {job.duration_seconds:.1f} s on {job.device}")
        self.stdout.write(json.dumps(job.result, indent=2, default=str))

    def _models(self) -> None:
        for version in ModelVersion.objects.filter(task=TASK).order_by("-created_at"):
            metrics = version.metrics or {}
            figures = ", ".join(f"{key} {metrics[key]:.3f}" for key in ("mae", "r2", "roc_auc")
                                if isinstance(metrics.get(key), int | float))
            self.stdout.write(f"{version.pk:>4} {'*' if version.is_current else ' '} {version.name} {version.version} "
                              f"({version.config.get('kind', '')}, n={version.config.get('n', '?')}) {figures}")

