"""China's holiday blocks on desks open six and seven days a week, checked date by date
against the State Council's 2026 notice, and the years whose schedule is not out yet."""

from datetime import UTC, date, datetime, timedelta

import pytest

from kehu.service.calendars import DayKind, PublicDays, WorkingTime
from kehu.service.holiday_schedules import (
    PUBLISHED,
    Festival,
    HolidayBlock,
    schedule_from_package,
    schedule_problems,
)
from tests.conftest import logged_in
from tests.service.calendars_fixtures import ALL_DAY, HOUR, OFFICE_DAY, SHANGHAI

# 国务院办公厅关于2026年部分节假日安排的通知, typed in again here, independently of the data.
NOTICE_2026_BLOCKS = [
    ("2026-01-01", "2026-01-03"),
    ("2026-02-15", "2026-02-23"),
    ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"),
    ("2026-06-19", "2026-06-21"),
    ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
]
NOTICE_2026_WORKING = [
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
]


def _notice_days() -> tuple[set[date], set[date]]:
    closed = set()
    for first, last in NOTICE_2026_BLOCKS:
        day = date.fromisoformat(first)
        while day <= date.fromisoformat(last):
            closed.add(day)
            day += timedelta(days=1)
    return closed, {date.fromisoformat(d) for d in NOTICE_2026_WORKING}


def _desk(open_weekdays: int) -> WorkingTime:
    return WorkingTime(
        time_zone=SHANGHAI,
        week=(OFFICE_DAY,) * open_weekdays + ((),) * (7 - open_weekdays),
        public_days=PublicDays("CN"),
    )


@pytest.mark.parametrize("open_weekdays", [5, 6, 7])
def test_every_day_of_2026_as_the_notice_says_on_five_six_and_seven_day_desks(open_weekdays):
    closed, working = _notice_days()
    desk = _desk(open_weekdays)
    day = date(2026, 1, 1)
    while day.year == 2026:
        if day in closed:
            expected = ()
        elif day in working or day.weekday() < open_weekdays:
            expected = OFFICE_DAY
        else:
            expected = ()
        assert desk.day_hours(day) == expected, day
        day += timedelta(days=1)


def test_the_weekend_days_inside_2026_blocks_are_closed_on_a_seven_day_desk():
    desk = _desk(7)
    for day in [
        "2026-01-03",
        "2026-02-15",
        "2026-02-21",
        "2026-02-22",
        "2026-04-04",
        "2026-05-03",
        "2026-06-20",
        "2026-06-21",
        "2026-09-26",
        "2026-09-27",
        "2026-10-03",
        "2026-10-04",
    ]:
        assert desk.day_hours(date.fromisoformat(day)) == (), day
    assert desk.day_hours(date(2026, 10, 10)) == OFFICE_DAY  # 调休 Saturday


