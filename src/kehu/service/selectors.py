"""Reading business calendars, and turning one into the WorkingTime the SLA clocks use."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import holidays
from django.db.models import F, Q, QuerySet

from kehu.service.calendars import (
    DayKind,
    PublicDays,
    WorkingTime,
    no_public_days,
    weekly_hours_from_json,
)
from kehu.service.models import BusinessCalendar, CalendarDay, Case, CaseNote, SlaPolicy
from kehu.service.reports import only_frequent_complainants

# Customers with one of these tags are key accounts, whose SLA policies may be faster.
KEY_ACCOUNT_TAGS = ("VIP", "大客户")

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


# --- Service cases ----------------------------------------------------------------------


def customer_is_key_account(customer) -> bool:
    return customer.tags.filter(name__in=KEY_ACCOUNT_TAGS).exists()


def sla_policy_for(*, kind: str, priority: str, key_account: bool) -> SlaPolicy | None:
    """The most specific matching policy: key accounts first, then kind, then priority."""
    candidates = SlaPolicy.objects.filter(
        kind__in=[kind, ""],
        priority__in=[priority, ""],
        key_accounts__in=[False, True] if key_account else [False],
    ).select_related("calendar")
    return max(
        candidates,
        key=lambda p: (p.key_accounts, p.kind != "", p.priority != "", -p.pk),
        default=None,
    )


class SlaState:
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"


_BREACHED = Q(first_response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
_SLA_FILTERS = {
    SlaState.BREACHED: _BREACHED,
    SlaState.WARNING: ~_BREACHED & Q(warned_at__isnull=False),
    SlaState.ON_TRACK: ~_BREACHED & Q(warned_at__isnull=True),
}


def case_sla_state(case: Case) -> str:
    if case.first_response_breached_at or case.resolution_breached_at:
        return SlaState.BREACHED
    if case.warned_at:
        return SlaState.WARNING
    return SlaState.ON_TRACK


def case_list(
    *,
    status: str = "",
    owner=None,
    sla_state: str = "",
    customer=None,
    frequent_complainants: bool = False,
) -> QuerySet[Case]:
    """Cases newest first, filtered; status "open" means any status before resolved."""
    cases = Case.objects.select_related("customer", "owner", "category")
    if status == "open":
        cases = cases.filter(status__in=Case.OPEN_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    if owner is not None:
        cases = cases.filter(owner=owner)
    if customer is not None:
        cases = cases.filter(customer=customer)
    if sla_state in _SLA_FILTERS:
        cases = cases.filter(_SLA_FILTERS[sla_state])
    if frequent_complainants:
        cases = only_frequent_complainants(cases)
    return cases


def customer_open_cases(*, customer, limit: int = 10) -> list[tuple[Case, str]]:
    """The customer's open cases with their SLA state, soonest due first: one query."""
    cases = Case.objects.filter(customer=customer, status__in=Case.OPEN_STATUSES).order_by(
        F("resolution_due_at").asc(nulls_last=True), "-created_at"
    )[:limit]
    return [(case, case_sla_state(case)) for case in cases]


def case_detail(*, pk: int) -> Case:
    return Case.objects.select_related(
        "customer", "contact", "owner", "category", "calendar", "sla_policy"
    ).get(pk=pk)


def case_history(*, case: Case) -> list:
    return list(case.events.select_related("actor"))


def case_notes(*, case: Case) -> list[CaseNote]:
    return list(case.notes.select_related("author"))
