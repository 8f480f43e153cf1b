"""Reads of the atlas app: the overview page and the three-way comparison from stored measurements."""

from __future__ import annotations

import pandas as pd

from ukbstudy.jobs.models import Job
from ukbstudy.measurements.models import Method, ModelVersion
from ukbstudy.measurements.selectors import DEFAULT_REFERENCE_FIELD
from ukbstudy.measurements.selectors.datasets import DEFAULT_C_SIZE, dataset_scans
from ukbstudy.measurements.selectors.frames import subject_frame

from .models import AtlasReadout, AtlasTemplate


def three_way_frames(*, field: str = DEFAULT_REFERENCE_FIELD, seed: int = 0, c_size: int = DEFAULT_C_SIZE
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-subject frames (eid, reference, network, atlas) of datasets A and C; atlas values are the
    corrected ones of the current atlas model version."""
    frame = subject_frame(columns=[f"reference:{field}", Method.NETWORK, Method.ATLAS]).rename(
        columns={f"reference:{field}": "reference"})
    a_eids = set(dataset_scans("A", field=field).values_list("subject__eid", flat=True))
    c_eids = set(dataset_scans("C", field=field, seed=seed, c_size=c_size).values_list("subject__eid", flat=True))
    return (frame[frame["eid"].isin(a_eids)].reset_index(drop=True),
            frame[frame["eid"].isin(c_eids)].reset_index(drop=True))


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
