"""Properties of the SLA clock that must hold for any start, target and pause.

They also guard the week-skipping: a whole week is counted in one step only when nothing
in it differs, so cutting an interval anywhere must give the same totals.
"""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.service.calendars import DayKind, WorkingTime

from .calendars_fixtures import (
    NEW_YORK,
    OFFICE_WEEK,
    SHANGHAI,
    new_york_office,
    office,
    round_the_clock,
)

CALENDARS = {
    "shanghai office": office(),
    "shanghai office with overrides": office(
        overrides={
            date(2026, 10, 8): DayKind.CLOSED,
            date(2026, 10, 6): DayKind.WORKING,
            date(2026, 1, 10): DayKind.WORKING,
            date(2026, 3, 3): DayKind.CLOSED,
        }
    ),
    "shanghai saturday mornings": WorkingTime(
        time_zone=SHANGHAI,
        week=OFFICE_WEEK[:5] + (((9 * 60, 12 * 60),), ()),
    ),
    "new york office": new_york_office(),
    "new york round the clock": round_the_clock(NEW_YORK),
}

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
# Generated on wall clocks of several zones, then taken to UTC: Python compares and shifts
# two datetimes of one zone by their wall clocks, which is wrong across a DST change.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 6, 30),
    timezones=st.sampled_from([SHANGHAI, NEW_YORK, UTC]),
    allow_imaginary=False,
).map(lambda instant: instant.astimezone(UTC))
# Up to 2,000 business hours, to the second.
durations = st.integers(min_value=0, max_value=2000 * 3600).map(lambda s: timedelta(seconds=s))
pause_lists = st.lists(
    st.tuples(instants, st.integers(0, 30 * 24 * 3600)).map(
        lambda p: (p[0], p[0] + timedelta(seconds=p[1]))
    ),
    max_size=4,
)

examples = settings(max_examples=150, deadline=None)


@examples
@given(calendars, instants, durations, pause_lists)
def test_the_time_to_the_deadline_is_the_target(working_time, start, duration, pauses):
    end = working_time.deadline_after(start=start, business_duration=duration, pauses=pauses)
    assert end >= start
    assert working_time.business_time_between(start=start, end=end, pauses=pauses) == duration


@examples
@given(calendars, instants, durations)
def test_the_deadline_is_the_earliest_such_instant(working_time, start, duration):
    end = working_time.deadline_after(start=start, business_duration=duration)
    if duration:
        just_before = end - timedelta(microseconds=1)
        assert working_time.business_time_between(start=start, end=just_before) < duration


@examples
@given(calendars, instants, durations, durations)
def test_a_longer_target_never_ends_sooner(working_time, start, first, second):
    shorter, longer = sorted((first, second))
    assert working_time.deadline_after(
        start=start, business_duration=shorter
    ) <= working_time.deadline_after(start=start, business_duration=longer)


@examples
@given(calendars, st.lists(instants, min_size=3, max_size=3), pause_lists)
def test_business_time_adds_up(working_time, three, pauses):
    a, b, c = sorted(three)
    whole = working_time.business_time_between(start=a, end=c, pauses=pauses)
    parts = working_time.business_time_between(
        start=a, end=b, pauses=pauses
    ) + working_time.business_time_between(start=b, end=c, pauses=pauses)
    assert whole == parts


@examples
@given(calendars, st.lists(instants, min_size=2, max_size=2), pause_lists)
def test_pauses_take_away_exactly_the_business_time_they_cover(working_time, two, pauses):
    start, end = sorted(two)
    running = working_time.business_time_between(start=start, end=end)
    paused = working_time.business_time_between(start=start, end=end, pauses=pauses)
    # Business time inside the union of the pauses, within [start, end]: cut the interval
    # at every pause boundary, and keep the pieces some pause covers.
    cuts = sorted({start, end, *(min(max(t, start), end) for pause in pauses for t in pause)})
    covered = sum(
        (
            working_time.business_time_between(start=left, end=right)
            for left, right in zip(cuts, cuts[1:], strict=False)
            if any(p_start <= left and right <= p_end for p_start, p_end in pauses)
        ),
        timedelta(0),
    )
    assert paused == running - covered


@examples
@given(instants, durations)
def test_round_the_clock_business_time_is_real_time(start, duration):
    end = round_the_clock(NEW_YORK).deadline_after(start=start, business_duration=duration)
    assert end == start + duration
