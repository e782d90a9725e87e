"""Reading business calendars, and turning one into the WorkingTime the SLA clocks use."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db.models import Case as DbCase
from django.db.models import Count, F, Q, QuerySet, Sum, When
from django.utils.translation import get_language, to_locale
from moneyed import Money
from moneyed.l10n import format_money

from kehu.service.calendars import (
    NO_PUBLIC_DAYS,
    DayKind,
    PublicDays,
    WorkingTime,
    weekly_hours_from_json,
)
from kehu.service.models import (
    AuthorityLimit,
    BusinessCalendar,
    CalendarDay,
    Case,
    CaseAttachment,
    CaseNote,
    ImprovementAction,
    Remedy,
    RootCause,
    SlaPolicy,
)
from kehu.service.reports import only_frequent_complainants
from kehu.users.models import User
from kehu.users.roles import Capability, Role, role_can

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
        public_days=PublicDays(calendar.region) if calendar.region else NO_PUBLIC_DAYS,
    )


# How long before a provisional year begins supervisors are told about it.
PROVISIONAL_NOTICE_DAYS = 60


def provisional_years_ahead(*, today: date) -> list[tuple[str, int]]:
    """(region, year) of every calendar region whose current or next year is provisional
    and begins within PROVISIONAL_NOTICE_DAYS: its official holidays still have to be
    checked, and its deadlines may move."""
    found = []
    regions = sorted(
        set(BusinessCalendar.objects.exclude(region="").values_list("region", flat=True))
    )
    for region in regions:
        public_days = PublicDays(region)
        for year in (today.year, today.year + 1):
            if (date(year, 1, 1) - today).days <= PROVISIONAL_NOTICE_DAYS and (
                public_days.is_provisional(year)
            ):
                found.append((region, year))
                break
    return found


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


def sla_policy_for(
    *, kind: str, priority: str, key_account: bool, values: set[str] | frozenset[str] = frozenset()
) -> SlaPolicy | None:
    """The most specific matching policy: key accounts first, then customer value (the
    conditions in `values` the customer meets), then kind, then priority."""
    candidates = SlaPolicy.objects.filter(
        kind__in=[kind, ""],
        priority__in=[priority, ""],
        key_accounts__in=[False, True] if key_account else [False],
        customer_value__in=["", *sorted(values)],
    ).select_related("calendar")
    return max(
        candidates,
        key=lambda p: (
            p.key_accounts,
            p.customer_value != "",
            p.kind != "",
            p.priority != "",
            -p.pk,
        ),
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


def case_deadlines_provisional(*, case: Case) -> dict[str, bool]:
    """Which of the case's due times fall in a year whose official holidays are only
    estimated (see holiday_schedules), so that they may move; no query."""
    calendar = case.calendar
    if calendar is None or not calendar.region:
        return {"first_response": False, "resolution": False}
    public_days = PublicDays(calendar.region)
    zone = ZoneInfo(calendar.time_zone)
    return {
        name: due is not None and public_days.is_provisional(due.astimezone(zone).year)
        for name, due in (
            ("first_response", case.first_response_due_at),
            ("resolution", case.resolution_due_at),
        )
    }


def case_history(*, case: Case) -> list:
    return list(case.events.select_related("actor"))


def case_notes(*, case: Case) -> list[CaseNote]:
    return list(case.notes.select_related("author"))


# --- Authority and approval -------------------------------------------------------------


def authority_limit(*, role: str) -> Decimal | None:
    """The most a role may give on one case without approval; None: no limit. A role
    nobody set a limit for gives nothing on its own."""
    limit = AuthorityLimit.objects.filter(role=role).first()
    return Decimal(0) if limit is None else limit.max_amount


def authority_limits() -> list[AuthorityLimit]:
    """One row per role, in the roles' order, unsaved where none is stored."""
    stored = {limit.role: limit for limit in AuthorityLimit.objects.select_related("updated_by")}
    return [stored.get(role) or AuthorityLimit(role=role, max_amount=Decimal(0)) for role in Role]


def case_remedies_given(*, case: Case) -> Decimal:
    given = Remedy.objects.filter(case=case, status__in=Remedy.GIVEN_STATUSES).aggregate(
        total=Sum("amount")
    )["total"]
    return given or Decimal(0)


def case_remedies(*, case: Case) -> list[Remedy]:
    return list(case.remedies.select_related("requested_by", "decided_by"))


def remedies_pending() -> QuerySet[Remedy]:
    """Requests waiting for a supervisor, oldest first."""
    return Remedy.objects.filter(status=Remedy.Status.PENDING).select_related(
        "case", "case__customer", "requested_by"
    )


