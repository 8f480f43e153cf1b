"""Query filters of the list endpoints (django-filter), named as elsewhere in the study (``eid``, ...)."""

from __future__ import annotations

from datetime import UTC

from django import forms
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget

from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, Method, ModelVersion, Quantity
from ukbstudy.measurements.selectors.measurements import method_choices
from ukbstudy.qc.models import QCDecision, Reason, Verdict
from ukbstudy.subjects.models import Subject, Visit

QC_STATUS_CHOICES = [*Verdict.choices, ("unreviewed", "Not reviewed yet")]


class IntegerFilter(filters.NumberFilter):
    """A whole-number filter (NumberFilter takes decimals, which an eid or hint rank never is)."""

    field_class = forms.IntegerField


class RefuseEmpty:
    """A choice parameter given without a value (``?quantity=``) is an error, not "no filter": a client that
    sent it meant some value, and silently getting every row back hides its bug."""

    def clean(self, value):
        if value == "":  # absent parameters arrive as None
            raise forms.ValidationError("No value given: give one of the choices, or leave the parameter out.",
                                        code="empty")
        return super().clean(value)


class StrictChoiceField(RefuseEmpty, filter_fields.ChoiceField):
    pass


class StrictModelChoiceField(RefuseEmpty, filter_fields.ModelChoiceField):
    pass


class ChoiceFilter(filters.ChoiceFilter):
    field_class = StrictChoiceField


class ModelChoiceFilter(filters.ModelChoiceFilter):
    field_class = StrictModelChoiceField


class StudyFilterSet(filters.FilterSet):
    """Filters generated from model fields with choices (``sex``, ``processing_state``) refuse an empty value too."""

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        return {filters.ChoiceFilter: ChoiceFilter}.get(filter_class, filter_class), params


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, converted to UTC. Python accepts UTC offsets up to 23:59 but PostgreSQL
    only up to 15:59, so a time is never sent to the database with the offset it came with."""

    def to_python(self, value):
        moment = super().to_python(value)
        try:
            return moment.astimezone(UTC) if moment is not None else None
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 would fall before year 1 in UTC
            raise forms.ValidationError("The date and time is out of range.", code="invalid") from None


class UTCDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((UTCDateTimeField(), UTCDateTimeField()), *args, **kwargs)


class UTCDateTimeFromToRangeFilter(filters.IsoDateTimeFromToRangeFilter):
    """``<name>_after`` / ``<name>_before``: ISO 8601 dates and times, compared in UTC."""

    field_class = UTCDateTimeRangeField


class SubjectFilter(StudyFilterSet):
    eid = IntegerFilter(min_value=1)
    centre = ChoiceFilter(field_name="visits__centre", choices=Visit._meta.get_field("centre").choices,
                          distinct=True, help_text="Participants with a visit at this centre.")

    class Meta:
        model = Subject
        fields = ["eid", "sex", "centre"]


class VisitFilter(StudyFilterSet):
    eid = IntegerFilter(field_name="subject__eid", min_value=1)
    instance = ChoiceFilter(choices=Visit.Instance.choices)

    class Meta:
        model = Visit
        fields = ["eid", "instance", "centre"]


class ScanFilter(StudyFilterSet):
    eid = IntegerFilter(field_name="subject__eid", min_value=1)
    instance = ChoiceFilter(choices=Scan.Instance.choices)
    hint_rank = IntegerFilter(min_value=0, max_value=3, help_text="Most severe hint: 0 high, 1 medium, 2 low, 3 none.")
    qc_status = ChoiceFilter(choices=QC_STATUS_CHOICES, method="filter_qc_status",
                                     help_text="Newest verdict, or 'unreviewed'.")

    class Meta:
        model = Scan
        fields = ["eid", "instance", "processing_state", "hint_rank", "qc_status"]

    def filter_qc_status(self, queryset, name, value):
        # The queryset carries the ``qc_status`` annotation (scans_with_qc_status).
        if value == "unreviewed":
            return queryset.filter(qc_status__isnull=True)
        return queryset.filter(qc_status=value)


class QCDecisionFilter(StudyFilterSet):
    eid = IntegerFilter(field_name="scan__subject__eid", min_value=1)
    rater = filters.CharFilter(field_name="rater__username", help_text="Username of the rater.")
    verdict = ChoiceFilter(choices=Verdict.choices)
    reason = ChoiceFilter(choices=[c for c in Reason.choices if c[0]])
    decided = UTCDateTimeFromToRangeFilter(
        field_name="decided_at", help_text="decided_after / decided_before: ISO 8601 date and time (UTC).")

    class Meta:
        model = QCDecision
        fields = ["eid", "rater", "verdict", "reason", "decided"]


class MeasurementFilter(StudyFilterSet):
    eid = IntegerFilter(field_name="subject__eid", min_value=1)
    quantity = ChoiceFilter(choices=Quantity.choices)
    method = ChoiceFilter(choices=method_choices,
                          help_text=f"One of the app's methods ({', '.join(Method.values)}) or a label of imported "
                                    "values, e.g. imported.")
    model_version = ModelChoiceFilter(queryset=ModelVersion.objects.all())
    created = UTCDateTimeFromToRangeFilter(
        field_name="created_at", help_text="created_after / created_before: ISO 8601 date and time (UTC).")

    class Meta:
        model = Measurement
        fields = ["eid", "quantity", "method", "model_version", "created"]
