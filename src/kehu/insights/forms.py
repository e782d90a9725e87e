"""The analytics page's period."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Ten years of transactions is the most one page computes from.
MAX_DAYS = 3660


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, **kwargs):
        today = timezone.localdate()
        defaults = {"start": today - timedelta(days=730), "end": today}
        super().__init__({**defaults, **{k: v for k, v in (data or {}).items() if v}}, **kwargs)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                raise forms.ValidationError(_("The end date is before the start date."))
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError(_("Choose at most ten years."))
            if end > timezone.localdate():
                raise forms.ValidationError(_("The end date may not be in the future."))
        return cleaned
