"""Business-hours arithmetic for SLA clocks. Pure: no database, no clock, no settings.

A `WorkingTime` says when the service desk is open on any date: its weekly hours (with
breaks such as lunch), the public holidays and adjusted working days (调休) of its region
(for China the published yearly schedule, see `holiday_schedules`; elsewhere the `holidays`
package), and an admin's overrides, which win over both. Its two methods answer what an SLA
clock asks:

* `deadline_after`: when has a target of so much business time run out?
* `business_time_between`: how much business time passed between two instants?

Both take pauses, intervals in which the clock stops (a case waiting on the customer).

Everything is computed on UTC instants: Python subtracts two aware datetimes that share a
tzinfo by their wall clocks, which is an hour off across a DST change.

Cost: whole weeks without a holiday, adjusted day, override, pause or DST change are
passed in one step each; only the other days are looked at one by one. A span of W weeks
holding S such special days costs about W + 7·S steps, however long the business time.
"""

import bisect
import enum
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from kehu.service.holiday_schedules import (
    PUBLISHED,
    SCHEDULE_REGIONS,
    YearSchedule,
    schedule_from_package,
)

MINUTES_PER_DAY = 24 * 60
DAYS_PER_WEEK = 7

# Opening hours of one day as (start, end) minutes after local midnight; end 1440 is the
# next midnight, so a 24-hour desk is [(0, 1440)].
DayHours = tuple[tuple[int, int], ...]
# Monday first, as date.weekday() counts.
WeeklyHours = tuple[DayHours, ...]
# (start, end) aware datetimes during which the clock stops.
Pause = tuple[datetime, datetime]


class DayKind(enum.Enum):
    """What overrides the weekly hours on one date."""

    CLOSED = "closed"  # a public holiday, or a day an admin closed
    WORKING = "working"  # an adjusted working day (调休) or a day an admin opened


class PublicDaysSource(Protocol):
    """What a calendar's region says of a date, and whether a year of it is only estimated."""

    def __call__(self, day: date) -> DayKind | None: ...

    def is_provisional(self, year: int) -> bool: ...


class NoPublicDays:
    """For a calendar without a region: every date keeps its weekly hours."""

    def __call__(self, day: date) -> DayKind | None:
        return None

    def is_provisional(self, year: int) -> bool:
        return False


NO_PUBLIC_DAYS = NoPublicDays()


@functools.cache
def holiday_regions() -> dict[str, str]:
    """Country code → English name, for every country the `holidays` package knows."""
    # The package's own list_supported_countries() takes ~15 ms a call: asked once.
    return {
        code: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
        for class_name, code, *_aliases in holidays.registry.COUNTRIES.values()
    }


@functools.lru_cache(maxsize=256)
def _package_year(region: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(closed dates, adjusted working dates) of one year, as the `holidays` package has them.

    Each year is built from a fresh holidays object and kept as frozensets, so threads only
    ever share immutable data. The next year is loaded too: a working Saturday at the end of
    December may be announced with the next year's New Year holiday.
    """
    days = holidays.country_holidays(region, years=(year, year + 1))
    closed = frozenset(d for d in days if d.year == year)
    working = frozenset(d for d in days.weekend_workdays if d.year == year)
    return closed, working


_package_schedule = functools.lru_cache(maxsize=256)(schedule_from_package)


def _nothing_entered() -> Mapping[int, YearSchedule]:
    return {}


@dataclass(frozen=True, eq=False)
class PublicDays:
    """The public holidays and adjusted working days of a country, e.g. "CN".

    Where the country announces its holidays as a yearly schedule of blocks (China, see
    `holiday_schedules`), every day of a block is closed, its weekend days too, and a year
    comes from kehu's copy of the published schedule, else from what a supervisor entered
    (`entered`, called at most once, and only when such a year is asked for), else from an
    estimate: that year is provisional. Years before kehu's first copy are the package's,
    which follows the notices since 2001. Other countries' days are the package's as they
    are.
    """

    region: str
    entered: Callable[[], Mapping[int, YearSchedule]] = _nothing_entered

    def __post_init__(self) -> None:
        if self.region not in holiday_regions():
            raise ValueError(f"unknown holiday region {self.region!r}")

    @functools.cached_property
    def _entered(self) -> Mapping[int, YearSchedule]:
        return self.entered()

    def schedule(self, year: int) -> YearSchedule:
        """The year's blocks and adjusted working days (a schedule region only)."""
        published = PUBLISHED.get(self.region, {})
        if year in published:
            return published[year]
        if published and year > min(published) and year in self._entered:
            return self._entered[year]
        estimate = _package_schedule(self.region, year)
        if not published or year < min(published):
            return replace(estimate, official=True)
        return estimate

    def is_provisional(self, year: int) -> bool:
        """True when the year's days are only an estimate: not published, not entered."""
        return self.region in SCHEDULE_REGIONS and not self.schedule(year).official

    def __call__(self, day: date) -> DayKind | None:
        if self.region not in SCHEDULE_REGIONS:
            closed, working = _package_year(self.region, day.year)
            if day in closed:
                return DayKind.CLOSED
            if day in working:
                return DayKind.WORKING
            return None
        # A December day may belong to the next year's New Year block or be worked for it.
        schedules = [self.schedule(day.year)]
        if day.month == 12:
            schedules.append(self.schedule(day.year + 1))
        if any(day in schedule.working_days for schedule in schedules):
            return DayKind.WORKING
        if any(day in schedule.closed_days for schedule in schedules):
            return DayKind.CLOSED
        return None


def day_hours_from_json(raw: object) -> DayHours:
    """Reads one day's stored hours, a list of ["HH:MM", "HH:MM"] intervals.

    Raises ValueError unless the intervals are in order, do not overlap and lie within the
    day ("24:00" may end the last one).
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("a day must be a list of [start, end] intervals")
    intervals = []
    for interval in raw:
        if not isinstance(interval, Sequence) or isinstance(interval, str) or len(interval) != 2:
            raise ValueError("an interval is a pair [start, end]")
        intervals.append((_minutes(interval[0]), _minutes(interval[1])))
    return _checked_day(tuple(intervals))


def day_hours_to_json(day: DayHours) -> list[list[str]]:
    return [[_clock(start), _clock(end)] for start, end in day]


def weekly_hours_from_json(raw: object) -> WeeklyHours:
    """Reads the stored week: seven days' hours (see day_hours_from_json), Monday first."""
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) != DAYS_PER_WEEK:
        raise ValueError("working hours must be a list of seven days, Monday first")
    return tuple(day_hours_from_json(day) for day in raw)


