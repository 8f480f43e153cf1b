"""Reads of the atlas app: the overview page and the three-way comparison from stored measurements."""

from __future__ import annotations

import pandas as pd

from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Method, ModelVersion
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DEFAULT_C_SIZE, dataset_scans
from ukbstudy.measurements.selectors.frames import scan_frame

from .models import AtlasReadout, AtlasTemplate


def three_way_frames(*, field: str = DEFAULT_REFERENCE_FIELD, seed: int = 0, c_size: int = DEFAULT_C_SIZE
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-scan frames (scan, eid, instance, reference, network, atlas) of datasets A and C; atlas values are
    the corrected ones of the current atlas model version. On A, the network's values are its cross-validation
    out-of-fold predictions (a model is never judged on the scans it was trained on); on C, the trained
    model's."""
    reference = f"reference:{field}"
    frame = scan_frame(columns=[reference, Method.NETWORK, f"{Method.NETWORK}_oof", Method.ATLAS])
    a_scans = set(dataset_scans("A", field=field).values_list("pk", flat=True))
    c_scans = set(dataset_scans("C", field=field, seed=seed, c_size=c_size).values_list("pk", flat=True))
    frame_a = frame[frame["scan"].isin(a_scans)].drop(columns=[Method.NETWORK]).rename(
        columns={reference: "reference", f"{Method.NETWORK}_oof": Method.NETWORK})
    frame_c = frame[frame["scan"].isin(c_scans)].drop(columns=[f"{Method.NETWORK}_oof"]).rename(
        columns={reference: "reference"})
    return frame_a.reset_index(drop=True), frame_c.reset_index(drop=True)


def three_way_tables_from_db(*, field: str = DEFAULT_REFERENCE_FIELD, seed: int = 0,
                             c_size: int = DEFAULT_C_SIZE, n_outliers: int = 10) -> list:
    from analysis.threeway import three_way_tables  # statsmodels and friends load only when asked for

    frame_a, frame_c = three_way_frames(field=field, seed=seed, c_size=c_size)
    return three_way_tables(frame_a, frame_c, n_outliers=n_outliers)


def atlas_overview() -> dict:
    """Templates, the current atlas model version (with its correction) and recent atlas jobs."""
    current = ModelVersion.objects.filter(task=ModelVersion.Task.LIVER_FF_ATLAS, is_current=True).first()
    return {
        "templates": list(AtlasTemplate.objects.select_related("scan__subject", "created_by")),
        "current": current,
        "correction": (current.config.get("correction") if current else None),
        "readouts": AtlasReadout.objects.count(),
        "jobs": list(Job.objects.filter(kind=Job.Kind.ATLAS).select_related("created_by")[:10]),
    }
