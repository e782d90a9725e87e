"""Reading promises, follow-ups and a person's day."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from kehu.promises.models import CalendarFeed, Commitment, FollowUp
from kehu.users.models import User


def customer_commitments(*, customer, limit: int = 10) -> list[Commitment]:
    """The customer's promises still to keep, soonest first (card and call panel)."""
    return list(
        Commitment.objects.filter(customer=customer, status__in=Commitment.ACTIVE_STATUSES)
        .select_related("owner")
        .order_by("due_at")[:limit]
    )


def customer_broken_commitments(*, customer) -> int:
    """Broken promises are a risk to the relationship (domain §3: a broken commitment)."""
    return Commitment.objects.filter(customer=customer, status=Commitment.Status.BROKEN).count()


def customer_follow_ups(*, customer, limit: int = 10) -> list[FollowUp]:
    return list(
        FollowUp.objects.filter(customer=customer, status=FollowUp.Status.OPEN)
        .select_related("owner")
        .order_by("due_at")[:limit]
    )


@dataclass(frozen=True)
class WorkItem:
    """One line of "My day": what, for whom, when, and where to act on it."""

    kind: str  # promise, follow_up, visit, case
    due_at: datetime
    title: str
    customer_name: str
    customer_id: int
    obj: object

    @property
    def overdue(self) -> bool:
        return self.due_at <= timezone.now()


def day_bounds(*, day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def my_day(*, users: list[User], now: datetime | None = None) -> list[WorkItem]:
    """The worklist of a person (or of a team): everything overdue, then everything due by
    the end of today, soonest first: promises, follow-ups and visits, and cases near or
    past their SLA."""
    from kehu.service.models import Case

    now = now or timezone.now()
    _start, end = day_bounds(day=timezone.localdate(now))
    items: list[WorkItem] = []
    for commitment in Commitment.objects.filter(
        owner__in=users, status__in=Commitment.ACTIVE_STATUSES, due_at__lt=end
    ).select_related("customer", "owner"):
        items.append(
            WorkItem(
                "promise",
                commitment.due_at,
                commitment.promise,
                commitment.customer.name,
                commitment.customer_id,
                commitment,
            )
        )
    for follow_up in FollowUp.objects.filter(
        owner__in=users, status=FollowUp.Status.OPEN, due_at__lt=end
    ).select_related("customer", "visit", "contact", "owner"):
        items.append(
            WorkItem(
                "visit" if follow_up.kind == FollowUp.Kind.VISIT else "follow_up",
                follow_up.due_at,
                follow_up.purpose,
                follow_up.customer.name,
                follow_up.customer_id,
                follow_up,
            )
        )
    near = Q(warned_at__isnull=False) | Q(first_response_breached_at__isnull=False)
    near |= Q(resolution_breached_at__isnull=False)
    for case in (
        Case.objects.filter(owner__in=users, status__in=Case.OPEN_STATUSES)
        .filter(near)
        .select_related("customer", "owner")
    ):
        due = min(
            (d for d in (case.first_response_due_at, case.resolution_due_at) if d), default=now
        )
        items.append(
            WorkItem(
                "case",
                due,
                f"{case.reference} {case.subject}",
                case.customer.name,
                case.customer_id,
                case,
            )
        )
    return sorted(items, key=lambda item: item.due_at)


def team_members(*, team: str = "") -> QuerySet[User]:
    """People who make promises and follow-ups; of one team when it is named."""
    from kehu.users.roles import CAPABILITY_ROLES, Capability

    people = User.objects.filter(
        is_active=True, role__in=CAPABILITY_ROLES[Capability.FOLLOW_UP_WORK]
    ).order_by("username")
    return people.filter(team=team) if team else people


def feed_user(*, token_hash: str) -> User | None:
    feed = CalendarFeed.objects.filter(token_hash=token_hash).select_related("user").first()
    return feed.user if feed and feed.user.is_active else None


def feed_items(*, user: User, now: datetime) -> tuple[list[Commitment], list[FollowUp]]:
    """What the person's calendar shows: what is still to do, and the last 30 days."""
    since = now - timedelta(days=30)
    commitments = Commitment.objects.filter(
        owner=user, status__in=Commitment.ACTIVE_STATUSES, due_at__gte=since
    ).select_related("customer")
    follow_ups = FollowUp.objects.filter(
        owner=user, status=FollowUp.Status.OPEN, due_at__gte=since
    ).select_related("customer", "visit")
    return list(commitments), list(follow_ups)


@dataclass(frozen=True)
class PromiseRecord:
    owner: User | str  # a person, or a team's name
    due: int
    kept_on_time: int
    kept_late: int
    broken: int
    open_overdue: int

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.due else self.kept_on_time / self.due


def promise_report(
    *, start: datetime, end: datetime, now: datetime, by: str = "owner"
) -> list[PromiseRecord]:
    """Per person (by="owner") or per team (by="team"), the promises due in [start, end):
    kept on time, kept late, broken, and still open past their due time. One query,
    grouped in the database."""
    key = "owner__team" if by == "team" else "owner"
    rows = (
        Commitment.objects.filter(due_at__gte=start, due_at__lt=end)
        .values(key)
        .annotate(
            due=Count("pk"),
            kept_on_time=Count("pk", filter=Q(status="kept", closed_at__lte=F("due_at"))),
            kept_late=Count("pk", filter=Q(status="kept", closed_at__gt=F("due_at"))),
            broken=Count("pk", filter=Q(status="broken")),
            open_overdue=Count(
                "pk", filter=Q(status__in=Commitment.ACTIVE_STATUSES, due_at__lte=now)
            ),
        )
    )
    owners = User.objects.in_bulk([row[key] for row in rows]) if key == "owner" else {}
    records = [
        PromiseRecord(
            owner=owners[row[key]] if key == "owner" else (row[key] or "—"),
            **{k: row[k] for k in ("due", "kept_on_time", "kept_late", "broken", "open_overdue")},
        )
        for row in rows
    ]
    return sorted(records, key=lambda r: (-(r.on_time_rate or 0), str(r.owner)))
