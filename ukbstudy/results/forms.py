"""Inputs of the results pages; choices come from the selectors so every page names columns the same way.

Every page form is a :class:`QueryForm`: bound from the query string with each parameter the query leaves out
set to its initial value, so the form always shows exactly what the page computed with, and a bad value is
an error shown on the page (HTTP 400, nothing computed), never silently replaced by a default.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict

from analysis.comparison import NAFLD_THRESHOLD
from ukbstudy.measurements.models import Method, Quantity
from ukbstudy.measurements.selectors.datasets import DATASETS

from .models import OutlierVerdict
from .pages import GROUPINGS, REVIEW_CHOICES
from .selectors import REFERENCE_FIELDS, Comparison, comparison_columns, regression_columns, visit_columns


class QueryForm(forms.Form):
    """A page's parameters from ``query``, left-out ones at their initial value; ``None`` leaves it unbound.

    Subclasses whose choices or initial values come from the database set them in ``set_choices``, which
    runs before the defaults are filled in. A parameter given empty (``?threshold=``) is "This field is
    required.": the user cleared it, and computing with a default would show one value and use another."""

    def __init__(self, query: QueryDict | None = None):
        super().__init__(None if query is None else query.copy())
        self.set_choices()
        if self.is_bound:
            for name, field in self.fields.items():
                if name not in self.data and field.initial not in (None, "", [], ()):
                    initial = field.initial
                    self.data.setlist(name, [str(v) for v in initial] if isinstance(initial, list | tuple)
                                      else [str(initial)])

    def set_choices(self) -> None:
        """Fill choices and initial values read from the database (nothing by default)."""

    def error_lines(self) -> list[str]:
        """Each error as a sentence naming its parameter and, for a typed-in value, the value given."""
        lines = []
        for name, errors in self.errors.items():
            if name == NON_FIELD_ERRORS:
                lines += errors
                continue
            given = [value for value in self.data.getlist(name) if value]
            shown = f" (given “{', '.join(given)}”)" if given and not isinstance(self.fields[name],
                                                                              forms.ChoiceField) else ""
            lines += [f"{self[name].label}{shown}: {error}" for error in errors]
        return lines


class DashboardForm(QueryForm):
    column = forms.ChoiceField(label="Distribution of", initial="reference")
    quantity = forms.ChoiceField(choices=Quantity.choices, initial=Quantity.LIVER_FF)
    grouping = forms.ChoiceField(label="Group by", choices=list(GROUPINGS.items()), initial="age_band")

    def set_choices(self) -> None:
        self.fields["column"].choices = comparison_columns() + [
            (c, label) for c, label in regression_columns() if c in ("age", "height", "bmi")]


class ComparisonForm(QueryForm):
    a = forms.ChoiceField(label="First method (truth)", initial="reference")
    # Dataset A's network values are cross-validation's out-of-fold predictions (the trained model has seen A).
    b = forms.ChoiceField(label="Second method", initial=f"{Method.NETWORK}_oof")
    quantity = forms.ChoiceField(choices=Quantity.choices, initial=Quantity.LIVER_FF)
    dataset = forms.ChoiceField(choices=[(d, d) for d in DATASETS], initial="A")

    def set_choices(self) -> None:
        self.fields["a"].choices = self.fields["b"].choices = comparison_columns() + visit_columns()

    def clean(self):
        data = super().clean()
        if data.get("a") and data.get("a") == data.get("b"):
            raise forms.ValidationError("choose two different methods")
        if "@" in data.get("b", "") or ("@" in data.get("a", "") and data.get("dataset") != "repeat"):
            raise forms.ValidationError("a column at the first imaging visit (…@2) is compared as the first method, "
                                        "on dataset repeat (the change between visits)")
        return data

    def comparison(self) -> Comparison:
        """The comparison of a valid form."""
        return Comparison(**{name: self.cleaned_data[name] for name in ("a", "b", "quantity", "dataset")})


class CompareForm(ComparisonForm):
    threshold = forms.FloatField(label="Threshold (%)", initial=NAFLD_THRESHOLD, min_value=0, max_value=100,
                                 help_text="ROC, sensitivity and specificity: above = positive")


class OutlierQueueForm(ComparisonForm):
    n = forms.IntegerField(label="Scans", initial=20, min_value=1, max_value=500)
    review = forms.ChoiceField(label="Show", choices=REVIEW_CHOICES, initial="all")


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=OutlierVerdict.Verdict.choices, widget=forms.RadioSelect)
    manual_value = forms.FloatField(label="Manual measurement (%)", required=False, min_value=0, max_value=100)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class RegressionForm(QueryForm):
    dependent = forms.ChoiceField(initial="segmentation:bmff_spine")
    explanatory = forms.ChoiceField(initial="bmd_spine")
    covariates = forms.MultipleChoiceField(required=False, help_text="Model 1 is explanatory + sex; each next "
                                           "model adds the next covariate, in the order listed.")
    rint = forms.BooleanField(required=False, label="Rank-based inverse normal transform of the dependent")

    def set_choices(self) -> None:
        choices = regression_columns()
        offered = {column for column, _ in choices}
        for name in ("dependent", "explanatory", "covariates"):
            field = self.fields[name]
            field.choices = choices
            if field.initial not in offered:  # no data for the default yet: nothing is preselected
                field.initial = None

    def clean(self):
        data = super().clean()
        if data.get("dependent") and data.get("dependent") == data.get("explanatory"):
            raise forms.ValidationError("the dependent and the explanatory variable must differ")
        used = {data.get("dependent"), data.get("explanatory")}
        data["covariates"] = [c for c in data.get("covariates", []) if c not in used]
        return data


class PaperForm(QueryForm):
    """The papers' tables: the reference field defining dataset A and the seed of dataset C's draw."""

    field = forms.ChoiceField(label="Reference field (dataset A)", initial=f"{REFERENCE_FIELDS[0].field}-2.0",
                              choices=[(f"{spec.field}-2.0", f"{spec.field}-2.0 ({spec.name})")
                                       for spec in REFERENCE_FIELDS])
    seed = forms.IntegerField(label="Seed of dataset C", initial=0, min_value=0, max_value=2**31 - 1)


class LongitudinalForm(QueryForm):
    """The quantity and method whose change between visits the page details (the first one measured at both
    visits by default)."""

    column = forms.ChoiceField(label="Change of", required=False)

    def set_choices(self) -> None:
        from .longitudinal import change_columns

        self.columns = {column.key: column for column in change_columns()}
        self.fields["column"].choices = [(key, column.label) for key, column in self.columns.items()]
        self.fields["column"].initial = next(iter(self.columns), None)

    def change_column(self):
        """The chosen ChangeColumn of a valid form (None when nothing is measured at a repeat visit)."""
        return self.columns.get(self.cleaned_data.get("column") or "")
