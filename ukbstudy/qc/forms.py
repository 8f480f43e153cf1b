from django import forms

from .models import Reason, Verdict


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices)
    reason = forms.ChoiceField(choices=Reason.choices, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


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
