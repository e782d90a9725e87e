"""Service reports, read only: SLA met rates, the complaint iceberg, frequent complainants.

Every figure is aggregated by the database (GROUP BY and window functions); Python only
merges the few aggregated rows and labels them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    RowRange,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.service.models import Case, ComplaintCategory, ServiceSettings
from kehu.users.models import User

GROUPS = {"team": "team", "owner": "owner_id", "category": "category_id", "kind": "kind"}


def service_settings_get() -> ServiceSettings:
    """The desk's settings; the defaults until an admin first saves them."""
    return ServiceSettings.objects.order_by("pk").first() or ServiceSettings()


def report_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(day: date) -> date:
    return day.replace(day=1)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end`, in the report's time zone."""
    zone = report_zone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def months_before(instant: datetime, months: int) -> datetime:
    """The same local time `months` calendar months earlier (the 31st becomes the month's
    last day)."""
    local = timezone.localtime(instant, report_zone())
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _next_start(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return month_start(start.replace(day=28) + timedelta(days=4))


@dataclass(frozen=True)
class Periods:
    """Consecutive days, Monday weeks or calendar months covering a range of dates."""

    starts: tuple[date, ...]
    after: date

    @classmethod
    def covering(cls, start: date, end: date, period: str) -> "Periods":
        if period == "week":
            start -= timedelta(days=start.weekday())
        elif period == "month":
            start = month_start(start)
        starts = []
        while start <= end:
            starts.append(start)
            start = _next_start(start, period)
        return cls(tuple(starts), start)

    def index_of(self, field: str) -> SqlCase:
        """The number of the period an instant falls in, worked out by the database with
        plain comparisons: SQLite has no native time-zone truncation, and Django's (a
        Python function called per row) took a minute over 200,000 cases. Every period
        has its WHEN, so that even one period is an expression of the row to group by."""
        zone = report_zone()
        return SqlCase(
            *(
                When(
                    **{f"{field}__lt": datetime.combine(following, time.min, tzinfo=zone)},
                    then=Value(index),
                )
                for index, following in enumerate((*self.starts[1:], self.after))
            ),
            output_field=IntegerField(),
        )


# --- SLA report ------------------------------------------------------------------------


@dataclass
class Clock:
    """One target (first response or resolution) over the cases due in a period."""

    due: int = 0
    met: int = 0
    missed: int = 0
    median: int | None = None
    p90: int | None = None

    @property
    def pending(self) -> int:
        return self.due - self.met - self.missed

    @property
    def met_percent(self) -> float | None:
        return _percent(self.met, self.met + self.missed)

    @property
    def missed_percent(self) -> float | None:
        return _percent(self.missed, self.met + self.missed)


@dataclass
class SlaRow:
    period: date
    key: object
    label: str
    is_total: bool = False
    first_response: Clock = field(default_factory=Clock)
    resolution: Clock = field(default_factory=Clock)


@dataclass(frozen=True)
class _Target:
    due: str
    done: object
    breached: str
    minutes: object


# A case resolved without a written reply was answered when it was resolved.
_FIRST_RESPONSE = _Target(
    due="first_response_due_at",
    done=Coalesce("first_responded_at", "resolved_at"),
    breached="first_response_breached_at",
    minutes=Coalesce("first_response_business_minutes", "resolution_business_minutes"),
)
_RESOLUTION = _Target(
    due="resolution_due_at",
    done=F("resolved_at"),
    breached="resolution_breached_at",
    minutes=F("resolution_business_minutes"),
)


def _outcomes(target: _Target, now: datetime) -> tuple[Q, Q]:
    """Met: done by the due time and never recorded breached. Missed: recorded breached,
    done late, or not done, the clock running and the due time passed."""
    met = Q(done_at__isnull=False, done_at__lte=F(target.due)) & Q(
        **{f"{target.breached}__isnull": True}
    )
    missed = (
        Q(**{f"{target.breached}__isnull": False})
        | Q(done_at__gt=F(target.due))
        | Q(done_at__isnull=True, sla_paused_at__isnull=True, **{f"{target.due}__lte": now})
    )
    return met, missed


def _due_in(target: _Target, *, start: datetime, end: datetime, periods: Periods, by):
    cases = (
        Case.objects.order_by()
        .filter(**{f"{target.due}__gte": start, f"{target.due}__lt": end})
        .annotate(p=periods.index_of(target.due), done_at=target.done)
    )
    return cases.annotate(g=F(GROUPS[by])) if by else cases


def _keys(by: str | None) -> list[str]:
    return ["p", "g"] if by else ["p"]


def _clock_counts(target, cases, *, periods, by, now) -> dict[tuple, Clock]:
    met, missed = _outcomes(target, now)
    rows = cases.values(*_keys(by)).annotate(
        n=Count("pk"), met=Count("pk", filter=met), missed=Count("pk", filter=missed)
    )
    return {
        (periods.starts[row["p"]], row.get("g")): Clock(
            due=row["n"], met=row["met"], missed=row["missed"]
        )
        for row in rows
    }


def _clock_percentiles(target, cases, *, periods, by) -> dict[tuple, tuple]:
    """Nearest-rank median and 90th percentile of business minutes, per period and group:
    the database ranks each group's cases and returns only the two ranks wanted.

    One window (the count spans the whole partition in the rank's own order, so both share
    one sort), filtered by a plain outer query: Django's filter on window columns repeats
    them, and SQLite then sorted the cases four times."""
    partition = [F(key) for key in _keys(by)]
    order = F("m").asc()
    ranked = (
        cases.filter(done_at__isnull=False)
        .annotate(m=target.minutes)
        .filter(m__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=partition, order_by=order),
            n=Window(
                Count("pk"), partition_by=partition, order_by=order, frame=RowRange(None, None)
            ),
        )
        .values(*_keys(by), "rank", "n", "m")
    )
    inner, params = ranked.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in (*_keys(by), "rank", "n", "m"))
    rank, n = quote("rank"), quote("n")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM ({inner}) ranked "
            f"WHERE {rank} = ({n} + 1) / 2 OR {rank} = ({n} * 9 + 9) / 10",
            params,
        )
        picked = cursor.fetchall()
    found: dict[tuple, list[int | None]] = {}
    for *key, rank_of, count, minutes in picked:
        group = key[1] if by else None
        slot = found.setdefault((periods.starts[key[0]], group), [None, None])
        if rank_of == (count + 1) // 2:
            slot[0] = minutes
        if rank_of == (count * 9 + 9) // 10:
            slot[1] = minutes
    return {key: (median, p90) for key, (median, p90) in found.items()}


def _clocks(target, *, start, end, periods, by, now) -> dict[tuple, Clock]:
    cases = _due_in(target, start=start, end=end, periods=periods, by=by)
    clocks = _clock_counts(target, cases, periods=periods, by=by, now=now)
    for key, (median, p90) in _clock_percentiles(target, cases, periods=periods, by=by).items():
        clocks[key].median, clocks[key].p90 = median, p90
    return clocks


def _group_labels(by: str, keys: set) -> dict:
    if by == "owner":
        users = User.objects.filter(pk__in=[k for k in keys if k is not None])
        names = {user.pk: user.get_full_name() or user.username for user in users}
        return {key: names.get(key, _("(no owner)")) for key in keys}
    if by == "category":
        found = {c.pk: str(c) for c in ComplaintCategory.objects.filter(pk__in=keys - {None})}
        return {key: found.get(key, _("(no category)")) for key in keys}
    if by == "kind":
        return {key: str(Case.Kind(key).label) if key in Case.Kind.values else key for key in keys}
    return {key: key or _("(no team)") for key in keys}


def sla_report(
    *, start: date, end: date, period: str = "month", by: str = "team", now: datetime | None = None
) -> list[SlaRow]:
    """Per period and group, then a total per period: the first-response and resolution
    targets that fell due from `start` to `end` (dates in the report's time zone).

    A case counts for each target in the period in which that target fell due, whatever
    happened since. Met: done by the due time. Missed: done late, recorded breached, or
    still not done with the due time passed and the clock running. The rest are pending
    (not yet due, or the clock paused waiting on the customer) and count in neither
    percentage. Median and 90th percentile: business minutes from opening to the first
    reply (or to resolution when there was none) and to resolution, pauses not counted.
    """
    now = now or timezone.now()
    start_at, end_at = day_bounds(start, end)
    periods = Periods.covering(start, end, period)
    rows: dict[tuple, SlaRow] = {}
    for grouping in (by, None):
        for name, target in (("first_response", _FIRST_RESPONSE), ("resolution", _RESOLUTION)):
            clocks = _clocks(
                target, start=start_at, end=end_at, periods=periods, by=grouping, now=now
            )
            for (day, group), clock in clocks.items():
                key = (day, grouping is None, group if grouping else None)
                row = rows.setdefault(
                    key, SlaRow(period=day, key=key[2], label="", is_total=key[1])
                )
                setattr(row, name, clock)
    labels = _group_labels(by, {row.key for row in rows.values() if not row.is_total})
    for (_day, total, _group), row in rows.items():
        row.label = _("All") if total else labels[row.key]
    return [rows[key] for key in sorted(rows, key=lambda k: (k[0], k[1], rows[k].label))]


# --- The iceberg -----------------------------------------------------------------------


@dataclass
class IcebergRow:
    period: date | None
    category: str
    complaints: int
    customers: int
    estimated: int


def estimate_dissatisfied(customers: int, rate_percent: Decimal) -> int:
    """Complaining customers stand for customers / rate dissatisfied ones."""
    return int((Decimal(customers) * 100 / Decimal(rate_percent)).to_integral_value(ROUND_HALF_UP))


def iceberg(
    *, start: date, end: date, period: str = "month", rate_percent: Decimal
) -> tuple[list[IcebergRow], list[IcebergRow]]:
    """Complaints received from `start` to `end` per period and category, and per category
    over the whole range: complaints, distinct complaining customers, and the estimate of
    dissatisfied customers those stand for at the given complaint rate."""
    start_at, end_at = day_bounds(start, end)
    complaints = Case.objects.order_by().filter(
        kind=Case.Kind.COMPLAINT, created_at__gte=start_at, created_at__lt=end_at
    )
    names = {c.pk: str(c) for c in ComplaintCategory.objects.all()}

    def row(period, values) -> IcebergRow:
        return IcebergRow(
            period=period,
            category=names.get(values["category_id"], _("(no category)")),
            complaints=values["complaints"],
            customers=values["customers"],
            estimated=estimate_dissatisfied(values["customers"], rate_percent),
        )

    counts = {"complaints": Count("pk"), "customers": Count("customer_id", distinct=True)}
    periods_of = Periods.covering(start, end, period)
    by_period = (
        complaints.annotate(p=periods_of.index_of("created_at"))
        .values("p", "category_id")
        .annotate(**counts)
    )
    totals = complaints.values("category_id").annotate(**counts)
    periods = sorted(
        (row(periods_of.starts[v["p"]], v) for v in by_period),
        key=lambda r: (r.period, r.category),
    )
    return periods, sorted((row(None, v) for v in totals), key=lambda r: -r.complaints)


# --- Frequent complainants -------------------------------------------------------------


@dataclass(frozen=True)
class ComplainantFlag:
    complaints: int
    months: int


def _recent_complaints(*, now: datetime | None, settings_: ServiceSettings) -> QuerySet[Case]:
    since = months_before(now or timezone.now(), settings_.habitual_window_months)
    return Case.objects.order_by().filter(kind=Case.Kind.COMPLAINT, created_at__gte=since)


def complainant_flag(*, customer_id: int, now: datetime | None = None) -> ComplainantFlag | None:
    """Set when the customer made more complaints than the threshold within the window."""
    found = service_settings_get()
    count = _recent_complaints(now=now, settings_=found).filter(customer_id=customer_id).count()
    if count > found.habitual_threshold:
        return ComplainantFlag(complaints=count, months=found.habitual_window_months)
    return None


def only_frequent_complainants(cases: QuerySet[Case], *, now: datetime | None = None):
    """`cases` of flagged customers only. Each row's customer is counted from an index as
    the database walks the cases in order, so a page stops early instead of counting every
    customer's complaints first."""
    found = service_settings_get()
    counts = (
        _recent_complaints(now=now, settings_=found)
        .filter(customer=OuterRef("customer"))
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return cases.alias(recent_complaints=Subquery(counts, output_field=IntegerField())).filter(
        recent_complaints__gt=found.habitual_threshold
    )


def frequent_complainants(*, now: datetime | None = None, limit: int = 200) -> list[dict]:
    """The flagged customers, most complaints first, with their count and latest one."""
    found = service_settings_get()
    rows = (
        _recent_complaints(now=now, settings_=found)
        .values("customer_id", "customer__name", "customer__number")
        .annotate(complaints=Count("pk"), latest=Max("created_at"))
        .filter(complaints__gt=found.habitual_threshold)
        .order_by("-complaints", "-latest")[:limit]
    )
    return list(rows)
