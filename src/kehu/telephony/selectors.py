"""Who is calling, and what the agent needs to see before saying hello."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from kehu.customers.models import Contact, Customer, Note, Phone
from kehu.customers.selectors import customer_live
from kehu.telephony.models import Call, CallAlert, CallState, Direction
from kehu.users.roles import Role


@dataclass(frozen=True)
class CallerMatch:
    customer: Customer
    contact: Contact | None
    last_contact_at: datetime | None


def caller_match_ids(*, e164: str) -> list[tuple[int, int | None]]:
    """(customer id, contact id) of every phone with this number, as caller_matches finds
    them (a merged customer followed to the one it went into) without loading the rows:
    what the webhook stores on the call, in one index probe (written SQL: see
    services.integration_authenticate's note on the webhook's budget)."""
    found: dict[tuple[int, int | None], None] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.customer_id, c.merged_into_id, p.contact_id FROM customers_phone p"
            " JOIN customers_customer c ON c.id = p.customer_id WHERE p.e164 = %s"
            " ORDER BY p.id", [e164])
        rows = cursor.fetchall()
    for customer_id, merged_into_id, contact_id in rows:
        while merged_into_id:
            customer_id, merged_into_id = Customer.objects.values_list(
                "pk", "merged_into_id").get(pk=merged_into_id)
        found.setdefault((customer_id, contact_id), None)
    return list(found)


def number_blocked(*, e164: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM telephony_blockednumber WHERE e164 = %s", [e164])
        return cursor.fetchone() is not None


def agent_ids_named(*, names: tuple[str, ...]) -> list[int]:
    """Active users the telephony system names, by username (as written or in lower case)
    or by extension, in the order they joined."""
    if not names:
        return []
    usernames = list(dict.fromkeys([*names, *(n.lower() for n in names)]))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM users_user WHERE is_active = %s AND (username IN ({}) OR"
            " extension IN ({})) ORDER BY id".format(
                ", ".join(["%s"] * len(usernames)), ", ".join(["%s"] * len(names))),
            [True, *usernames, *names])
        return [pk for (pk,) in cursor.fetchall()]


def agent_ids_all() -> list[int]:
    """Every active agent: whom a call naming nobody rings."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM users_user WHERE is_active = %s AND role = %s",
                       [True, Role.AGENT.value])
        return [pk for (pk,) in cursor.fetchall()]


def caller_matches(*, e164: str) -> list[CallerMatch]:
    """Every customer and contact with this number (one index probe), most recent contact first."""
    phones = list(
        Phone.objects.filter(e164=e164).select_related("customer__merged_into", "contact")
    )
    matches: dict[tuple[int, int | None], CallerMatch] = {}
    for phone in phones:
        customer = customer_live(phone.customer)
        matches.setdefault((customer.pk, phone.contact_id),
                           CallerMatch(customer, phone.contact, None))
    if not matches:
        return []
    ids = {key[0] for key in matches}
    last: dict[int, datetime] = {}
    for model, field in ((Note, "created_at"), (Call, "started_at")):
        rows = (model.objects.filter(customer__in=ids).values("customer")
                .annotate(latest=Max(field)).values_list("customer", "latest"))
        for customer_id, latest in rows:
            if latest and (customer_id not in last or latest > last[customer_id]):
                last[customer_id] = latest
    found = [CallerMatch(m.customer, m.contact, last.get(m.customer.pk)) for m in matches.values()]
    return sorted(found, key=lambda m: (m.last_contact_at is not None, m.last_contact_at),
                  reverse=True)


# A panel stays up after its call ends for this long (to log the call), unless closed.
PANEL_AFTER_CALL = timedelta(minutes=15)
# A call without a hang-up event for this long is taken as lost by the telephony system.
PANEL_MAX_AGE = timedelta(hours=4)


def alerts_open(*, user=None) -> QuerySet[CallAlert]:
    """Panels to show: not closed by their agent, of a call that is ringing, or that
    this agent answered (or an agent kehu does not know), and not long over. A missed
    call, or one another agent took, shows nobody a panel."""
    now = timezone.now()
    alerts = (
        CallAlert.objects.filter(dismissed_at=None, call__started_at__gte=now - PANEL_MAX_AGE)
        .filter(Q(call__ended_at=None) | Q(call__ended_at__gte=now - PANEL_AFTER_CALL))
        .filter(
            Q(call__state=CallState.RINGING)
            | Q(call__state__in=(CallState.ANSWERED, CallState.ENDED))
            & (Q(call__agent=None) | Q(call__agent=F("user")))
        )
    )
    return alerts.filter(user=user) if user is not None else alerts


def alert_current(*, user) -> CallAlert | None:
    """The call panel the user should see now: their newest open alert."""
    return alerts_open(user=user).select_related("call").order_by("-id").first()


def customer_recent_contacts(*, customer: Customer, limit: int = 3) -> list[Note]:
    return list(Note.objects.filter(customer=customer).select_related("author")[:limit])


def call_log(*, direction: str = "", state: str = "", agent_id: int | None = None,
             customer_id: int | None = None) -> QuerySet[Call]:
    calls = Call.objects.select_related("agent", "customer", "contact", "note")
    if direction:
        calls = calls.filter(direction=direction)
    if state:
        calls = calls.filter(state=state)
    if agent_id:
        calls = calls.filter(agent_id=agent_id)
    if customer_id:
        calls = calls.filter(customer_id=customer_id)
    return calls.order_by("-started_at", "-id")


def callbacks_due() -> QuerySet[Call]:
    """Missed calls from known customers that nobody has called back yet."""
    return (
        Call.objects.filter(direction=Direction.INBOUND, state=CallState.MISSED,
                            callback_done_at=None, customer__isnull=False, blocked=False)
        .select_related("customer", "contact")
        .order_by("-started_at")
    )