def test_sla_deadlines_jump_the_whole_block_on_a_monday_to_saturday_desk():
    desk = _desk(6)
    # Friday 13 February 2026, 17:00: one hour that day, 7.5 on Saturday 14th (open, and a
    # 调休 day anyway), then closed from Sunday 15th to Monday 23rd: the last half hour is on
    # Tuesday 24th.
    start = datetime(2026, 2, 13, 17, 0, tzinfo=SHANGHAI)
    ends = desk.deadline_after(start=start, business_duration=9 * HOUR)
    assert ends.astimezone(SHANGHAI) == datetime(2026, 2, 24, 9, 30, tzinfo=SHANGHAI)
    # May Day on a seven-day desk: Thursday 30 April 17:00, closed 1–5 May.
    desk = _desk(7)
    start = datetime(2026, 4, 30, 17, 0, tzinfo=SHANGHAI)
    ends = desk.deadline_after(start=start, business_duration=2 * HOUR)
    assert ends.astimezone(SHANGHAI) == datetime(2026, 5, 6, 10, 0, tzinfo=SHANGHAI)
    # National Day round the clock: 30 September 23:00 plus two hours is 8 October 01:00.
    round_the_clock = WorkingTime(
        time_zone=SHANGHAI, week=(ALL_DAY,) * 7, public_days=PublicDays("CN")
    )
    start = datetime(2026, 9, 30, 23, 0, tzinfo=SHANGHAI)
    ends = round_the_clock.deadline_after(start=start, business_duration=2 * HOUR)
    assert ends.astimezone(SHANGHAI) == datetime(2026, 10, 8, 1, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("year", sorted(PUBLISHED["CN"]))
def test_the_package_implies_the_same_blocks_as_the_published_schedules(year):
    """Where the package and the notice disagree kehu's copy wins; today they agree once
    the weekend days are joined to the blocks, which is how provisional years are guessed."""
    derived = schedule_from_package("CN", year)
    published = PUBLISHED["CN"][year]
    assert derived.blocks == published.blocks
    assert derived.working_days == published.working_days


def test_kehus_copy_wins_over_the_package():
    days = PublicDays("CN")
    # The package has 3 October 2026 (Saturday) as National Day but knows nothing of
    # Sunday 4 October: kehu's copy closes both.
    assert days(date(2026, 10, 4)) is DayKind.CLOSED
    assert days(date(2023, 12, 30)) is DayKind.CLOSED  # 2024's New Year block
    assert days(date(2026, 10, 8)) is None


def test_an_unpublished_year_is_provisional_and_estimated():
    days = PublicDays("CN")
    assert not days.is_provisional(2026) and not days.is_provisional(2019)
    assert days.is_provisional(2027)
    # Friday 1 January 2027 and the weekend after it, by estimate.
    assert [days(date(2027, 1, d)) for d in (1, 2, 3, 4)] == [DayKind.CLOSED] * 3 + [None]
    desk = _desk(5)
    assert desk.is_provisional(datetime(2027, 3, 1, 9, tzinfo=SHANGHAI))
    # 31 December 2026, 16:30 UTC is already 2027 in Shanghai.
    assert desk.is_provisional(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert not desk.is_provisional(datetime(2026, 12, 31, 15, 30, tzinfo=UTC))
    assert not PublicDays("US").is_provisional(2027)


def test_an_entered_year_is_no_longer_provisional_and_wins_over_the_estimate():
    entered = schedule_from_package("CN", 2027)
    official = type(entered)(
        year=2027,
        blocks=(HolidayBlock(Festival.SPRING_FESTIVAL, date(2027, 2, 5), date(2027, 2, 13)),),
        working_days=frozenset({date(2027, 2, 14)}),
        source="entered",
    )
    calls = []
    days = PublicDays("CN", entered=lambda: calls.append(1) or {2027: official})
    assert days(date(2026, 6, 1)) is None and not calls  # a published year asks nothing
    assert not days.is_provisional(2027)
    assert days(date(2027, 2, 13)) is DayKind.CLOSED
    assert days(date(2027, 2, 14)) is DayKind.WORKING
    assert days(date(2027, 1, 1)) is None  # not in what was entered
    assert calls == [1]


def test_schedule_problems_name_what_is_wrong():
    block = HolidayBlock(Festival.LABOUR_DAY, date(2027, 5, 1), date(2027, 5, 5))
    assert schedule_problems(year=2027, blocks=[block], working_days=[date(2027, 5, 8)]) == []
    assert schedule_problems(year=2027, blocks=[], working_days=[]) == ["no_blocks"]
    backwards = HolidayBlock(Festival.LABOUR_DAY, date(2027, 5, 5), date(2027, 5, 1))
    overlapping = HolidayBlock(Festival.OTHER, date(2027, 5, 4), date(2027, 5, 6))
    assert schedule_problems(
        year=2027,
        blocks=[block, overlapping, backwards],
        working_days=[date(2027, 5, 2), date(2028, 1, 2)],
    ) == ["block_backwards", "blocks_overlap", "working_day_in_block", "working_day_outside_year"]


def test_the_preview_and_the_case_page_say_provisional_for_deadlines_in_2027(
    supervisor, agent, time_machine
):
    from kehu.customers import services as customer_services
    from kehu.service import services
    from kehu.service.models import Case, default_hours

    calendar = services.calendar_create(
        name="Office", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )
    time_machine.move_to(datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI), tick=True)
    supervisor_client, agent_client = logged_in(supervisor), logged_in(agent)
    page = supervisor_client.get(f"/service/calendars/{calendar.pk}/?hours=4").content.decode()
    assert "A target of 4 business hours" in page
    assert "preview-provisional" not in page  # still in 2026
    page = supervisor_client.get(f"/service/calendars/{calendar.pk}/?hours=40").content.decode()
    assert "preview-provisional" in page and "schedule of 2027 is not published" in page
    assert agent_client.get(f"/service/calendars/{calendar.pk}/").status_code == 403

    services.sla_policy_create(
        name="complaints",
        kind="",
        priority="",
        key_accounts=False,
        calendar=calendar,
        first_response_minutes=60,
        resolution_minutes=40 * 60,
    )
    customer = customer_services.customer_create(actor=agent, kind="individual", name="李娜")
    case = services.case_create(
        actor=agent,
        customer=customer,
        kind=Case.Kind.COMPLAINT,
        channel="phone",
        subject="话费",
        now=datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI),
    )
    page = agent_client.get(f"/cases/{case.pk}/").content.decode()
    # The first response is due on 30 December, the resolution in January 2027.
    assert page.count(">provisional</abbr>") == 1


def test_the_calendars_page_warns_of_a_provisional_year_within_sixty_days(
    supervisor, time_machine, settings
):
    from kehu.service import services
    from kehu.service.models import default_hours

    services.calendar_create(
        name="Office", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )
    time_machine.move_to(datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI), tick=True)
    page = logged_in(supervisor).get("/service/calendars/").content.decode()
    assert "Business calendars" in page and "provisional-CN" not in page  # 92 days ahead
    time_machine.move_to(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=True)
    page = logged_in(supervisor).get("/service/calendars/").content.decode()
    assert 'id="provisional-CN-2027"' in page
    assert "The official holiday schedule of 2027 (CN) is not published yet" in page
    settings.LANGUAGE_CODE = "zh-hans"
    page = logged_in(supervisor).get("/service/calendars/").content.decode()
    assert "2027 年（CN）官方节假日安排尚未公布" in page
    time_machine.move_to(datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI), tick=True)
    page = logged_in(supervisor).get("/service/calendars/").content.decode()
    assert 'id="provisional-CN-2027"' in page  # still not entered, and already begun


def test_supervisors_are_emailed_once_when_a_provisional_year_comes_within_sixty_days(
    supervisor, agent, settings
):
    from django.core import mail
    from django.test import TestCase

    from kehu.service import services
    from kehu.service.models import default_hours

    settings.LANGUAGE_CODE = "zh-hans"
    supervisor.email = "boss@example.com"
    supervisor.save()
    agent.email = "agent@example.com"
    agent.save()
    services.calendar_create(
        name="Office", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.provisional_year_notices_send(now=datetime(2026, 10, 1, tzinfo=UTC)) == 0
    assert mail.outbox == []
    for day in (5, 6):  # told once, not every morning
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.provisional_year_notices_send(now=datetime(2026, 11, day, tzinfo=UTC))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@example.com"]
    assert message.subject == "2027 年节假日安排尚未公布"
    assert "2027 年（CN）官方节假日安排尚未公布" in message.body
