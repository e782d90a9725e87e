"""China's yearly holiday schedule (节假日安排), as the State Council publishes it. Pure data
and rules: no database, no clock, no settings.

Every year, usually in November, the General Office of the State Council announces the
next year's holidays as *blocks* (放假调休): "春节：2月15日至23日放假调休，共9天". A block
holds the statutory days, the days given in lieu, and the weekend days between or beside
them; every day of it is a day off, whatever a desk's weekly hours say. The notice also
names the adjusted working days (调休上班), usually a Saturday or Sunday, worked as a normal
weekday.

The `holidays` package knows the statutory and in-lieu days and the adjusted working days,
but not the weekend days inside a block: on a desk open on Saturdays it would be open in the
middle of the Spring Festival. So kehu keeps its own copy of each published schedule
(`PUBLISHED`, transcribed from the notices and tested date by date), and for a year whose
schedule is not out yet it *estimates* the blocks from the package's days and calls that
year provisional: its deadlines may move once the schedule is published and entered.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import holidays

# The regions whose public days come as a yearly schedule of blocks.
SCHEDULE_REGIONS = frozenset({"CN"})
SATURDAY = 5
ONE_DAY = timedelta(days=1)
# The longest block ever announced was 10 days (Spring Festival 2020, extended): a block
# entered by hand longer than this is a typing error.
LONGEST_BLOCK_DAYS = 15


class Festival(StrEnum):
    """The festivals a block is announced for (the names are translated where shown)."""

    NEW_YEAR = "new_year"  # 元旦
    SPRING_FESTIVAL = "spring_festival"  # 春节
    TOMB_SWEEPING = "tomb_sweeping"  # 清明节
    LABOUR_DAY = "labour_day"  # 劳动节
    DRAGON_BOAT = "dragon_boat"  # 端午节
    MID_AUTUMN = "mid_autumn"  # 中秋节
    NATIONAL_DAY = "national_day"  # 国庆节
    NATIONAL_DAY_MID_AUTUMN = "national_day_mid_autumn"  # 国庆节、中秋节 (one block)
    OTHER = "other"  # a one-off holiday, such as 3 September 2015


@dataclass(frozen=True)
class HolidayBlock:
    """Consecutive days off, first to last inclusive."""

    festival: Festival
    first: date
    last: date

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += ONE_DAY

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class YearSchedule:
    """One year's blocks and adjusted working days. A block may begin in the December
    before (New Year's Day 2024 was 30 December 2023 to 1 January 2024)."""

    year: int
    blocks: tuple[HolidayBlock, ...]
    working_days: frozenset[date]
    # False for an estimate: the year's schedule has not been published (or entered).
    official: bool = True
    # Where it comes from: the notice's title, or who entered it.
    source: str = ""
    closed_days: frozenset[date] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "closed_days", frozenset(day for block in self.blocks for day in block.days())
        )


def schedule_problems(
    *, year: int, blocks: Iterable[HolidayBlock], working_days: Iterable[date]
) -> list[str]:
    """What is wrong with a schedule as typed in, as codes (the form words them in the
    user's language), each once; empty when it can be used."""
    problems = []
    blocks = sorted(blocks, key=lambda block: block.first)
    earliest, latest = date(year - 1, 12, 1), date(year, 12, 31)
    if not blocks:
        problems.append("no_blocks")
    for block in blocks:
        if block.last < block.first:
            problems.append("block_backwards")
        elif block.length > LONGEST_BLOCK_DAYS:
            problems.append("block_too_long")
        if not (earliest <= block.first and block.last <= latest):
            problems.append("block_outside_year")
    for before, after in zip(blocks, blocks[1:], strict=False):
        if after.first <= before.last:
            problems.append("blocks_overlap")
    closed = {day for block in blocks if block.first <= block.last for day in block.days()}
    for day in working_days:
        if day in closed:
            problems.append("working_day_in_block")
        if not earliest <= day <= latest:
            problems.append("working_day_outside_year")
    return list(dict.fromkeys(problems))


def _published(year: int, source: str, blocks, working) -> YearSchedule:
    return YearSchedule(
        year=year,
        blocks=tuple(
            HolidayBlock(festival, date(first_year, *first), date(year, *last))
            for festival, first_year, first, last in blocks
        ),
        working_days=frozenset(date(year, *day) for day in working),
        source=source,
    )


