"""The export page's form. It only draws the choices: the CSV view checks what it is sent (``filters_from``)."""

from django import forms

from .models import Export, Quantity
from .selectors.exports import INCLUDE, SHOWCASE_GROUPS
from .selectors.measurements import method_choices

LAYOUT_CHOICES = Export.Format.choices
INCLUDE_LABELS = {
    "qc_status": "QC status (the newest verdict)",
    "reference": "Reference values ({})",
    "covariates": "DXA covariates ({})",
}
INCLUDE_CHOICES = [(name, INCLUDE_LABELS[name].format(", ".join(spec.key for spec in SHOWCASE_GROUPS.get(name, ()))))
                   for name in INCLUDE]


class ExportForm(forms.Form):
    layout = forms.ChoiceField(choices=LAYOUT_CHOICES, initial=Export.Format.LONG, widget=forms.RadioSelect)
    include = forms.MultipleChoiceField(
        choices=INCLUDE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Beside the measurements (tidy layout)")
    quantity = forms.MultipleChoiceField(choices=Quantity.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple, help_text="None ticked: all.")
    method = forms.MultipleChoiceField(choices=method_choices, required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="None ticked: all.")
