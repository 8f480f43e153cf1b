from django import forms

from .models import CONFIDENCE_RANGE, Reason, Verdict

CONFIDENCES = [(n, str(n)) for n in range(CONFIDENCE_RANGE[0], CONFIDENCE_RANGE[1] + 1)]


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices)
    reason = forms.ChoiceField(choices=Reason.choices, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    confidence = forms.TypedChoiceField(choices=[("", "not given"), *CONFIDENCES], coerce=int, empty_value=None,
                                        required=False)
    # Measured by the page's script; larger values are capped by the service, negative ones refused.
    seconds_spent = forms.FloatField(min_value=0, required=False)


class QueueFilterForm(forms.Form):
    centre = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    hint = forms.ChoiceField(choices=[("", "all"), ("any", "with hints"), ("high", "severe hints"),
                                      ("none", "without hints")], required=False)
    status = forms.ChoiceField(choices=[("", "all"), ("unreviewed", "unreviewed"), *Verdict.choices], required=False)
    mine = forms.BooleanField(required=False, label="mine (review again)")

    def __init__(self, *args, **kwargs):
        from ml.ukb.fields import CENTRE_NAMES

        super().__init__(*args, **kwargs)
        self.fields["centre"].choices = [("", "all"), *sorted(CENTRE_NAMES.items())]
