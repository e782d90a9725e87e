"""Business calendars as stored and edited by supervisors and admins."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.service import selectors, services
from kehu.service.calendars import DayKind
from kehu.service.models import BusinessCalendar, CalendarDay, default_hours

from ..conftest import logged_in
from .calendars_fixtures import HOUR, at

WEEKDAY_HOURS = {f"hours_{weekday}": "09:00-12:00, 13:30-18:00" for weekday in range(5)}


def calendar_post(**fields) -> dict:
    return {
        "name": "客服中心",
        "time_zone": "Asia/Shanghai",
        "region": "CN",
        **WEEKDAY_HOURS,
        "hours_5": "",
        "hours_6": "",
        **fields,
    }


@pytest.fixture
def calendar(db) -> BusinessCalendar:
    return services.calendar_create(
        name="客服中心", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )


def snapshot() -> list:
    return [
        list(BusinessCalendar.objects.order_by("pk").values()),
        list(CalendarDay.objects.order_by("pk").values()),
    ]


# --- Who may --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "manager", "analyst"])
def test_only_supervisors_and_admins_configure_calendars(request, role, calendar):
    client = logged_in(request.getfixturevalue(role))
    override = services.calendar_day_set(calendar=calendar, day=date(2026, 12, 31), kind="holiday")
    before = snapshot()
    for url in (
        reverse("service:calendars"),
        reverse("service:calendar", args=[calendar.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("service:calendars"), calendar_post(name="x")).status_code == 403
    assert (
        client.post(
            reverse("service:calendar", args=[calendar.pk]), calendar_post(region="")
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("service:day_add", args=[calendar.pk]),
            {"day": "2026-10-06", "kind": "working"},
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("service:day_remove", args=[calendar.pk, override.pk])).status_code
        == 403
    )
    assert snapshot() == before


def test_the_menu_shows_calendars_to_those_who_may(supervisor_client, agent_client):
    assert reverse("service:calendars") in supervisor_client.get("/").content.decode()
    assert reverse("service:calendars") not in agent_client.get("/").content.decode()


# --- Creating and editing -------------------------------------------------------------


def test_a_supervisor_creates_the_first_calendar_which_becomes_the_default(supervisor_client):
    # Chinese punctuation is read as well as ASCII.
    response = supervisor_client.post(
        reverse("service:calendars"),
        calendar_post(hours_0="9:00－12:00，13:30-18:00", hours_5="9:00~12:00"),
    )
    calendar = BusinessCalendar.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("service:calendar", args=[calendar.pk])
    assert calendar.is_default
    assert calendar.hours[0] == [["09:00", "12:00"], ["13:30", "18:00"]]
    assert calendar.hours[5] == [["09:00", "12:00"]]
    assert calendar.hours[6] == []
    assert selectors.calendar_default() == calendar


@pytest.mark.parametrize(
    "fields",
    [
        {"hours_0": "09:00-12:00, 11:00-18:00"},  # overlapping
        {"hours_0": "18:00-09:00"},  # backwards
        {"hours_0": "nine to five"},
        {"time_zone": "Mars/Olympus_Mons"},
        {"region": "XX"},
        {"name": ""},
        {f"hours_{weekday}": "" for weekday in range(7)},  # never open
    ],
)
def test_bad_calendars_are_refused_and_nothing_is_saved(admin_client, fields):
    response = admin_client.post(reverse("service:calendars"), calendar_post(**fields))
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_a_duplicate_name_is_refused(admin_client, calendar):
    response = admin_client.post(reverse("service:calendars"), calendar_post())
    assert response.status_code == 200
    assert BusinessCalendar.objects.count() == 1


def test_an_admin_changes_the_hours_and_the_region(admin_client, calendar):
    response = admin_client.post(
        reverse("service:calendar", args=[calendar.pk]),
        calendar_post(
            name="24小时热线",
            region="",
            time_zone="America/New_York",
            **{f"hours_{weekday}": "00:00-24:00" for weekday in range(7)},
        ),
    )
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert calendar.name == "24小时热线"
    assert calendar.region == ""
    assert calendar.time_zone == "America/New_York"
    assert calendar.hours == [[["00:00", "24:00"]]] * 7
    assert calendar.is_default  # unticking cannot leave the desk without a default


def test_making_another_calendar_the_default_takes_the_flag(admin_client, calendar):
    other = services.calendar_create(
        name="大客户专线", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )
    assert not other.is_default
    admin_client.post(
        reverse("service:calendar", args=[other.pk]),
        calendar_post(name="大客户专线", is_default="on"),
    )
    assert selectors.calendar_default() == other
    calendar.refresh_from_db()
    assert not calendar.is_default


# --- Override days --------------------------------------------------------------------


def test_an_override_day_beats_the_holiday_package(supervisor_client, calendar):
    evening_before = at(2026, 9, 30, 17)
    working_time = selectors.working_time_for(calendar=calendar)
    assert working_time.deadline_after(start=evening_before, business_duration=2 * HOUR) == at(
        2026, 10, 8, 10
    )
    response = supervisor_client.post(
        reverse("service:day_add", args=[calendar.pk]),
        {"day": "2026-10-06", "kind": "working", "name": "国庆值班"},
    )
    assert response.status_code == 302
    working_time = selectors.working_time_for(calendar=calendar)
    assert working_time.day_kind(date(2026, 10, 6)) is DayKind.WORKING
    assert working_time.deadline_after(start=evening_before, business_duration=2 * HOUR) == at(
        2026, 10, 6, 10
    )


def test_an_override_can_close_an_adjusted_working_day(supervisor_client, calendar):
    supervisor_client.post(
        reverse("service:day_add", args=[calendar.pk]),
        {"day": "2026-09-20", "kind": "holiday", "name": "团建"},
    )
    working_time = selectors.working_time_for(calendar=calendar)
    assert working_time.day_hours(date(2026, 9, 20)) == ()


def test_a_second_override_of_the_same_date_replaces_the_first(supervisor_client, calendar):
    url = reverse("service:day_add", args=[calendar.pk])
    supervisor_client.post(url, {"day": "2026-10-06", "kind": "working"})
    supervisor_client.post(url, {"day": "2026-10-06", "kind": "holiday", "name": "还是休息"})
    override = CalendarDay.objects.get()
    assert (override.kind, override.name) == ("holiday", "还是休息")


def test_a_bad_override_is_refused(supervisor_client, calendar):
    response = supervisor_client.post(
        reverse("service:day_add", args=[calendar.pk]), {"day": "2026-02-30", "kind": "working"}
    )
    assert response.status_code == 200
    assert not CalendarDay.objects.exists()


def test_removing_an_override_restores_the_package(supervisor_client, calendar):
    override = services.calendar_day_set(calendar=calendar, day=date(2026, 10, 6), kind="working")
    response = supervisor_client.post(
        reverse("service:day_remove", args=[calendar.pk, override.pk])
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    working_time = selectors.working_time_for(calendar=calendar)
    assert working_time.day_kind(date(2026, 10, 6)) is DayKind.CLOSED


def test_an_override_is_removed_only_from_its_own_calendar(supervisor_client, calendar):
    other = services.calendar_create(
        name="大客户专线", time_zone="Asia/Shanghai", hours=default_hours(), region="CN"
    )
    override = services.calendar_day_set(calendar=other, day=date(2026, 10, 6), kind="working")
    response = supervisor_client.post(
        reverse("service:day_remove", args=[calendar.pk, override.pk])
    )
    assert response.status_code == 404
    assert CalendarDay.objects.filter(pk=override.pk).exists()


# --- What the page shows --------------------------------------------------------------


def test_the_page_previews_a_target_started_now(supervisor_client, calendar):
    working_time = selectors.working_time_for(calendar=calendar)
    page = supervisor_client.get(reverse("service:calendar", args=[calendar.pk]))
    text = page.content.decode()
    assert "A target of 8 business hours started now" in text
    expected = working_time.deadline_after(start=timezone.now(), business_duration=8 * HOUR)
    # The minute may turn between the page and this line.
    assert any((expected - timedelta(minutes=m)).strftime("%Y-%m-%d") in text for m in (0, 1))
    page = supervisor_client.get(reverse("service:calendar", args=[calendar.pk]), {"hours": 24})
    assert "A target of 24 business hours started now" in page.content.decode()


def test_the_page_lists_the_package_days_of_the_coming_year(supervisor_client, calendar):
    services.calendar_day_set(
        calendar=calendar, day=date(2026, 12, 31), kind="holiday", name="年会"
    )
    page = supervisor_client.get(reverse("service:calendar", args=[calendar.pk])).content.decode()
    next_new_year = date(timezone.localdate().year + 1, 1, 1)
    assert f"{next_new_year:%Y-%m-%d}" in page
    assert "年会" in page


def test_package_days_are_named_in_the_language_asked(db):
    days = selectors.package_days(
        region="CN", start=date(2026, 9, 1), end=date(2026, 10, 31), language="zh_CN"
    )
    assert (date(2026, 9, 20), DayKind.WORKING) in [(d.date, d.kind) for d in days]
    assert next(d.name for d in days if d.date == date(2026, 10, 1)) == "国庆节"


def test_the_list_shows_hours_a_week(supervisor_client, calendar):
    page = supervisor_client.get(reverse("service:calendars")).content.decode()
    assert "客服中心" in page
    assert "37.5" in page
