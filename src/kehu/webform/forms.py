from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehu.customers.phones import InvalidPhone, phone_parse
from kehu.customers.services import emails_clean, name_check
from kehu.service.models import SUBJECT_MAX, TEXT_MAX, Case, ComplaintCategory

# Room left in the case's description for the contact details the visitor gave.
DESCRIPTION_MAX = TEXT_MAX - 1000


class WebCaseForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("Give a phone number, an email address or both, so that we can answer."),
    )
    kind = forms.ChoiceField(
        label=_("What is it about?"), choices=Case.Kind.choices, initial=Case.Kind.COMPLAINT
    )
    category = forms.ModelChoiceField(
        label=_("Complaint category"),
        queryset=ComplaintCategory.objects.filter(is_active=True),
        required=False,
        empty_label=_("Not sure"),
        help_text=_("For complaints only."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    description = forms.CharField(
        label=_("Tell us what happened"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # Hidden from people by the page's style; bots fill in every field they find.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def full_clean(self):
        super().full_clean()
        # Screen readers read a field's error with the field.
        for name in self.errors:
            if name in self.fields:
                field = self.fields[name]
                ids = [f"id_{name}_error"] + ([f"id_{name}_helptext"] if field.help_text else [])
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        try:
            name_check(name)
        except ValidationError as error:
            raise ValidationError(error.message_dict["name"]) from None
        return name

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone:
            try:
                phone_parse(phone)
            except InvalidPhone as error:
                raise ValidationError(str(error)) from None
        return phone

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email:
            try:
                emails_clean([email])
            except ValidationError as error:
                raise ValidationError(error.message_dict["emails"]) from None
        return email.lower()

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("phone")
            and not cleaned.get("email")
            and "phone" not in self.errors
            and "email" not in self.errors
        ):
            self.add_error("phone", _("Give a phone number or an email address."))
        return cleaned

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