F = Festival
# Transcribed from the notices; tests/service/test_holiday_schedules.py checks every date.
PUBLISHED: dict[str, dict[int, YearSchedule]] = {
    "CN": {
        schedule.year: schedule
        for schedule in (
            _published(
                2024,
                "国务院办公厅关于2024年部分节假日安排的通知（2023年10月25日）",
                [
                    (F.NEW_YEAR, 2023, (12, 30), (1, 1)),
                    (F.SPRING_FESTIVAL, 2024, (2, 10), (2, 17)),
                    (F.TOMB_SWEEPING, 2024, (4, 4), (4, 6)),
                    (F.LABOUR_DAY, 2024, (5, 1), (5, 5)),
                    (F.DRAGON_BOAT, 2024, (6, 8), (6, 10)),
                    (F.MID_AUTUMN, 2024, (9, 15), (9, 17)),
                    (F.NATIONAL_DAY, 2024, (10, 1), (10, 7)),
                ],
                [(2, 4), (2, 18), (4, 7), (4, 28), (5, 11), (9, 14), (9, 29), (10, 12)],
            ),
            _published(
                2025,
                "国务院办公厅关于2025年部分节假日安排的通知（2024年11月12日）",
                [
                    (F.NEW_YEAR, 2025, (1, 1), (1, 1)),
                    (F.SPRING_FESTIVAL, 2025, (1, 28), (2, 4)),
                    (F.TOMB_SWEEPING, 2025, (4, 4), (4, 6)),
                    (F.LABOUR_DAY, 2025, (5, 1), (5, 5)),
                    (F.DRAGON_BOAT, 2025, (5, 31), (6, 2)),
                    (F.NATIONAL_DAY_MID_AUTUMN, 2025, (10, 1), (10, 8)),
                ],
                [(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)],
            ),
            _published(
                2026,
                "国务院办公厅关于2026年部分节假日安排的通知（2025年11月）",
                [
                    (F.NEW_YEAR, 2026, (1, 1), (1, 3)),
                    (F.SPRING_FESTIVAL, 2026, (2, 15), (2, 23)),
                    (F.TOMB_SWEEPING, 2026, (4, 4), (4, 6)),
                    (F.LABOUR_DAY, 2026, (5, 1), (5, 5)),
                    (F.DRAGON_BOAT, 2026, (6, 19), (6, 21)),
                    (F.MID_AUTUMN, 2026, (9, 25), (9, 27)),
                    (F.NATIONAL_DAY, 2026, (10, 1), (10, 7)),
                ],
                [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)],
            ),
        )
    }
}

# The package's Chinese names of statutory days, by festival.
_PACKAGE_NAMES = {
    "元旦": Festival.NEW_YEAR,
    "春节": Festival.SPRING_FESTIVAL,
    "农历除夕": Festival.SPRING_FESTIVAL,
    "清明节": Festival.TOMB_SWEEPING,
    "劳动节": Festival.LABOUR_DAY,
    "端午节": Festival.DRAGON_BOAT,
    "中秋节": Festival.MID_AUTUMN,
    "国庆节": Festival.NATIONAL_DAY,
}


def _festival(names: Iterable[str]) -> Festival:
    """The festival of a block from the package's names of its days: "春节（推定）" is the
    Spring Festival; a day in lieu ("休息日（由 … 调休）") names none."""
    found = {_PACKAGE_NAMES.get(name.split("（")[0]) for name in names} - {None}
    if found == {Festival.NATIONAL_DAY, Festival.MID_AUTUMN}:
        return Festival.NATIONAL_DAY_MID_AUTUMN
    return found.pop() if len(found) == 1 else Festival.OTHER


def schedule_from_package(region: str, year: int) -> YearSchedule:
    """The year's blocks as the `holidays` package implies them: each run of its days off,
    joined with the Saturdays and Sundays around and between them that are not adjusted
    working days. For a published year this gives the notice's blocks (tested for
    2024–2026); for a later year it is the estimate kehu uses until the schedule is entered.
    """
    package = holidays.country_holidays(region, years=(year - 1, year), language="zh_CN")
    working = frozenset(day for day in package.weekend_workdays if day.year == year)
    statutory = {day: name for day, name in package.items() if day.year == year}

    def day_off(day: date) -> bool:
        weekend = day.weekday() >= SATURDAY and day not in package.weekend_workdays
        return day in statutory or weekend

    blocks = []
    for day in sorted(statutory):
        if blocks and blocks[-1][-1] >= day:
            continue
        first = last = day
        while day_off(first - ONE_DAY):
            first -= ONE_DAY
        while day_off(last + ONE_DAY):
            last += ONE_DAY
        blocks.append((first, last))
    return YearSchedule(
        year=year,
        blocks=tuple(
            HolidayBlock(
                _festival(statutory[day] for day in statutory if first <= day <= last),
                first,
                last,
            )
            for first, last in blocks
        ),
        working_days=working,
        official=False,
        source=f"holidays {holidays.__version__}",
    )
