from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import ContactOutcome, ContactReason, NoteKind
from kehu.customers.models import Contact, Customer
from kehu.users.models import User
from kehu.users.roles import Role


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class CustomerForm(forms.ModelForm):
    phones = forms.CharField(
        label=_("Phone numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, written any way: 138 0013 8000, +86 10 6552 9988 ext. 12"),
    )
    emails = forms.CharField(
        label=_("Emails"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
    )
    addresses = forms.CharField(
        label=_("Addresses"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separated by commas."), max_length=500
    )

    class Meta:
        model = Customer
        fields = [
            "kind", "name", "salutation", "status", "lost_reason", "owner", "birthday",
            "industry", "usual", "preferences", "needs", "external_id",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "preferences": forms.Textarea(attrs={"rows": 2}),
            "needs": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.KEY_ACCOUNT_MANAGER, Role.AGENT, Role.SUPERVISOR]
        ).order_by("username")
        if self.instance.pk:
            self.initial.setdefault("phones", "\n".join(
                p.display for p in self.instance.phones.all() if p.contact_id is None
            ))
            self.initial.setdefault("emails", "\n".join(
                e.address for e in self.instance.emails.all() if e.contact_id is None
            ))
            self.initial.setdefault(
                "addresses", "\n".join(a.text for a in self.instance.addresses.all())
            )
            self.initial.setdefault("tags", ", ".join(t.name for t in self.instance.tags.all()))

    def _post_clean(self):
        # Model validation happens in the service, which reports per field.
        pass

    def service_kwargs(self) -> dict:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        data["phones"] = _lines(self.cleaned_data["phones"])
        data["emails"] = _lines(self.cleaned_data["emails"])
        data["addresses"] = _lines(self.cleaned_data["addresses"])
        data["tags"] = [t for t in self.cleaned_data["tags"].replace("，", ",").split(",")]
        data["external_id"] = data["external_id"] or None
        return data


class ContactForm(forms.ModelForm):
    phones = forms.CharField(
        label=_("Phone numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
    )
    emails = forms.CharField(
        label=_("Emails"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
    )

    class Meta:
        model = Contact
        fields = ["name", "salutation", "title", "decision_role", "style", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("phones", "\n".join(p.display for p in self.instance.phones.all()))
            self.initial.setdefault("emails", "\n".join(e.address for e in self.instance.emails.all()))

    def _post_clean(self):
        pass

    def service_kwargs(self) -> dict:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        data["phones"] = _lines(self.cleaned_data["phones"])
        data["emails"] = _lines(self.cleaned_data["emails"])
        return data


class NoteForm(forms.Form):
    """A note, or a contact logged in a few seconds: kind, outcome, reason, a few words."""

    kind = forms.ChoiceField(label=_("Kind"), choices=NoteKind.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("Outcome…")), *ContactOutcome.choices]
    )
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Reason…")), *ContactReason.choices]
    )
    body = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(forms.Form):
    duplicate = forms.CharField(
        label=_("Customer number of the duplicate"), max_length=20,
        help_text=_("Its phones, emails, contacts, notes and history move to this customer."),
    )


def apply_service_errors(form: forms.Form, error) -> None:
    """Shows a service's ValidationError on the form fields it names."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
