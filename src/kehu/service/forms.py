import functools
from decimal import Decimal
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from kehu.service import worksheet
from kehu.service.calendars import (
    DAYS_PER_WEEK,
    day_hours_from_json,
    day_hours_to_json,
    holiday_regions,
)
from kehu.service.models import (
    AMOUNT_DIGITS,
    REASON_MAX,
    SUBJECT_MAX,
    TEXT_MAX,
    BusinessCalendar,
    CalendarDay,
    Case,
    CaseNote,
    ComplaintCategory,
    ImprovementAction,
    Remedy,
    RootCause,
    SlaPolicy,
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
    customer_value = forms.ChoiceField(
        label=_("Customer value"),
        choices=[("", _("Any customer"))] + SlaPolicy._meta.get_field("customer_value").choices,
        required=False,
        help_text=_("From the latest value refresh; a matching policy wins for these customers."),
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


# --- Complaint recovery: goodwill, worksheet, root causes, improvement actions ----------


class RemedyForm(forms.Form):
    # The case page has other forms with a "kind".
    prefix = "remedy"
    kind = forms.ChoiceField(label=_("What"), choices=Remedy.Kind.choices)
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=AMOUNT_DIGITS,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("Within your authority it is granted at once; above it a supervisor decides."),
    )
    description = forms.CharField(label=_("What is given, and why"), max_length=500)


class RemedyDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)


class AuthorityLimitForm(forms.Form):
    max_amount = forms.DecimalField(
        label=_("Limit per case"),
        max_digits=AMOUNT_DIGITS,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Blank: no limit."),
    )


class RootCauseForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"), queryset=RootCause.objects.filter(is_active=True)
    )
    root_cause_note = forms.CharField(
        label=_("What exactly went wrong"), max_length=500, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class NamedItemForm(forms.Form):
    """A code and a name: complaint categories and root causes."""

    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Letters, digits and hyphens; used by the API.")
    )
    name = forms.CharField(label=_("Name"), max_length=100)


class WorksheetForm(forms.Form):
    """The four steps of service.worksheet as form fields, all optional: the analysis is
    filled in as the case is understood."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    superior = forms.ModelChoiceField(
        label=_("Hand to"), queryset=None, required=False, empty_label=_("Choose a supervisor")
    )

    def __init__(self, *args, **kwargs):
        from kehu.service.selectors import supervisors

        super().__init__(*args, **kwargs)
        self.fields["superior"].queryset = supervisors()
        for step in worksheet.STEPS:
            for question in step.questions:
                self.fields[question.key] = _question_field(question)
                if question.note is not None:
                    self.fields[f"{question.key}_note"] = forms.CharField(
                        label=question.note,
                        max_length=worksheet.ANSWER_TEXT_MAX,
                        required=False,
                    )

    def steps(self):
        """Each step with its bound fields, in order, for the template."""
        return [
            (
                step,
                [
                    (self[q.key], self[f"{q.key}_note"] if q.note is not None else None)
                    for q in step.questions
                ],
            )
            for step in worksheet.STEPS
        ]

    def answers(self) -> dict:
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key not in ("version", "superior") and value not in ("", [], None)
        }


def _question_field(question: worksheet.Question) -> forms.Field:
    if not question.choices:
        return forms.CharField(
            label=question.label,
            max_length=worksheet.ANSWER_TEXT_MAX,
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
    if question.multiple:
        return forms.MultipleChoiceField(
            label=question.label,
            choices=question.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
    return forms.ChoiceField(
        label=question.label, choices=question.choices, required=False, widget=forms.RadioSelect
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class ImprovementActionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=SUBJECT_MAX)
    description = forms.CharField(
        label=_("Description"), max_length=TEXT_MAX, required=False, widget=forms.Textarea
    )
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"), queryset=RootCause.objects.filter(is_active=True), required=False
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = case_workers()


class ImprovementActionEditForm(ImprovementActionForm):
    status = forms.ChoiceField(label=_("Status"), choices=ImprovementAction.Status.choices)
