"""Held-out Dice of a trained region model: predicted masks, after the error checks, against manual ones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .checks import check_segmentation, dice
from .regions import region_of
from .training import Case, SegmentationModel, predict_masks


def dice_scores(model: SegmentationModel, cases: Sequence[Case]) -> dict[str, float]:
    """Dice per case key (1.0 when both masks are empty)."""
    connected = region_of(model.region).connected
    predicted = predict_masks(model, [(c.fat, c.water) for c in cases])
    return {case.key: round(dice(check_segmentation(mask, model.statistics, connected).mask, case.mask), 4)
            for case, mask in zip(cases, predicted, strict=True)}


def summarise(scores: dict[str, float]) -> dict[str, float | int | None]:
    values = np.array(list(scores.values()), float)
    if values.size == 0:
        return {"n": 0, "mean": None, "sd": None, "min": None}
    return {"n": int(values.size), "mean": round(float(values.mean()), 4),
            "sd": round(float(values.std(ddof=1)) if values.size > 1 else 0.0, 4), "min": round(float(values.min()), 4)}
