"""Reads for the liver fat page: the registry (with the warning a poorly validated current model carries),
the configurations a run may use and what each costs here, the network's runs and their loss curves."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from django.conf import settings
from django.db.models import Count, QuerySet

from ml.liverfat import CONFIGS
from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.selectors.datasets import dataset_scans

from .figures import LossCurve
from .models import FoldAssignment
from .services.registry import TASK

KINDS = (Job.Kind.CROSS_VALIDATE, Job.Kind.TRAIN, Job.Kind.INFER)
POOR_R2 = 0.8  # a current model whose cross-validation R² is below this is shown with a warning
# What one run of each configuration costs, as measured in the README's benchmarks (2-core VM under load, so
# the CPU figures are pessimistic). A cross-validation trains the configuration once per fold.
CONFIG_COSTS = {
    "quick": "one training run (800 iterations) about 1.8 min on one CPU thread; cross-validation trains once "
             "per fold (10 folds: about 18 min); inference about 23,400 subjects/min",
    "paper": "about 1 image/s on a CPU, so one 6,000-iteration run takes over 2 days (10-fold cross-validation: "
             "weeks): GPU only; on a GPU not measured yet (the benchmark's goal: under 3 min a run on one H100); "
             "inference on a CPU about 300 subjects/min",
}


def model_versions() -> QuerySet:
    return (ModelVersion.objects.filter(task=TASK).annotate(n_values=Count("measurements"))
            .select_related("trained_by").order_by("-created_at"))


def liverfat_jobs(limit: int = 20) -> list[Job]:
    # Without their loss curves: a paper cross-validation records 60,000 numbers (see cross_validation_losses).
    return list(Job.objects.filter(kind__in=KINDS, parameters__task=TASK).defer("metrics")
                .select_related("created_by")[:limit])


def dataset_sizes(field: str) -> dict[str, int]:
    return {name: dataset_scans(name, field=field).count() for name in ("A", "B", "all")}


# Configurations -----------------------------------------------------------------------------------------------

def gpu_available() -> bool:
    """Whether a run would train on a GPU: the settings allow CUDA (``LIVERFAT_DEVICE``) and torch sees one.
    Read in the web process, which is taken to run where the workers run (one machine)."""
    return settings.LIVERFAT_DEVICE != "cpu" and torch.cuda.is_available()


def default_configuration() -> str:
    """The configuration a form preselects and a start without one uses: one that finishes on this machine."""
    return "paper" if gpu_available() else "quick"


def configuration_choices() -> list[dict]:
    """Each configuration with its measured cost and whether it is the default here."""
    default = default_configuration()
    return [{"name": name, "selected": name == default, "cost": CONFIG_COSTS.get(name, "not measured")}
            for name in CONFIGS]


# The current model's warning -------------------------------------------------------------------------------

def model_warning(version: ModelVersion | None) -> dict | None:
    """{"poor": bool, "text": str} for the current model when its cross-validation R² is below POOR_R2 or
    unknown; None when it is good (or there is no current model)."""
    if version is None:
        return None
    metrics = version.metrics or {}
    r2, n = metrics.get("r2"), metrics.get("n")
    if "cross_validation" not in metrics:
        return {"poor": False, "text": "Not cross-validated: no cross-validation of this configuration on the "
                f"same data, so its R² is unknown (this page warns below R² {POOR_R2})."}
    if r2 is None:
        return {"poor": True, "text": f"Warning: cross-validation {metrics['cross_validation']} gave no R² "
                f"(n = {n}), so this model's agreement with the reference is unknown."}
    if r2 >= POOR_R2:
        return None
    return {"poor": True, "text": f"Warning: poor agreement. Cross-validation R² is {r2:.3f}, below {POOR_R2}, "
            f"computed on n = {n} out-of-fold predictions ({metrics['cross_validation']}). Values this model "
            "infers may differ much from the reference: check the loss curves, add reference values or try "
            "another configuration before relying on them."}


def current_model_warning(versions) -> dict | None:
    return model_warning(next((v for v in versions if v.is_current), None))


# Loss curves -----------------------------------------------------------------------------------------------

@dataclass
class LossCurves:
    curves: list[LossCurve] = field(default_factory=list)
    cross_validation: Job | None = None
    training: Job | None = None
    notes: list[str] = field(default_factory=list)  # why a part is missing (the empty states)


def _newest(jobs: list[Job], kind: str) -> tuple[Job | None, Job | None]:
    """(newest succeeded job of ``kind``, newest job of ``kind`` if it has not succeeded yet)."""
    of_kind = [job for job in jobs if job.kind == kind]
    done = next((job for job in of_kind if job.status == Job.Status.SUCCEEDED), None)
    pending = of_kind[0] if of_kind and of_kind[0] is not done else None
    return done, pending


def _recorded_loss(job: Job) -> list:
    return Job.objects.values_list("metrics", flat=True).get(pk=job.pk).get("loss") or []


def _held_out(job: Job) -> dict[int, int]:
    return dict(FoldAssignment.objects.filter(job=job).values_list("fold").annotate(n=Count("pk")))


def _fold_curves(found: LossCurves, jobs: list[Job]) -> None:
    job, pending = _newest(jobs, Job.Kind.CROSS_VALIDATE)
    if pending is not None:
        found.notes.append(f"Cross-validation job {pending.pk} is {pending.status}: its folds' losses are stored "
                           "when it finishes.")
    if job is None:
        if pending is None:
            found.notes.append("No cross-validation yet: each fold's training loss is drawn here when one "
                               "finishes.")
        return
    folds = _recorded_loss(job)
    if not folds:
        found.notes.append(f"Cross-validation job {job.pk} recorded no losses.")
        return
    held_out = _held_out(job)
    found.cross_validation = job
    found.curves += [LossCurve(f"fold {k + 1} ({held_out.get(k, 0)} held out)", list(losses))
                     for k, losses in enumerate(folds)]


def _training_curve(found: LossCurves, jobs: list[Job]) -> None:
    job, _ = _newest(jobs, Job.Kind.TRAIN)
    losses = _recorded_loss(job) if job is not None else []
    if losses:
        found.training = job
        found.curves.append(LossCurve(f"training on all of A (job {job.pk})", list(losses)))


def loss_curves(jobs: list[Job]) -> LossCurves:
    """The per-fold losses of the newest finished cross-validation among ``jobs`` and the loss of the newest
    finished training run, with notes saying what is missing."""
    found = LossCurves()
    _fold_curves(found, jobs)
    _training_curve(found, jobs)
    return found
