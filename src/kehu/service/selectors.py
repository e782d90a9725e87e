"""Reading business calendars, and turning one into the WorkingTime the SLA clocks use."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import holidays
from django.db.models import QuerySet

from kehu.service.calendars import (
    DayKind,
    PublicDays,
    WorkingTime,
    no_public_days,
    weekly_hours_from_json,
)
from kehu.service.models import BusinessCalendar, CalendarDay

_OVERRIDE_KINDS = {
    CalendarDay.Kind.HOLIDAY: DayKind.CLOSED,
    CalendarDay.Kind.WORKING: DayKind.WORKING,
}


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.order_by("-is_default", "name")


def calendar_default() -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(is_default=True).first()


def working_time_for(*, calendar: BusinessCalendar) -> WorkingTime:
    """The calendar's hours, holiday region and every override day, ready for arithmetic.

    Build it once and reuse it for many clocks: the overrides are read here, in one query.
    """
    return WorkingTime(
        time_zone=ZoneInfo(calendar.time_zone),
        week=weekly_hours_from_json(calendar.hours),
        overrides={
            day: _OVERRIDE_KINDS[kind] for day, kind in calendar.days.values_list("date", "kind")
        },
        public_days=PublicDays(calendar.region) if calendar.region else no_public_days,
    )


@dataclass(frozen=True)
class PackageDay:
    date: date
    kind: DayKind
    name: str


def package_days(*, region: str, start: date, end: date, language: str) -> list[PackageDay]:
    """The holiday package's closed and adjusted working days from start to end (inclusive),
    named in `language` (e.g. "zh_CN") where the package has that language for the region."""
    country = holidays.country_holidays(region)
    if language not in country.supported_languages:
        language = country.default_language
    days = holidays.country_holidays(
        region, years=range(start.year, end.year + 2), language=language
    )
    found = [PackageDay(day, DayKind.CLOSED, name) for day, name in days.items()]
    found += [PackageDay(day, DayKind.WORKING, "") for day in days.weekend_workdays]
    return sorted((d for d in found if start <= d.date <= end), key=lambda d: d.date)
