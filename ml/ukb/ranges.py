"""Plausible ranges of showcase values: a value outside them is an error in the file, never a fact.

The showcase schema gives each field's value type and units but no limits. Limits come from the units
where they imply them (a percentage lies in 0-100, a fraction in 0-1), else from the table below, kept
wide: they catch impossible values (age 999, a PDFF of -40 %, a unit mix-up), not unusual participants.
Values are checked in the showcase's unit, before any conversion. The limits by unit apply to the
catalogue's fields (ours and a lab's extra ones), whose meaning we know; a basket's other numeric fields
get only the limits of ``BY_FIELD`` (a percentage such as FEV1 % predicted can exceed 100, an
augmentation index be negative). Fields with no limit are only checked for being finite numbers (and
whole numbers where the schema says integer).
"""

from __future__ import annotations

from .fields import FRACTION_UNITS, FieldSpec

Range = tuple[float, float]

BY_UNIT: dict[str, Range] = {
    "percent": (0.0, 100.0),
    **dict.fromkeys(FRACTION_UNITS, (0.0, 1.0)),  # "frction" (sic) is the schema's spelling for 23281
    "g/cm2": (0.05, 4.0),  # areal bone mineral density
    "Std.Devs": (-10.0, 10.0),  # T- and Z-scores
}
BY_FIELD: dict[int, Range] = {
    22402: (-5.0, 100.0),  # liver PDFF, %: a fit near 0 % may come out slightly negative
    22436: (-5.0, 100.0),
    21003: (18.0, 110.0),  # age at the visit, years (UK Biobank recruited aged 40-69)
    50: (100.0, 230.0),  # standing height, cm
    21001: (10.0, 80.0),  # BMI, kg/m2
    23288: (0.0, 20000.0),  # VAT mass, g
    23289: (0.0, 20000.0),  # VAT volume, cm3
}


def plausible_range(spec: FieldSpec) -> Range | None:
    """The limits of a field's values in its showcase unit, or None when none are known."""
    return BY_FIELD.get(spec.field) or (BY_UNIT.get(spec.showcase_unit) if spec.catalogued else None)


def range_problem(spec: FieldSpec, value: float, integer: bool = False) -> str | None:
    """Why ``value`` (in the showcase's unit) cannot be right for ``spec``, or None when it can."""
    if integer and not value.is_integer():
        return f"{value:g} is not a whole number (the showcase stores {spec.name} as an integer)"
    limits = plausible_range(spec)
    if limits and not limits[0] <= value <= limits[1]:
        unit = f" (showcase unit: {spec.showcase_unit})" if spec.showcase_unit else ""
        return f"{value:g} is outside the plausible range of {spec.name}: {limits[0]:g} to {limits[1]:g}{unit}"
    return None
