"""Inputs of the results pages; choices come from the selectors so every page names columns the same way."""

from __future__ import annotations

from django import forms

from analysis.comparison import NAFLD_THRESHOLD
from ukbstudy.measurements.models import Method, Quantity
from ukbstudy.measurements.selectors.datasets import DATASETS

from .models import OutlierVerdict
from .pages import GROUPINGS
from .selectors import REFERENCE_FIELDS, Comparison, comparison_columns, regression_columns


def values_or_initial(form: forms.Form) -> dict:
    """The form's valid values, its initial values where the query gave none (or the form is invalid)."""
    values = {name: field.initial for name, field in form.fields.items()}
    if form.is_bound and form.is_valid():
        values.update({k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    return values


class OptionalFieldsForm(forms.Form):
    """Page filters: every field may be left out of the query, which then means its initial value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class DashboardForm(OptionalFieldsForm):
    column = forms.ChoiceField(label="Distribution of", initial="reference")
    quantity = forms.ChoiceField(choices=Quantity.choices, initial=Quantity.LIVER_FF)
    grouping = forms.ChoiceField(label="Group by", choices=list(GROUPINGS.items()), initial="age_band")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = comparison_columns() + [
            (c, label) for c, label in regression_columns() if c in ("age", "height", "bmi")]


class ComparisonForm(OptionalFieldsForm):
    a = forms.ChoiceField(label="First method (truth)", initial="reference")
    b = forms.ChoiceField(label="Second method", initial=Method.NETWORK)
    quantity = forms.ChoiceField(choices=Quantity.choices, initial=Quantity.LIVER_FF)
    dataset = forms.ChoiceField(choices=[(d, d) for d in DATASETS], initial="A")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["a"].choices = self.fields["b"].choices = comparison_columns()

    def clean(self):
        data = super().clean()
        a = data.get("a") or self.fields["a"].initial
        b = data.get("b") or self.fields["b"].initial
        if a == b:
            raise forms.ValidationError("choose two different methods")
        return data

    def comparison(self) -> Comparison:
        values = values_or_initial(self)
        return Comparison(**{name: values[name] for name in ("a", "b", "quantity", "dataset")})


class ThresholdForm(OptionalFieldsForm):
    threshold = forms.FloatField(initial=NAFLD_THRESHOLD, min_value=0, max_value=100,
                                 help_text="ROC, sensitivity and specificity: above = positive")


class OutlierQueueForm(ComparisonForm):
    n = forms.IntegerField(label="Subjects", initial=20, min_value=1, max_value=500)


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=OutlierVerdict.Verdict.choices, widget=forms.RadioSelect)
    manual_value = forms.FloatField(label="Manual measurement (%)", required=False, min_value=0, max_value=100)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class RegressionForm(forms.Form):
    dependent = forms.ChoiceField(initial="segmentation:bmff_spine")
    explanatory = forms.ChoiceField(initial="bmd_spine")
    covariates = forms.MultipleChoiceField(required=False, help_text="Model 1 is explanatory + sex; each next "
                                           "model adds the next covariate, in the order listed.")
    rint = forms.BooleanField(required=False, label="Rank-based inverse normal transform of the dependent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = regression_columns()
        for name in ("dependent", "explanatory", "covariates"):
            self.fields[name].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("dependent") and data.get("dependent") == data.get("explanatory"):
            raise forms.ValidationError("the dependent and the explanatory variable must differ")
        used = {data.get("dependent"), data.get("explanatory")}
        data["covariates"] = [c for c in data.get("covariates", []) if c not in used]
        return data


class PaperForm(OptionalFieldsForm):
    """The papers' tables: the reference field defining dataset A and the seed of dataset C's draw."""

    field = forms.ChoiceField(label="Reference field (dataset A)", initial=f"{REFERENCE_FIELDS[0].field}-2.0",
                              choices=[(f"{spec.field}-2.0", f"{spec.field}-2.0 ({spec.name})")
                                       for spec in REFERENCE_FIELDS])
    seed = forms.IntegerField(label="Seed of dataset C", initial=0, min_value=0, max_value=2**31 - 1)
