"""Reads of measurement rows: the list the API pages through, and each subject's values in preference order."""

from __future__ import annotations

from django.db.models import Case, CharField, QuerySet, Value, When
from django.db.models.functions import Concat

from ..models import Measurement, Method, method_label

# "name@version" of a measurement's model version (None without one): the API's and the CSV's
# ``model_version_name``, made by the database so both read it the same way.
MODEL_VERSION_NAME = Case(
    When(model_version__isnull=False, then=Concat("model_version__name", Value("@"), "model_version__version")),
    default=Value(None), output_field=CharField())


def measurements_with_version_name(measurements: QuerySet) -> QuerySet:
    """The measurements annotated with ``model_version_name`` ("name@version", None without a version)."""
    return measurements.annotate(model_version_name=MODEL_VERSION_NAME)


def measurement_list() -> QuerySet:
    """Every measurement of a participant who has not withdrawn, with its subject and model version name."""
    return measurements_with_version_name(Measurement.objects.select_related("subject", "scan"))


def in_preference_order(measurements: QuerySet, subject_key: str = "subject_id") -> QuerySet:
    """Per subject, the measurements ordered so that the preferred value comes last: later visits first,
    then values without a model version, other versions, the current version (ranked explicitly: databases
    sort NULL differently), then oldest to newest. Readers keep the last value they see per subject."""
    version_rank = Case(When(model_version__is_current=True, then=Value(2)),
                        When(model_version__isnull=False, then=Value(1)), default=Value(0))
    return measurements.annotate(version_rank=version_rank).order_by(
        subject_key, "-scan__instance", "version_rank", "created_at", "pk")


def method_choices() -> list[tuple[str, str]]:
    """(token, label) of the app's methods, then of every other label stored (values a lab imported with
    ``import_measurements``, e.g. ``imported``), in that order."""
    stored = (Measurement.objects.exclude(method__in=Method.values).order_by("method")
              .values_list("method", flat=True).distinct())
    return [*Method.choices, *((token, method_label(token)) for token in stored)]
