"""Result types serialise without recomputation: JSON-safe dictionaries and flat CSV rows."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from analysis import (
    agreement,
    compare_groups,
    describe,
    error_correlation,
    linear_recalibration,
    mixed_model,
    model_sequence,
    top_disagreements,
    two_way_anova,
    univariable_family,
)


def regions_long(bone: pd.DataFrame) -> pd.DataFrame:
    """Two BMFF sites per subject, one row per (subject, site), as the mixed model takes them."""
    wide = bone[["sex", "bmff_spine", "bmff_head"]].rename_axis("eid").reset_index()
    return wide.melt(id_vars=["eid", "sex"], var_name="region", value_name="bmff")


def every_result(liver: pd.DataFrame, bone: pd.DataFrame) -> list:
    return [
        agreement([1.0, 2.0, 3.0, 4.0], [1.1, 2.2, 2.9, 4.4]),  # one class only: NaN AUC
        error_correlation(liver["reference"], liver["network"], liver["atlas_raw"]),
        linear_recalibration(liver["reference"], liver["atlas_raw"]),
        describe([1.0, 2.0, 3.0]),
        compare_groups({"F": bone.loc[bone.sex == "F", "bmd_spine"], "M": bone.loc[bone.sex == "M", "bmd_spine"]}),
        univariable_family(bone, [("bmff_head", "bmff_spine")]),
        model_sequence(bone, "bmd_spine", [["bmff_spine", "sex"], ["bmff_spine", "sex", "bmi"]]),
        top_disagreements(liver["reference"], liver["network"], ids=liver["eid"], n=3),
        two_way_anova(regions_long(bone), "bmff", "region", "sex"),
        mixed_model(regions_long(bone), "bmff", "region", "sex", "eid"),
    ]


def test_every_result_serialises_to_strict_json(liver: pd.DataFrame, bone: pd.DataFrame) -> None:
    for result in every_result(liver, bone):
        json.dumps(result.as_dict(), allow_nan=False)
        json.dumps(result.to_rows(), allow_nan=False)
        if hasattr(result, "comparison_rows"):
            json.dumps(result.comparison_rows(), allow_nan=False)


def test_nan_becomes_none_and_notes_explain_it() -> None:
    data = agreement([1.0, 2.0, 3.0, 4.0], [1.1, 2.2, 2.9, 4.4]).as_dict()
    assert data["roc_auc"] is None and data["sensitivity"] is None
    assert data["notes"][0].startswith("all 4 subjects are negative")


def test_results_are_frozen(liver: pd.DataFrame) -> None:
    result = agreement(liver["reference"], liver["network"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.mae = 0.0  # type: ignore[misc]


def test_model_sequence_rows_are_one_per_model_and_coefficient(bone: pd.DataFrame) -> None:
    sequence = model_sequence(bone, "bmd_spine", [["bmff_spine", "sex"], ["bmff_spine", "sex", "bmi"]])
    rows = sequence.to_rows()
    assert [(row["model"], row["term"]) for row in rows] == [
        ("Model 1", "Intercept"), ("Model 1", "bmff_spine"), ("Model 1", "sex[M]"),
        ("Model 2", "Intercept"), ("Model 2", "bmff_spine"), ("Model 2", "sex[M]"), ("Model 2", "bmi")]
    first = sequence.fits[0].coefficients[1]
    assert rows[1]["beta"] == first.beta and rows[1]["stars"] == first.stars
    assert rows[4]["aic"] == sequence.fits[1].aic


def test_group_rows_carry_each_summary_and_the_test(bone: pd.DataFrame) -> None:
    groups = {"F": bone.loc[bone.sex == "F", "bmd_spine"], "M": bone.loc[bone.sex == "M", "bmd_spine"]}
    result = compare_groups(groups)
    rows = result.to_rows()
    assert [row["group"] for row in rows] == ["F", "M"]
    assert rows[0]["summary"] == result.groups[0].summary() and rows[1]["p"] == result.p


def test_calibration_survives_a_round_trip_through_its_dictionary(liver: pd.DataFrame) -> None:
    calibration = linear_recalibration(liver["reference"], liver["atlas_raw"])
    restored = type(calibration)(**calibration.as_dict())
    assert restored.apply([4.0]) == pytest.approx(calibration.apply(np.array([4.0])))
