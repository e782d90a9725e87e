import functools
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from kehu.service.calendars import (
    DAYS_PER_WEEK,
    day_hours_from_json,
    day_hours_to_json,
    holiday_regions,
)
from kehu.service.models import (
    BusinessCalendar,
    CalendarDay,
    default_hours,
    validate_region,
    validate_time_zone,
)

# People type Chinese punctuation as readily as ASCII: read both.
_PUNCTUATION = str.maketrans(
    {
        "，": ",",
        "、": ",",
        "；": ",",
        ";": ",",
        "：": ":",
        "–": "-",
        "—": "-",
        "－": "-",
        "~": "-",
        "～": "-",
        "至": "-",
    }
)


def hours_text(day: list) -> str:
    """One day's stored hours as the form shows them: "09:00-12:00, 13:30-18:00"."""
    return ", ".join(f"{start}-{end}" for start, end in day)


def hours_from_text(text: str) -> list[list[str]]:
    """The stored form of what an admin typed for one day; empty means closed."""
    text = "".join(text.translate(_PUNCTUATION).split())
    pairs = [part.split("-") for part in text.split(",") if part]
    try:
        return day_hours_to_json(day_hours_from_json(pairs))
    except ValueError:
        raise ValidationError(
            _(
                "Write the hours like 09:00-12:00, 13:30-18:00: in order, not overlapping, "
                "ending by 24:00."
            )
        ) from None


@functools.cache
def _time_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    # Text with a <datalist> of suggestions, not a <select>: Django renders each of ~600
    # zones' and ~250 regions' options through a template, a third of a second a page.
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        validators=[validate_time_zone],
        widget=forms.TextInput(attrs={"list": "time-zones"}),
    )
    region = forms.CharField(
        label=_("Public holidays of"),
        max_length=2,
        required=False,
        widget=forms.TextInput(attrs={"list": "holiday-regions"}),
        help_text=_(
            "A country code such as CN: public holidays and adjusted working days (调休) "
            "come from its holiday data, and the days below override it. Empty for none."
        ),
    )
    is_default = forms.BooleanField(
        label=_("Default calendar"),
        required=False,
        help_text=_(
            "Used when nothing names another calendar. To change it, make another "
            "calendar the default."
        ),
    )

    def __init__(self, *args, calendar: BusinessCalendar | None = None, **kwargs):
        if calendar is None:
            initial = {"time_zone": settings.TIME_ZONE, "region": "CN"}
            hours = default_hours()
        else:
            initial = {
                "name": calendar.name,
                "time_zone": calendar.time_zone,
                "region": calendar.region,
                "is_default": calendar.is_default,
            }
            hours = calendar.hours
        super().__init__(*args, initial=initial, **kwargs)
        for weekday in range(DAYS_PER_WEEK):
            self.fields[f"hours_{weekday}"] = forms.CharField(
                label=WEEKDAYS[weekday],
                required=False,
                max_length=200,
                initial=hours_text(hours[weekday]),
                help_text=_("e.g. 09:00-12:00, 13:30-18:00; empty when closed")
                if weekday == 0
                else "",
            )
        self.order_fields(
            [
                "name",
                "time_zone",
                "region",
                *(f"hours_{weekday}" for weekday in range(DAYS_PER_WEEK)),
            ]
        )
        if calendar is not None and calendar.is_default:
            self.fields["is_default"].disabled = True

    @property
    def time_zones(self) -> tuple[str, ...]:
        return _time_zones()

    @property
    def regions(self) -> list[tuple[str, str]]:
        return sorted(holiday_regions().items())

    def clean_region(self) -> str:
        region = self.cleaned_data["region"].upper()
        if region:
            validate_region(region)
        return region

    def clean(self):
        cleaned = super().clean()
        hours = []
        for weekday in range(DAYS_PER_WEEK):
            try:
                hours.append(hours_from_text(cleaned.get(f"hours_{weekday}", "")))
            except ValidationError as error:
                self.add_error(f"hours_{weekday}", error)
        if not self.errors and not any(hours):
            raise ValidationError(_("Give working hours to at least one day of the week."))
        cleaned["hours"] = hours
        return cleaned

    def calendar_fields(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in ("name", "time_zone", "hours", "region", "is_default")
        }


class CalendarDayForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("The desk is"), choices=CalendarDay.Kind.choices)
    name = forms.CharField(
        label=_("Why"),
        max_length=100,
        required=False,
        help_text=_("e.g. National Day, or a company outing"),
    )


class PreviewForm(forms.Form):
    hours = forms.IntegerField(label=_("Business hours"), min_value=1, max_value=10_000, initial=8)
