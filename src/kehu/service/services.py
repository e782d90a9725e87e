"""Changing business calendars: their hours, holiday region, default flag and override days."""

from datetime import date

from django.db import transaction

from kehu.service.models import BusinessCalendar, CalendarDay


def _calendar_save(calendar: BusinessCalendar) -> BusinessCalendar:
    """Validates and saves; callers run in a transaction, which a refusal rolls back."""
    # One default at a time (a constraint guards it): the new default takes over the flag,
    # before validation, which checks that constraint.
    if calendar.is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(
            is_default=False
        )
    calendar.full_clean()
    calendar.save()
    return calendar


@transaction.atomic
def calendar_create(
    *, name: str, time_zone: str, hours: list, region: str, is_default: bool = False
) -> BusinessCalendar:
    """A new calendar; the first one becomes the default, so SLA clocks always have one."""
    is_default = is_default or not BusinessCalendar.objects.exists()
    return _calendar_save(
        BusinessCalendar(
            name=name,
            time_zone=time_zone,
            hours=hours,
            region=region,
            is_default=is_default,
        )
    )


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    name: str,
    time_zone: str,
    hours: list,
    region: str,
    is_default: bool,
) -> BusinessCalendar:
    """Saves changed settings. The default is changed by making another calendar the default,
    never by unticking it, so that there is always one."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    calendar.name, calendar.time_zone, calendar.hours, calendar.region = (
        name,
        time_zone,
        hours,
        region,
    )
    calendar.is_default = calendar.is_default or is_default
    return _calendar_save(calendar)


def calendar_day_set(
    *, calendar: BusinessCalendar, day: date, kind: str, name: str = ""
) -> CalendarDay:
    """Opens or closes one date, replacing any earlier override of the same date."""
    CalendarDay(calendar=calendar, date=day, kind=kind, name=name).full_clean(
        validate_unique=False, validate_constraints=False
    )
    # update_or_create retries as an update when a concurrent request created the date.
    override, _created = CalendarDay.objects.update_or_create(
        calendar=calendar, date=day, defaults={"kind": kind, "name": name}
    )
    return override


def calendar_day_delete(*, override: CalendarDay) -> None:
    """The date goes back to the weekly hours and the holiday package."""
    override.delete()
