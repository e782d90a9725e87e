"""SLA clock arithmetic on business calendars: examples worked out by hand.

Dates are in 2026, whose holidays and adjusted working days (调休) the State Council
announced in November 2025: National Day closes 1–7 October, and Sunday 20 September
and Saturday 10 October are working days.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from kehu.service import calendars
from kehu.service.calendars import DayKind, PublicDays, WorkingTime, weekly_hours_from_json

from .calendars_fixtures import (
    HOUR,
    NEW_YORK,
    OFFICE_DAY,
    OFFICE_WEEK,
    SHANGHAI,
    at,
    new_york_office,
    office,
    round_the_clock,
)


def deadline(working_time: WorkingTime, start: datetime, hours: float, **kwargs) -> datetime:
    return working_time.deadline_after(start=start, business_duration=hours * HOUR, **kwargs)


def between(working_time: WorkingTime, start: datetime, end: datetime, **kwargs) -> timedelta:
    return working_time.business_time_between(start=start, end=end, **kwargs)


# --- The holiday package says what the State Council announced -------------------------


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 10, 1), DayKind.CLOSED),  # National Day
        (date(2026, 10, 5), DayKind.CLOSED),  # in lieu of Saturday 3 October
        (date(2026, 10, 7), DayKind.CLOSED),  # moved from Saturday 10 October
        (date(2026, 9, 20), DayKind.WORKING),  # a Sunday worked (调休)
        (date(2026, 10, 10), DayKind.WORKING),  # a Saturday worked (调休)
        (date(2026, 2, 14), DayKind.WORKING),  # Spring Festival 调休
        (date(2025, 9, 28), DayKind.WORKING),  # a 2025 调休 Sunday
        (date(2026, 10, 8), None),  # back to normal
        (date(2026, 10, 17), None),  # an ordinary Saturday: the weekly hours say closed
    ],
)
def test_china_public_days_come_from_the_package(day, kind):
    assert PublicDays("CN")(day) is kind


# --- Weekends, lunch breaks, opening and closing ----------------------------------------


def test_the_clock_stops_over_the_weekend():
    friday_five_pm = at(2026, 6, 12, 17)
    assert deadline(office(), friday_five_pm, 2) == at(2026, 6, 15, 10)
    assert between(office(), friday_five_pm, at(2026, 6, 15, 10)) == 2 * HOUR


def test_the_clock_stops_over_lunch():
    assert deadline(office(), at(2026, 6, 15, 11, 30), 1) == at(2026, 6, 15, 14)
    assert between(office(), at(2026, 6, 15, 11), at(2026, 6, 15, 14)) == 1.5 * HOUR


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 6, 15, 7), at(2026, 6, 15, 10)),  # before opening
        (at(2026, 6, 15, 12, 30), at(2026, 6, 15, 14, 30)),  # during lunch
        (at(2026, 6, 15, 20), at(2026, 6, 16, 10)),  # after closing
        (at(2026, 6, 13, 10), at(2026, 6, 15, 10)),  # on a Saturday
    ],
)
def test_a_start_outside_hours_counts_from_the_next_opening(start, expected):
    assert deadline(office(), start, 1) == expected


def test_a_target_that_runs_out_at_closing_time_ends_then():
    assert deadline(office(), at(2026, 6, 15, 9), 7.5) == at(2026, 6, 15, 18)


def test_a_zero_target_ends_at_its_start():
    assert deadline(office(), at(2026, 6, 13, 10), 0) == at(2026, 6, 13, 10)


def test_starts_in_other_zones_are_the_same_instants():
    # 02:00 in New York is 14:00 in Shanghai.
    assert deadline(office(), at(2026, 6, 15, 2, tz=NEW_YORK), 1) == at(2026, 6, 15, 15)


def test_the_deadline_is_in_utc():
    # Fall-back night in New York: 01:30 happens twice, and a datetime in that hour never
    # equals one in another zone. In UTC it does.
    result = deadline(round_the_clock(), at(2026, 11, 1, tz=NEW_YORK), 1.5)
    assert result.tzinfo is UTC
    assert result == at(2026, 11, 1, 5, 30, tz=UTC)


# --- Public holidays and adjusted working days ------------------------------------------


def test_national_day_week_is_closed():
    assert between(office(), at(2026, 10, 1), at(2026, 10, 8)) == timedelta(0)
    # The evening before the holiday, two hours run out on the first day back.
    assert deadline(office(), at(2026, 9, 30, 17), 2) == at(2026, 10, 8, 10)


def test_an_adjusted_sunday_is_a_working_day():
    # Friday 17:00: one hour on Friday, then Sunday 20 September is worked.
    assert deadline(office(), at(2026, 9, 18, 17), 3) == at(2026, 9, 20, 11)


def test_an_adjusted_saturday_has_the_hours_of_a_weekday():
    saturday_mornings = OFFICE_WEEK[:5] + (((9 * 60, 12 * 60),), ())
    working_time = WorkingTime(
        time_zone=SHANGHAI, week=saturday_mornings, public_days=PublicDays("CN")
    )
    adjusted, ordinary = date(2026, 10, 10), date(2026, 10, 17)
    assert working_time.day_hours(adjusted) == OFFICE_DAY
    assert between(working_time, at(2026, 10, 10), at(2026, 10, 11)) == 7.5 * HOUR
    assert working_time.day_hours(ordinary) == ((9 * 60, 12 * 60),)


def test_spring_festival_2026():
    # Closed 15–23 February; Saturday 14 and Saturday 28 February are worked.
    assert between(office(), at(2026, 2, 14), at(2026, 2, 15)) == 7.5 * HOUR
    assert between(office(), at(2026, 2, 15), at(2026, 2, 24)) == timedelta(0)
    assert between(office(), at(2026, 2, 28), at(2026, 3, 1)) == 7.5 * HOUR


def test_without_a_region_holidays_are_ordinary_days():
    plain = WorkingTime(time_zone=SHANGHAI, week=OFFICE_WEEK)
    assert between(plain, at(2026, 10, 1), at(2026, 10, 8)) == 5 * 7.5 * HOUR


# --- An admin's overrides win over the package ------------------------------------------


def test_an_override_closes_a_day_the_package_leaves_open():
    closed = office(overrides={date(2026, 10, 8): DayKind.CLOSED})
    assert deadline(closed, at(2026, 9, 30, 17), 2) == at(2026, 10, 9, 10)


def test_an_override_opens_a_day_the_package_closes():
    opened = office(overrides={date(2026, 10, 6): DayKind.WORKING})
    assert deadline(opened, at(2026, 9, 30, 17), 2) == at(2026, 10, 6, 10)


def test_an_override_closes_an_adjusted_working_day():
    closed = office(overrides={date(2026, 9, 20): DayKind.CLOSED})
    assert deadline(closed, at(2026, 9, 18, 17), 3) == at(2026, 9, 21, 11)


def test_an_override_opens_a_weekend_day_for_a_year_the_package_does_not_know():
    # 2027's adjusted working days were not announced when the package was released.
    opened = office(overrides={date(2027, 2, 6): DayKind.WORKING})  # a Saturday
    assert between(opened, at(2027, 2, 6), at(2027, 2, 7)) == 7.5 * HOUR


# --- Pauses (waiting on the customer) ---------------------------------------------------


def test_a_pause_stops_the_clock():
    monday = at(2026, 6, 15, 9)
    pause = (at(2026, 6, 15, 10), at(2026, 6, 16, 10))
    # 1 h on Monday, 6.5 h on Tuesday from 10:00, the last half hour on Wednesday.
    assert deadline(office(), monday, 8, pauses=[pause]) == at(2026, 6, 17, 9, 30)
    assert between(office(), monday, at(2026, 6, 17, 9, 30), pauses=[pause]) == 8 * HOUR


def test_overlapping_and_unordered_pauses_count_once():
    monday = at(2026, 6, 15, 9)
    pauses = [
        (at(2026, 6, 15, 15), at(2026, 6, 15, 16)),
        (at(2026, 6, 15, 10), at(2026, 6, 15, 11)),
        (at(2026, 6, 15, 10, 30), at(2026, 6, 15, 11, 30)),
    ]
    # 7.5 h less 10:00–11:30 and 15:00–16:00.
    assert between(office(), monday, at(2026, 6, 15, 18), pauses=pauses) == 5 * HOUR


def test_pauses_outside_the_interval_change_nothing():
    pauses = [(at(2026, 6, 1), at(2026, 6, 15, 9)), (at(2026, 6, 16), at(2026, 6, 20))]
    assert between(office(), at(2026, 6, 15, 9), at(2026, 6, 16), pauses=pauses) == 7.5 * HOUR
    assert deadline(office(), at(2026, 6, 15, 9), 1, pauses=pauses) == at(2026, 6, 15, 10)


def test_a_long_pause_is_jumped_not_walked(monkeypatch):
    days_looked_at = _count_days_looked_at(monkeypatch)
    pause = (at(2026, 1, 5, 9), at(2036, 1, 5, 9))  # ten years waiting on the customer
    assert deadline(office(), at(2026, 1, 5, 9), 1, pauses=[pause]) == at(2036, 1, 7, 10)
    assert len(days_looked_at) <= 3


# --- Daylight saving time ---------------------------------------------------------------


def test_a_day_of_business_across_spring_forward_is_24_real_hours():
    saturday_noon = at(2026, 3, 7, 12, tz=NEW_YORK)  # clocks go forward Sunday 02:00
    assert deadline(round_the_clock(), saturday_noon, 24) == at(2026, 3, 8, 13, tz=NEW_YORK)


def test_a_day_of_business_across_fall_back_is_24_real_hours():
    saturday_noon = at(2026, 10, 31, 12, tz=NEW_YORK)  # clocks go back Sunday 02:00
    assert deadline(round_the_clock(), saturday_noon, 24) == at(2026, 11, 1, 11, tz=NEW_YORK)


def test_the_days_of_the_change_have_23_and_25_hours():
    clock = round_the_clock()
    assert between(clock, at(2026, 3, 8, tz=NEW_YORK), at(2026, 3, 9, tz=NEW_YORK)) == 23 * HOUR
    assert between(clock, at(2026, 11, 1, tz=NEW_YORK), at(2026, 11, 2, tz=NEW_YORK)) == 25 * HOUR


def test_office_hours_across_the_change_keep_their_wall_clock():
    friday_four_pm = at(2026, 3, 6, 16, tz=NEW_YORK)
    monday_ten_am = at(2026, 3, 9, 10, tz=NEW_YORK)
    assert deadline(new_york_office(), friday_four_pm, 2) == monday_ten_am
    assert between(new_york_office(), friday_four_pm, monday_ten_am) == 2 * HOUR


def test_long_targets_stay_exact_across_both_changes():
    start = at(2026, 1, 1, 8, 15, tz=NEW_YORK)
    for hours in (1000, 5000, 8760):
        # In UTC: adding to a New York datetime would add wall-clock time.
        assert deadline(round_the_clock(), start, hours) == start.astimezone(UTC) + hours * HOUR


def test_us_holidays_close_the_new_york_office():
    # Thursday 26 November 2026 is Thanksgiving.
    wednesday = at(2026, 11, 25, 16, tz=NEW_YORK)
    assert deadline(new_york_office(), wednesday, 2) == at(2026, 11, 27, 10, tz=NEW_YORK)


# --- Cost: days are looked at one by one only near special days --------------------------


def _count_days_looked_at(monkeypatch) -> list:
    looked_at: list = []
    day_spans = WorkingTime._day_spans

    def counting(self, day):
        looked_at.append(day)
        return day_spans(self, day)

    monkeypatch.setattr(WorkingTime, "_day_spans", counting)
    return looked_at


def test_a_thousand_hour_target_skips_whole_weeks(monkeypatch):
    days_looked_at = _count_days_looked_at(monkeypatch)
    plain = WorkingTime(time_zone=SHANGHAI, week=OFFICE_WEEK)
    start = at(2026, 1, 5, 9)
    end = deadline(plain, start, 1000)
    assert end - start > timedelta(days=180)
    # The first day, then whole weeks, then at most a week's days where the target ends.
    assert len(days_looked_at) <= 1 + 7
    days_looked_at.clear()
    assert between(plain, start, end) == 1000 * HOUR
    assert len(days_looked_at) <= 1 + 7


def test_special_days_cost_about_a_week_each(monkeypatch):
    days_looked_at = _count_days_looked_at(monkeypatch)
    start = at(2026, 1, 5, 9)
    end = deadline(office(), start, 1000)
    assert between(office(), start, end) == 1000 * HOUR
    first, last = start.date(), end.date()
    special = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if office().day_kind(first + timedelta(days=i)) is not None
    ]
    assert len(special) >= 15  # New Year, Spring Festival, Qingming, Labour Day, Dragon Boat
    # Two computations (deadline, then between), each: a week around every special day,
    # the first day and the last week; never the ~200 days walked one by one.
    assert len(days_looked_at) <= 2 * (7 * len(special) + 8)
    assert len(days_looked_at) < 2 * (last - first).days / 2


# --- Bad input --------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        deadline(office(), datetime(2026, 6, 15, 9), 1)
    with pytest.raises(ValueError, match="aware"):
        between(office(), at(2026, 6, 15), datetime(2026, 6, 16))
    with pytest.raises(ValueError, match="aware"):
        deadline(office(), at(2026, 6, 15), 1, pauses=[(datetime(2026, 6, 15), at(2026, 6, 16))])


def test_impossible_requests_are_refused():
    with pytest.raises(ValueError):
        deadline(office(), at(2026, 6, 15), -1)
    with pytest.raises(ValueError):
        between(office(), at(2026, 6, 16), at(2026, 6, 15))
    with pytest.raises(ValueError):
        deadline(office(), at(2026, 6, 15), 1, pauses=[(at(2026, 6, 16), at(2026, 6, 15))])


def test_a_calendar_without_any_hours_is_refused():
    with pytest.raises(ValueError, match="at least one weekday"):
        WorkingTime(time_zone=SHANGHAI, week=((),) * 7)


def test_unknown_holiday_regions_are_refused():
    with pytest.raises(ValueError):
        PublicDays("XX")


@pytest.mark.parametrize(
    "raw",
    [
        [[["09:00", "12:00"], ["11:00", "13:00"]]] + [[]] * 6,  # overlapping
        [[["12:00", "09:00"]]] + [[]] * 6,  # backwards
        [[["09:00", "25:00"]]] + [[]] * 6,  # past midnight
        [[["9h", "12:00"]]] + [[]] * 6,  # not HH:MM
        [[["09:00", "12:00"]]] * 6,  # six days
        "09:00-18:00",
    ],
)
def test_stored_hours_are_checked(raw):
    with pytest.raises(ValueError):
        weekly_hours_from_json(raw)


def test_stored_hours_are_read():
    raw = [[["09:00", "12:00"], ["13:30", "18:00"]]] * 5 + [[["00:00", "24:00"]], []]
    assert weekly_hours_from_json(raw) == OFFICE_WEEK[:5] + (((0, 1440),), ())
    assert calendars.day_hours_to_json(OFFICE_DAY) == [["09:00", "12:00"], ["13:30", "18:00"]]