def business_time_per_week(week: WeeklyHours) -> timedelta:
    return timedelta(minutes=sum(end - start for day in week for start, end in day))


def _minutes(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError(f"a time must be written HH:MM, not {value!r}")
    hours, sep, minutes = value.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"a time must be written HH:MM, not {value!r}")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > MINUTES_PER_DAY:
        raise ValueError(f"{value!r} is not a time of day")
    return total


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _checked_day(intervals: DayHours) -> DayHours:
    previous_end = 0
    for start, end in intervals:
        if not previous_end <= start < end <= MINUTES_PER_DAY:
            raise ValueError(
                "intervals must be in order within the day, each ending after it starts, "
                "without overlapping"
            )
        previous_end = end
    return intervals


@dataclass(frozen=True, kw_only=True)
class WorkingTime:
    """When the desk is open: weekly hours in a time zone, public days, admin overrides.

    A date's kind comes from `overrides` first, then from `public_days`; a CLOSED date has
    no hours, a WORKING date has `workday_hours` (an adjusted Saturday is worked like a
    normal weekday), and any other date has the hours of its weekday.
    """

    time_zone: ZoneInfo
    week: WeeklyHours
    overrides: Mapping[date, DayKind] = field(default_factory=dict)
    public_days: PublicDaysSource = NO_PUBLIC_DAYS

    def __post_init__(self) -> None:
        if len(self.week) != DAYS_PER_WEEK:
            raise ValueError("working hours must cover seven days, Monday first")
        for day in self.week:
            _checked_day(day)
        if not any(self.week):
            # With no hours at all, no business time would ever pass and no deadline come.
            raise ValueError("a calendar needs working hours on at least one weekday")

    @functools.cached_property
    def workday_hours(self) -> DayHours:
        """The hours of a normal working day: the first of Monday to Friday that has any."""
        return next(day for day in self.week if day)

    @functools.cached_property
    def _weekly_total(self) -> timedelta:
        return business_time_per_week(self.week)

    def day_kind(self, day: date) -> DayKind | None:
        return self.overrides.get(day) or self.public_days(day)

    def is_provisional(self, instant: datetime) -> bool:
        """True when `instant` falls in a year whose public days are only estimated, so a
        deadline there may move once the year's schedule is published."""
        return self.public_days.is_provisional(instant.astimezone(self.time_zone).year)

    def day_hours(self, day: date) -> DayHours:
        kind = self.day_kind(day)
        if kind is DayKind.CLOSED:
            return ()
        if kind is DayKind.WORKING:
            return self.workday_hours
        return self.week[day.weekday()]

    def deadline_after(
        self,
        *,
        start: datetime,
        business_duration: timedelta,
        pauses: Iterable[Pause] = (),
    ) -> datetime:
        """The earliest instant at which `business_duration` of business time has passed
        since `start`, the clock stopped during `pauses`.

        The result is in UTC; convert it to the calendar's zone only to show it: a datetime
        in the repeated hour of a DST change compares unequal to every datetime of another
        zone (PEP 495).

        A start outside working hours counts from the next opening; a target that runs out
        at a closing time ends then, not at the next opening. A zero duration ends at
        `start`. An open pause (still waiting on the customer) has no deadline yet: pass it
        ending now, and ask again when it ends.
        """
        start_utc = _utc(start, "start")
        if business_duration < timedelta(0):
            raise ValueError("business_duration must not be negative")
        remaining = business_duration

        def take_week(_week_end: datetime, week_total: timedelta) -> bool:
            return week_total < remaining

        stretches = self._stretches(start=start_utc, stops=_Pauses(pauses), take_week=take_week)
        while remaining:
            span_start, _span_end, business = next(stretches)
            # take_week keeps whole weeks from running the clock out, so a stretch that
            # does is a single interval and the deadline lies inside it.
            if business >= remaining:
                return span_start + remaining
            remaining -= business
        return start_utc

    def business_time_between(
        self,
        *,
        start: datetime,
        end: datetime,
        pauses: Iterable[Pause] = (),
    ) -> timedelta:
        """The business time from `start` to `end`, not counting `pauses`."""
        start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
        if end_utc < start_utc:
            raise ValueError("end must not be before start")
        total = timedelta(0)
        for span_start, span_end, business in self._stretches(
            start=start_utc,
            stops=_Pauses(pauses),
            take_week=lambda week_end, _week_total: week_end <= end_utc,
            until=end_utc,
        ):
            if span_start >= end_utc:
                break
            # Whole weeks come only when they end by `end_utc`: clipping is for intervals.
            total += business if span_end <= end_utc else end_utc - span_start
        return total

    def _instant(self, day: date, minutes: int) -> datetime:
        """The UTC instant of a local wall-clock time; minute 1440 is the next midnight.

        A wall time that does not exist (skipped by a DST change) maps by the offset before
        the change; `_day_spans` then keeps the day's intervals in order.
        """
        wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
        return wall.replace(tzinfo=self.time_zone).astimezone(UTC)

    def _day_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local date as UTC instants, in order, not overlapping."""
        spans = []
        previous_end = datetime.min.replace(tzinfo=UTC)
        for start_minute, end_minute in self.day_hours(day):
            start = max(self._instant(day, start_minute), previous_end)
            end = max(self._instant(day, end_minute), start)
            spans.append((start, end))
            previous_end = end
        return spans

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.time_zone).date()

    def _plain_week(self, first_day: date, start: datetime, end: datetime) -> bool:
        """True if the week from first_day has only weekly hours and no DST change, so its
        business time is exactly the weekly total."""
        return end - start == timedelta(days=DAYS_PER_WEEK) and all(
            self.day_kind(first_day + timedelta(days=i)) is None for i in range(DAYS_PER_WEEK)
        )

    def _stretches(
        self,
        *,
        start: datetime,
        stops: "_Pauses",
        take_week: Callable[[datetime, timedelta], bool],
        until: datetime | None = None,
    ) -> Iterator[tuple[datetime, datetime, timedelta]]:
        """The running clock from `start` (UTC) on, in order, as (from, to, business time).

        A stretch is one open interval (to - from is its business time), or a whole week when
        the week is plain, unpaused, and take_week(week_end, weekly_total) agrees: the caller
        says so only when it needs no instant inside the week. take_week is asked lazily, after
        the caller has used every stretch before. Stops at the first midnight at or after
        `until`, or never.
        """
        position = start
        day = self._local_date(position)
        midnight = self._instant(day, 0)
        while until is None or midnight < until:
            # Inside a pause the clock resumes at its end, however many days later.
            position = stops.resume_at(position)
            if self._local_date(position) > day:
                day = self._local_date(position)
                midnight = self._instant(day, 0)
                continue
            if position == midnight:
                week_end = self._instant(day + timedelta(days=DAYS_PER_WEEK), 0)
                if (
                    self._plain_week(day, midnight, week_end)
                    and not stops.overlaps(midnight, week_end)
                    and take_week(week_end, self._weekly_total)
                ):
                    yield midnight, week_end, self._weekly_total
                    day += timedelta(days=DAYS_PER_WEEK)
                    midnight = position = week_end
                    continue
            for span_start, span_end in self._day_spans(day):
                for open_start, open_end in stops.open_parts(max(span_start, position), span_end):
                    yield open_start, open_end, open_end - open_start
                position = max(position, span_end)
            day += timedelta(days=1)
            midnight = self._instant(day, 0)
            position = max(position, midnight)


class _Pauses:
    """Pauses merged into sorted, disjoint UTC intervals, searched by bisection."""

    def __init__(self, pauses: Iterable[Pause]) -> None:
        merged: list[list[datetime]] = []
        for start, end in sorted(
            (_utc(start, "pause start"), _utc(end, "pause end")) for start, end in pauses
        ):
            if end < start:
                raise ValueError("a pause must not end before it starts")
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [start for start, _end in merged]
        self._ends = [end for _start, end in merged]

    def resume_at(self, instant: datetime) -> datetime:
        """The end of the pause that holds `instant`, or `instant` if none does."""
        i = bisect.bisect_right(self._starts, instant) - 1
        return self._ends[i] if i >= 0 and self._ends[i] > instant else instant

    def overlaps(self, start: datetime, end: datetime) -> bool:
        i = bisect.bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end

    def open_parts(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The parts of [start, end) outside every pause, in order."""
        i = bisect.bisect_right(self._ends, start)
        while start < end:
            if i < len(self._starts) and self._starts[i] < end:
                if self._starts[i] > start:
                    yield start, self._starts[i]
                start = self._ends[i]
                i += 1
            else:
                yield start, end
                return


def _utc(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")
    return instant.astimezone(UTC)
