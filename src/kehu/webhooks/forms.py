from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.webhooks.models import SUBSCRIBABLE, URL_MAX, validate_webhook_url


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_MAX,
        validators=[validate_webhook_url],
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/kehu-events"}),
        help_text=_("kehu POSTs each event as JSON to this address."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(e.value, e.label) for e in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    is_active = forms.BooleanField(
        label=pgettext_lazy("switched on", "Active"), required=False, initial=True
    )
