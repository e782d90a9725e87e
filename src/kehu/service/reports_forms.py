"""Forms of the service reports and of the service settings."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.service.models import ServiceSettings
from kehu.service.reports import month_start

# The longest range one report covers: a day per row over years would be thousands of rows.
MAX_DAYS = {"day": 366, "week": 3 * 366, "month": 10 * 366}


class ReportForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
    )

    def __init__(self, data=None, **kwargs):
        today = timezone.localdate()
        defaults = {"start": month_start(today), "end": today, "period": "month"}
        defaults.update(self.extra_defaults())
        super().__init__({**defaults, **{k: v for k, v in (data or {}).items() if v}}, **kwargs)

    def extra_defaults(self) -> dict:
        return {}

    def clean(self):
        cleaned = super().clean()
        start, end, period = cleaned.get("start"), cleaned.get("end"), cleaned.get("period")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                raise forms.ValidationError(_("The end date is before the start date."))
            if period and (end - start).days > MAX_DAYS[period]:
                raise forms.ValidationError(
                    _("That range is too long for this period; choose a longer period.")
                )
        return cleaned


class SlaReportForm(ReportForm):
    by = forms.ChoiceField(
        label=_("Group by"),
        choices=[
            ("team", _("Team")),
            ("owner", _("Agent")),
            ("category", _("Complaint category")),
            ("kind", _("Case kind")),
        ],
    )

    def extra_defaults(self) -> dict:
        return {"by": "team"}


class ServiceSettingsForm(forms.ModelForm):
    class Meta:
        model = ServiceSettings
        fields = ["complaint_rate_percent", "habitual_threshold", "habitual_window_months"]
        help_texts = {
            "complaint_rate_percent": _(
                "The share of dissatisfied customers who complain, more than 0 and at most "
                "100. The iceberg estimates the silent ones from it; the research behind the "
                "default of 5 says fewer than one in twenty complain."
            ),
            "habitual_threshold": _(
                "A customer with more complaints than this within the window is flagged as a "
                "frequent complainant (at least 1)."
            ),
            "habitual_window_months": _("How many months back complaints are counted."),
        }
