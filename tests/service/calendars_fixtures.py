"""Calendars shared by the arithmetic tests: plain WorkingTime values, no database."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kehu.service.calendars import PublicDays, WorkingTime

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)

# 09:00–12:00 and 13:30–18:00: 7.5 business hours, lunch in between.
OFFICE_DAY = ((9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60))
OFFICE_WEEK = (OFFICE_DAY,) * 5 + ((), ())
ALL_DAY = ((0, 24 * 60),)


def office(**overrides) -> WorkingTime:
    """A Chinese office: Monday to Friday with lunch, China's holidays and 调休."""
    return WorkingTime(
        time_zone=SHANGHAI, week=OFFICE_WEEK, public_days=PublicDays("CN"), **overrides
    )


def new_york_office() -> WorkingTime:
    nine_to_five = ((9 * 60, 17 * 60),)
    return WorkingTime(
        time_zone=NEW_YORK, week=(nine_to_five,) * 5 + ((), ()), public_days=PublicDays("US")
    )


def round_the_clock(time_zone: ZoneInfo = NEW_YORK) -> WorkingTime:
    return WorkingTime(time_zone=time_zone, week=(ALL_DAY,) * 7)


def at(*args: int, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=tz)
