"""Reads for statistics: one row per subject with the columns a report asks for.

Column names a user can ask for:

- subject attributes: ``sex``, ``age``, ``height``, ``bmi``, ``centre``;
- ``reference`` (liver PDFF, field 22402-2.0) or ``reference:FIELD-I.A`` (e.g. ``reference:22436-2.0``);
- a measurement method (``network``, ``atlas``, ``manual``, ``segmentation``) for the report's quantity,
  or ``method:quantity`` (e.g. ``segmentation:bmff_spine``); the current model version's value is used,
  else the newest, from the first imaging visit when there are two;
- a covariate by catalogue key (``bmd_spine``, ``vat_mass``, ...) or field id (``23226-2.0``).

Withdrawn subjects are never in the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ml.ukb.fields import FIELD_BY_KEY, parse_column
from ukbstudy.showcase.models import CovariateValue, ReferenceValue
from ukbstudy.subjects.models import Subject

from ..models import Measurement, Method, Quantity
from . import DEFAULT_REFERENCE_FIELD
from .measurements import in_preference_order

SUBJECT_COLUMNS = {"sex": "sex", "age": "age", "height": "height_cm", "bmi": "bmi", "centre": "centre"}


class UnknownColumn(ValueError):
    pass


def subject_frame(*, columns: Sequence[str], quantity: str = Quantity.LIVER_FF) -> pd.DataFrame:
    """Columns ``eid`` and each of ``columns`` (NaN where a subject has no value), one row per subject."""
    subjects = list(Subject.objects.values_list("pk", "eid", *SUBJECT_COLUMNS.values()))
    frame = pd.DataFrame(subjects, columns=["pk", "eid", *SUBJECT_COLUMNS]).set_index("pk")
    frame["sex"] = frame["sex"].replace("", None)
    for column in dict.fromkeys(columns):
        if column not in frame.columns:
            frame[column] = frame.index.map(_values(column, quantity)).astype(float)
    return frame.reset_index(drop=True)[["eid", *dict.fromkeys(columns)]]


def _values(column: str, quantity: str) -> dict[int, float]:
    name, _, qualifier = column.partition(":")
    if name == "reference":
        return _showcase(ReferenceValue, qualifier or DEFAULT_REFERENCE_FIELD)
    if name in Method.values:
        return _measurements(name, qualifier or quantity)
    if column in FIELD_BY_KEY and FIELD_BY_KEY[column].kind == "covariate":
        return _showcase(CovariateValue, f"{FIELD_BY_KEY[column].field}-2.0")
    if parse_column(column):
        return _showcase(CovariateValue, column) or _showcase(ReferenceValue, column)
    raise UnknownColumn(f"unknown column {column!r}: use a subject attribute ({', '.join(SUBJECT_COLUMNS)}), "
                        f"reference[:FIELD-I.A], a method ({', '.join(Method.values)})[:quantity], a covariate key "
                        "or a field id")


def _showcase(model, field: str) -> dict[int, float]:
    return dict(model.objects.filter(field=field).values_list("subject_id", "value"))


def _measurements(method: str, quantity: str) -> dict[int, float]:
    rows = in_preference_order(Measurement.objects.filter(method=method, quantity=quantity))
    return dict(rows.values_list("subject_id", "value"))  # later rows win: see in_preference_order
