from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.promises.models import TEXT_MAX, FollowUpKind, FollowUpPolicy
from kehu.promises.selectors import team_members


class DueInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _due(label=_("Due")) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, widget=DueInput())


class CommitmentForm(forms.Form):
    promise = forms.CharField(label=_("What was promised"), max_length=500)
    due_at = _due()
    owner = forms.ModelChoiceField(label=_("Promised by"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_members()


class KeepForm(forms.Form):
    evidence = forms.CharField(label=_("How it was kept"), max_length=TEXT_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)


class BreakForm(forms.Form):
    reason = forms.CharField(label=_("Why it was broken"), max_length=TEXT_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)


class RenegotiateForm(forms.Form):
    due_at = _due(_("New due time"))
    reason = forms.CharField(label=_("Agreed with the customer because"), max_length=TEXT_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUpKind.choices)
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    due_at = _due()
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)
    place = forms.CharField(label=_("Where (visits)"), max_length=200, required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_members()
        self.fields["contact"].queryset = customer.contacts.order_by("name")
        if not customer.is_organisation:
            del self.fields["contact"]


class CompleteForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=TEXT_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)


class RescheduleForm(forms.Form):
    due_at = _due(_("New due time"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class VisitRecordForm(forms.Form):
    situation = forms.CharField(
        label=_("Situation"), required=False, max_length=TEXT_MAX, widget=forms.Textarea
    )
    problems = forms.CharField(
        label=_("Problems, difficulties, dissatisfaction"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea,
    )
    implied_needs = forms.CharField(
        label=_("Implied needs"), required=False, max_length=TEXT_MAX, widget=forms.Textarea
    )
    explicit_needs = forms.CharField(
        label=_("Explicit needs"), required=False, max_length=TEXT_MAX, widget=forms.Textarea
    )
    decision_makers = forms.ModelMultipleChoiceField(
        label=_("Decision-makers met"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    next_step = forms.CharField(label=_("Next step"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision_makers"].queryset = customer.contacts.order_by("name")


class PolicyForm(forms.ModelForm):
    class Meta:
        model = FollowUpPolicy
        fields = ["name", "trigger", "days", "segment", "kind", "purpose", "owner", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_members()