def money_display(amount: Decimal, currency: str = "") -> str:
    """The amount as people of the current language write money: ¥1,200.00 / CN¥1,200.00."""
    return format_money(
        Money(amount, currency or settings.KEHU_CURRENCY),
        locale=to_locale(get_language() or settings.LANGUAGE_CODE),
    )


def supervisors() -> QuerySet[User]:
    """Whom a case can be handed up to."""
    roles = [role for role in Role if role_can(role, Capability.REMEDY_APPROVE)]
    return User.objects.filter(is_active=True, role__in=roles).order_by("username")


# --- Root causes and improvement actions ------------------------------------------------


def root_causes_active() -> QuerySet[RootCause]:
    return RootCause.objects.filter(is_active=True)


@dataclass(frozen=True)
class RootCauseRank:
    root_cause: RootCause
    complaints: int
    customers: int
    key_accounts: int
    given: Decimal
    open_actions: int
    # What the touched customers bought (net of refunds) in the 12 months before the end.
    revenue: Decimal


def root_cause_ranking(*, start: datetime, end: datetime) -> list[RootCauseRank]:
    """Root causes of complaints opened in [start, end), most complaints first: how many,
    how many customers and key accounts they touched, what those customers are worth
    (their last 12 months' purchases) and what goodwill the complaints cost."""
    from kehu.sales.models import Transaction

    complaints = Case.objects.filter(
        kind=Case.Kind.COMPLAINT,
        root_cause__isnull=False,
        created_at__gte=start,
        created_at__lt=end,
    )
    counted = {
        row["root_cause"]: row
        for row in complaints.values("root_cause").annotate(
            complaints=Count("pk"), customers=Count("customer", distinct=True)
        )
    }
    key_accounts = dict(
        complaints.filter(customer__tags__name__in=KEY_ACCOUNT_TAGS)
        .values("root_cause")
        .annotate(n=Count("customer", distinct=True))
        .values_list("root_cause", "n")
    )
    given = dict(
        Remedy.objects.filter(case__in=complaints, status__in=Remedy.GIVEN_STATUSES)
        .values("case__root_cause")
        .annotate(total=Sum("amount"))
        .values_list("case__root_cause", "total")
    )
    open_actions = dict(
        ImprovementAction.objects.filter(
            status__in=(ImprovementAction.Status.OPEN, ImprovementAction.Status.IN_PROGRESS),
            root_cause__in=counted,
        )
        .values("root_cause")
        .annotate(n=Count("pk"))
        .values_list("root_cause", "n")
    )
    customers_of: dict[int, set[int]] = {}
    for cause_pk, customer_pk in complaints.values_list("root_cause", "customer").distinct():
        customers_of.setdefault(cause_pk, set()).add(customer_pk)
    signed = Sum(DbCase(When(kind=Transaction.Kind.REFUND, then=-F("amount")), default=F("amount")))
    bought = dict(
        Transaction.objects.filter(
            customer__in={pk for pks in customers_of.values() for pk in pks},
            occurred_at__gte=end - timedelta(days=365),
            occurred_at__lt=end,
        )
        .values("customer")
        .annotate(net=signed)
        .values_list("customer", "net")
    )
    causes = RootCause.objects.in_bulk(counted)
    ranks = [
        RootCauseRank(
            root_cause=causes[pk],
            complaints=row["complaints"],
            customers=row["customers"],
            key_accounts=key_accounts.get(pk, 0),
            given=given.get(pk) or Decimal(0),
            open_actions=open_actions.get(pk, 0),
            revenue=sum(
                (bought.get(c) or Decimal(0) for c in customers_of.get(pk, ())), Decimal(0)
            ),
        )
        for pk, row in counted.items()
    ]
    return sorted(ranks, key=lambda r: (-r.complaints, -r.given, r.root_cause.position))


def improvement_actions(*, status: str = "") -> QuerySet[ImprovementAction]:
    """Actions soonest due first; status "active" means open or in progress."""
    actions = ImprovementAction.objects.select_related("owner", "root_cause").annotate(
        complaints=Count("cases")
    )
    if status == "active":
        return actions.filter(
            status__in=(ImprovementAction.Status.OPEN, ImprovementAction.Status.IN_PROGRESS)
        )
    return actions.filter(status=status) if status else actions


def case_attachments(*, case: Case) -> list[CaseAttachment]:
    return list(case.attachments.select_related("uploaded_by"))
