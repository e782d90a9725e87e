from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.service.calendars import holiday_regions, weekly_hours_from_json


def default_time_zone() -> str:
    return settings.TIME_ZONE


def default_hours() -> list[list[list[str]]]:
    """A Chinese office week: 09:00–12:00 and 13:30–18:00, Monday to Friday."""
    workday = [["09:00", "12:00"], ["13:30", "18:00"]]
    return [workday] * 5 + [[], []]


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(zone)s is not a time zone name such as Asia/Shanghai."), params={"zone": value}
        ) from None


def validate_region(value: str) -> None:
    if value not in holiday_regions():
        raise ValidationError(
            _("%(region)s is not a country code the holiday data knows."),
            params={"region": value},
        )


def validate_hours(value: object) -> None:
    try:
        weekly_hours_from_json(value)
    except ValueError:
        raise ValidationError(
            _("Working hours must be intervals in order, within the day, not overlapping.")
        ) from None


class BusinessCalendar(models.Model):
    """When the service desk is open; SLA clocks run only then."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # Seven lists, Monday first, of ["HH:MM", "HH:MM"] intervals; "24:00" ends a day.
    hours = models.JSONField(_("working hours"), default=default_hours, validators=[validate_hours])
    region = models.CharField(
        _("public holidays of"),
        max_length=2,
        default="CN",
        blank=True,
        validators=[validate_region],
    )
    is_default = models.BooleanField(_("default calendar"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="service_one_default_calendar",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """An admin's word on one date, over the weekly hours and the holiday package."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (closed)")
        WORKING = "working", _("Working day")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="service_one_day_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"
