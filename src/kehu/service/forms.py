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
    SUBJECT_MAX,
    TEXT_MAX,
    BusinessCalendar,
    CalendarDay,
    Case,
    CaseNote,
    ComplaintCategory,
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


# --- Service cases ----------------------------------------------------------------------


def case_workers():
    """Users who may own a case: those whose role may work on cases."""
    from kehu.users.models import User
    from kehu.users.roles import CAPABILITY_ROLES, Capability

    return User.objects.filter(
        is_active=True, role__in=CAPABILITY_ROLES[Capability.CASE_EDIT]
    ).order_by("username")


class CaseForm(forms.Form):
    """A new case for one customer (chosen before the form: from the card or by number)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Case.Kind.choices)
    category = forms.ModelChoiceField(
        label=_("Complaint category"),
        queryset=ComplaintCategory.objects.filter(is_active=True),
        required=False,
        help_text=_("For complaints only."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Case.Channel.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Case.Priority.choices, initial=Case.Priority.NORMAL
    )
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    description = forms.CharField(
        label=_("Description"), max_length=TEXT_MAX, required=False, widget=forms.Textarea
    )
    team = forms.CharField(label=_("Team"), max_length=100, required=False)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.order_by("name")
        if not customer.is_organisation:
            del self.fields["contact"]


class CaseNoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=CaseNote.Kind.choices, initial=CaseNote.Kind.INTERNAL
    )
    body = forms.CharField(label=_("Text"), max_length=TEXT_MAX, widget=forms.Textarea)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CaseAssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    team = forms.CharField(label=_("Team"), max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = case_workers()


class SlaPolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind of case"),
        choices=[("", _("Any kind"))] + Case.Kind.choices,
        required=False,
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=[("", _("Any priority"))] + Case.Priority.choices,
        required=False,
    )
    key_accounts = forms.BooleanField(
        label=_("For key accounts"),
        required=False,
        help_text=_("Applies only to customers tagged VIP or 大客户, and wins for them."),
    )
    first_response_minutes = forms.IntegerField(
        label=_("First response within (business minutes)"), min_value=1
    )
    resolution_minutes = forms.IntegerField(
        label=_("Resolution within (business minutes)"), min_value=1
    )
    calendar = forms.ModelChoiceField(
        label=_("Calendar"),
        queryset=BusinessCalendar.objects.all(),
        required=False,
        empty_label=_("The default calendar"),
    )


class ComplaintCategoryForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Letters, digits and hyphens; used by the API.")
    )
    name = forms.CharField(label=_("Name"), max_length=100)
