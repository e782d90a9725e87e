"""Call events in, calls and agent alerts out.

Telephony systems may send an event twice or out of order. Each event is stored
once per call, and the call's fields are derived again from the events received so
far, so the call log ends up the same whatever the order of arrival.
"""

import hmac
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.customers import services as customer_services
from kehu.customers.choices import NoteKind
from kehu.customers.models import Customer, Note
from kehu.customers.phones import phone_parse_or_none
from kehu.db import write_turn
from kehu.telephony.models import (
    BlockedNumber,
    Call,
    CallAlert,
    CallEvent,
    CallState,
    CtiIntegration,
    Direction,
)
from kehu.telephony.selectors import (
    agent_ids_all,
    agent_ids_named,
    caller_match_ids,
    number_blocked,
)
from kehu.users.models import User

EVENTS = ("newCall", "answer", "hangup")
_DIRECTIONS = frozenset(Direction.values)
# A call logged by a click on a tel: link is joined by the PBX's own events for the
# same agent and number when they arrive within this many seconds.
CLICK_TO_CALL_WINDOW = 120


@dataclass(frozen=True)
class CtiEvent:
    """The fields of Zammad's generic CTI events, which kehu accepts as they are."""

    event: str
    call_id: str
    from_number: str = ""
    to_number: str = ""
    direction: str = Direction.INBOUND
    users: tuple[str, ...] = ()
    queue: str = ""
    cause: str = ""
    answering_number: str = ""
    occurred_at: datetime | None = None
    payload: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.event not in EVENTS:
            raise ValidationError(
                _("Unknown event “%(event)s”: expected newCall, answer or hangup.")
                % {"event": self.event}
            )
        if not self.call_id or len(self.call_id) > 100:
            raise ValidationError(_("callId is required (at most 100 characters)."))
        if self.direction not in _DIRECTIONS:
            raise ValidationError(_("direction must be “in” or “out”."))


# The webhook's budget: 500 events/s on two cores leaves about 2 ms of CPU per event for
# everything (HTTP, Django, the database). The ORM spends a few tenths of a millisecond
# building each query, many times what the database spends on these few rows, so an
# event's path below runs its statements as written SQL (the same on SQLite and
# PostgreSQL), and only the ones it needs: reads before the write lock, then one short
# transaction.


def integration_authenticate(*, token: str) -> CtiIntegration | None:
    """Compares the token's digest with each active integration's in constant time."""
    digest = CtiIntegration.digest_of(token or "")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, token_digest FROM telephony_ctiintegration WHERE is_active = %s", [True])
        rows = cursor.fetchall()
    found = None
    for pk, stored in rows:
        if hmac.compare_digest(stored, digest):
            found = pk
    if found is None:
        return None
    return CtiIntegration.from_db(cursor.db.alias, ["id", "token_digest"], [found, digest])


@transaction.atomic
def integration_create(*, name: str) -> tuple[CtiIntegration, str]:
    """Returns the integration and its token, which is shown once and never stored."""
    import secrets

    name = name.strip()[:100]
    if not name:
        raise ValidationError({"name": _("Give the integration a name.")})
    token = secrets.token_urlsafe(32)
    integration = CtiIntegration.objects.create(name=name,
                                                token_digest=CtiIntegration.digest_of(token))
    return integration, token


@lru_cache(maxsize=4096)
def _phone_parse(text: str, region: str):
    """phone_parse_or_none, remembered: each event of a call reads its number again, and
    callers call again; libphonenumber takes a fraction of a millisecond for each. A pure
    function of the text and the region, so nothing goes stale."""
    return phone_parse_or_none(text, region=region)


class _Lookups:
    """The numbers and agents one event leads to, each read once.

    cti_event_record fills it before its write transaction with what the event's own
    fields need: SQLite lets one writer work at a time, so its lock is then held for
    the writes rather than these reads (of tables the webhook never writes). Whatever
    is first needed inside the transaction is read there.
    """

    def __init__(self) -> None:
        self._found: dict[tuple, object] = {}
        self.match_seconds = 0.0  # parsing, matching and the blocked check, for Server-Timing

    def _once(self, key: tuple, read, *, match: bool = True):
        if key not in self._found:
            started = time.perf_counter()
            self._found[key] = read()
            if match:
                self.match_seconds += time.perf_counter() - started
        return self._found[key]

    def phone(self, text: str):
        return self._once(("phone", text),
                          lambda: _phone_parse(text, settings.KEHU_PHONE_REGION))

    def matches(self, e164: str) -> list[tuple[int, int | None]]:
        return self._once(("matches", e164), lambda: caller_match_ids(e164=e164))

    def blocked(self, e164: str) -> bool:
        return self._once(("blocked", e164), lambda: number_blocked(e164=e164))

    def agents_named(self, names) -> list[int]:
        names = tuple(n.strip() for n in names if n and n.strip())
        return self._once(("agents", names), lambda: agent_ids_named(names=names), match=False)

    def prefetch(self, event: CtiEvent) -> None:
        """What _derive and _alerts_add will ask about this event, as they ask it."""
        theirs = event.from_number if event.direction == Direction.INBOUND else event.to_number
        parsed = self.phone(theirs[:64])
        if parsed:
            self.blocked(parsed.e164)
            if event.event == "newCall":  # later events find the call matched already
                self.matches(parsed.e164)
        if event.event == "answer":
            self.agents_named([*event.users, event.answering_number])
        elif event.event == "newCall":
            self.agents_named(event.users)


@dataclass
class _CallRow:
    """A call's id and the columns the webhook derives, in _CALL_DERIVED's order.
    (Building a Call instance costs more than the rest of the Python an event runs
    inside the write lock.)"""

    id: int | None
    direction: str
    state: str = CallState.RINGING
    number_raw: str = ""
    number_e164: str = ""
    our_number: str = ""
    queue: str = ""
    agent_id: int | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    match_count: int = 0
    blocked: bool = False
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: str = ""


_CALL_DERIVED = ("direction", "state", "number_raw", "number_e164", "our_number", "queue",
                 "agent_id", "customer_id", "contact_id", "match_count", "blocked",
                 "started_at", "answered_at", "ended_at", "cause")
_CALL_TIMES = ("started_at", "answered_at", "ended_at")
_STATE, _AGENT = _CALL_DERIVED.index("state"), _CALL_DERIVED.index("agent_id")


@dataclass(frozen=True)
class _Event:
    event: str
    payload: dict
    received_at: datetime


def _derive(call: _CallRow, events: list[_Event], event: str, lookups: _Lookups) -> None:
    """The call's fields from its events so far, `event` the one that just arrived.

    The agent comes from the answer, or from an outbound call's newCall while it has
    none, so it is looked up only when one of those arrives; it is kept otherwise.
    """
    events = {e.event: e for e in events}
    new_call, answer, hangup = (events.get(name) for name in EVENTS)
    described = new_call or answer or hangup
    payload = described.payload
    call.direction = payload.get("direction") or call.direction
    theirs, ours = (
        ("from", "to") if call.direction == Direction.INBOUND else ("to", "from")
    )
    if payload.get(theirs) or not call.number_raw:
        call.number_raw = (payload.get(theirs) or "")[:64]
    call.our_number = (payload.get(ours) or call.our_number)[:64]
    call.queue = (payload.get("queue") or call.queue)[:100]
    call.started_at = min(e.received_at for e in events.values())
    call.answered_at = answer.received_at if answer else None
    call.ended_at = hangup.received_at if hangup else None
    call.cause = (hangup.payload.get("cause") or "")[:50] if hangup else ""
    if hangup:
        call.state = CallState.ENDED if answer else CallState.MISSED
    elif answer:
        call.state = CallState.ANSWERED
    else:
        call.state = CallState.RINGING
    if answer and event == "answer":
        named = lookups.agents_named([*answer.payload.get("user", []),
                                      answer.payload.get("answeringNumber", "")])
        call.agent_id = named[0] if named else call.agent_id
    elif not answer and call.direction == Direction.OUTBOUND and event == "newCall":
        named = lookups.agents_named(new_call.payload.get("user", []))
        call.agent_id = named[0] if named else call.agent_id

    parsed = lookups.phone(call.number_raw)
    e164 = parsed.e164 if parsed else ""
    if e164 != call.number_e164 or (e164 and not call.match_count and not call.customer_id):
        call.number_e164 = e164
        _match_apply(call, lookups.matches(e164) if e164 else [])
    call.blocked = bool(e164) and lookups.blocked(e164)


def _match_apply(call: Call | _CallRow, matches: list[tuple[int, int | None]]) -> None:
    """One customer matched: the call is theirs (and the contact's, if only one)."""
    customers = {customer_id for customer_id, _contact_id in matches}
    call.match_count = len(customers)
    call.customer_id = matches[0][0] if len(customers) == 1 else None
    call.contact_id = matches[0][1] if len(matches) == 1 else None


def _alerts_add(cursor, call: _CallRow, event: CtiEvent, lookups: _Lookups, *,
                agent_before: int | None, state_before: str) -> None:
    """Makes sure everyone the call rang for, and whoever answered it, has a panel.

    Whether a panel is open is derived from the call at read time
    (selectors.alerts_open): ringing calls for all of them, answered calls for the
    agent who took them, missed calls for nobody. So events in any order leave the
    same panels, and only the agent's own "close" is stored (dismissed_at). The agents
    the call rang for get theirs when the newCall arrives, whichever event came first;
    the agent who took the call, when it became theirs.
    """
    if call.blocked:
        return
    users = []
    if event.event == "newCall":
        named = [n for n in event.users if n.strip()]
        users = lookups.agents_named(named)
        if not named and call.direction == Direction.INBOUND:
            # No agent named: the call rings the whole agent group. (Agents named but
            # unknown to kehu ring nobody here: the call is not ringing for the others.)
            users = agent_ids_all()
    taken = (CallState.ANSWERED, CallState.ENDED)
    if call.agent_id and call.state in taken and (
            call.agent_id != agent_before or state_before not in taken):
        users = [*users, call.agent_id]
    users = list(dict.fromkeys(users))
    if users:
        # A panel that exists already is left as it is (one_alert_each).
        created_at = cursor.db.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(
            "INSERT INTO telephony_callalert (call_id, user_id, created_at) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(users)) + " ON CONFLICT DO NOTHING",
            [value for user_id in users for value in (call.id, user_id, created_at)])


def _click_to_call_adopt(cursor, *, integration: CtiIntegration, event: CtiEvent,
                         lookups: _Lookups) -> None:
    """Gives a call logged from a tel: link the PBX's id, so one call is one row: the
    newest dialled by one of the event's agents to its number in the last two minutes,
    unless the PBX's call is in the log already."""
    if event.event != "newCall" or event.direction != Direction.OUTBOUND:
        return
    parsed = lookups.phone(event.to_number)
    agents = lookups.agents_named(event.users)
    if not parsed or not agents:
        return
    since = timezone.now() - timedelta(seconds=CLICK_TO_CALL_WINDOW)
    # integration_id IS NULL twice: on PostgreSQL a concurrent adoption of the same
    # dialled call makes this one wait, and then find it taken.
    cursor.execute(
        "UPDATE telephony_call SET integration_id = %s, call_id = %s"
        " WHERE integration_id IS NULL AND id = ("
        "  SELECT id FROM telephony_call WHERE integration_id IS NULL AND state = %s"
        "  AND number_e164 = %s AND agent_id IN ({}) AND started_at >= %s"
        "  ORDER BY started_at DESC LIMIT 1)"
        " AND NOT EXISTS ("
        "  SELECT 1 FROM telephony_call WHERE integration_id = %s AND call_id = %s)".format(
            ", ".join(["%s"] * len(agents))),
        [integration.pk, event.call_id, CallState.DIALLED.value, parsed.e164, *agents,
         cursor.db.ops.adapt_datetimefield_value(since), integration.pk, event.call_id])


def cti_event_record(*, integration: CtiIntegration, event: CtiEvent,
                     timing: dict | None = None) -> dict:
    """Stores one event and answers the telephony system (Zammad's reply shape).

    `timing`, when given, receives the seconds the caller match took ("match") and the
    wait for the database's write lock ("lock").
    """
    event.validate()
    lookups = _Lookups()
    lookups.prefetch(event)  # before the write lock (see _Lookups)
    # This thread's connection, looked up once: `connection` finds it anew on each use.
    db = connections[DEFAULT_DB_ALIAS]
    started = time.perf_counter()
    with write_turn(db), transaction.atomic(), db.cursor() as cursor:
        locked = time.perf_counter()
        _click_to_call_adopt(cursor, integration=integration, event=event, lookups=lookups)
        answer = _event_store(cursor, integration=integration, event=event, lookups=lookups)
    if timing is not None:
        timing["match"] = lookups.match_seconds
        timing["lock"] = locked - started
    return answer


def _event_store(cursor, *, integration: CtiIntegration, event: CtiEvent,
                 lookups: _Lookups) -> dict:
    """The event stored and the call derived again, in the caller's transaction."""
    adapt = cursor.db.ops.adapt_datetimefield_value
    received_at = event.occurred_at or timezone.now()
    select = (f"SELECT id, {', '.join(_CALL_DERIVED)} FROM telephony_call"
              " WHERE integration_id = %s AND call_id = %s")
    if cursor.db.features.has_select_for_update:
        select += " FOR UPDATE"  # on SQLite the transaction holds the write lock
    cursor.execute(select, [integration.pk, event.call_id])
    row = cursor.fetchone()
    call = _CallRow(*row) if row else _CallRow(id=None, direction=event.direction)
    for name in _CALL_TIMES:
        if getattr(call, name):
            setattr(call, name, _datetime_from_db(getattr(call, name)))
    before = [getattr(call, name) for name in _CALL_DERIVED]
    # Its events are read once, for the repeat check and for _derive (one_event_each
    # stays the guard).
    events = _events_read(cursor, call) if row else []
    if any(stored.event == event.event for stored in events):
        return _answer(call, event)
    payload = {
        "event": event.event, "from": event.from_number, "to": event.to_number,
        "direction": event.direction, "callId": event.call_id, "user": list(event.users),
        "queue": event.queue, "cause": event.cause, "answeringNumber": event.answering_number,
    }
    events.append(_Event(event.event, payload, received_at))
    _derive(call, events, event.event, lookups)
    after = [getattr(call, name) for name in _CALL_DERIVED]
    values = [adapt(v) if isinstance(v, datetime) else v for v in after]
    if row:
        # Only the columns that changed: SQLite rewrites the index entries of every
        # column set, and each page written goes to the WAL and later to the database.
        changed = [i for i, (old, new) in enumerate(zip(before, after, strict=True))
                   if old != new]
        if changed:
            cursor.execute(
                "UPDATE telephony_call SET "
                + ", ".join(f"{_CALL_DERIVED[i]} = %s" for i in changed) + " WHERE id = %s",
                [*(values[i] for i in changed), call.id])
    else:
        cursor.execute(
            f"INSERT INTO telephony_call (integration_id, call_id, {', '.join(_CALL_DERIVED)})"
            f" VALUES ({', '.join(['%s'] * (2 + len(_CALL_DERIVED)))})"
            " ON CONFLICT DO NOTHING RETURNING id",
            [integration.pk, event.call_id, *values])
        inserted = cursor.fetchone()
        if inserted is None:
            # PostgreSQL: another transaction stored this call's first event meanwhile,
            # and this insert waited for it to end. Now the call is found.
            return _event_store(cursor, integration=integration, event=event,
                                lookups=lookups)
        call.id = inserted[0]
    cursor.execute(
        "INSERT INTO telephony_callevent (call_id, event, payload, received_at)"
        " VALUES (%s, %s, %s, %s)",
        [call.id, event.event, cursor.db.ops.adapt_json_value(payload, None),
         adapt(received_at)])
    _alerts_add(cursor, call, event, lookups, agent_before=before[_AGENT],
                state_before=before[_STATE])
    if call.state == CallState.ENDED and call.number_e164:
        # Talking to the customer, whoever dialled, settles their earlier missed calls.
        cursor.execute(
            "UPDATE telephony_call SET callback_done_at = %s WHERE number_e164 = %s"
            f" AND direction = '{Direction.INBOUND.value}' AND state = '{CallState.MISSED.value}'"
            " AND callback_done_at IS NULL AND started_at < %s",
            [adapt(call.ended_at), call.number_e164, adapt(call.started_at)])
    return _answer(call, event)


def _answer(call: _CallRow, event: CtiEvent) -> dict:
    if call.blocked and event.event == "newCall":
        return {"action": "reject", "reason": "busy"}
    return {}


def _events_read(cursor, call: _CallRow) -> list[_Event]:
    payload = CallEvent._meta.get_field("payload")
    cursor.execute(
        "SELECT event, payload, received_at FROM telephony_callevent WHERE call_id = %s",
        [call.id])
    return [
        _Event(name, payload.from_db_value(data, None, cursor.db), _datetime_from_db(at))
        for name, data, at in cursor.fetchall()
    ]


def _datetime_from_db(value: datetime) -> datetime:
    """PostgreSQL returns aware datetimes, SQLite (through Django's converter) naive UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@transaction.atomic
def outbound_call_log(*, actor: User, customer: Customer, number: str) -> Call:
    """A click on a customer's tel: link: the dialled call enters the call log."""
    parsed = phone_parse_or_none(number)
    if parsed is None:
        raise ValidationError({"number": _("This is not a phone number.")})
    return Call.objects.create(
        call_id=f"click-{uuid.uuid4().hex}", direction=Direction.OUTBOUND,
        state=CallState.DIALLED, number_raw=number[:64], number_e164=parsed.e164,
        agent=actor, customer=customer, match_count=1, started_at=timezone.now(),
    )


@transaction.atomic
def call_contact_log(
    *, actor: User, call: Call, outcome: str, reason: str, body: str
) -> Note:
    """The agent's few seconds after a call: outcome, reason, notes → the timeline."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.customer_id is None:
        raise ValidationError(_("Choose or create the customer before logging the call."))
    if call.note_id:
        raise ValidationError(_("This call has already been logged."))
    note = customer_services.note_add(
        actor=actor, customer=call.customer, contact=call.contact, kind=NoteKind.CALL,
        outcome=outcome, reason=reason, body=body,
    )
    call.note = note
    if call.direction == Direction.INBOUND and call.state == CallState.MISSED:
        call.callback_done_at = timezone.now()
    call.save(update_fields=["note", "callback_done_at"])
    return note


@transaction.atomic
def call_identify(*, call: Call, customer: Customer) -> Call:
    """With several matches, the agent says which customer is calling."""
    call.customer = customer
    call.contact = None
    call.save(update_fields=["customer", "contact"])
    return call


@transaction.atomic
def call_rematch(*, call: Call) -> Call:
    """Looks the number up again, e.g. after the agent created the unknown caller."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.number_e164 and call.customer_id is None:
        _match_apply(call, caller_match_ids(e164=call.number_e164))
        call.save(update_fields=["match_count", "customer", "contact"])
    return call


@transaction.atomic
def call_alert_dismiss(*, alert: CallAlert) -> None:
    if alert.dismissed_at is None:
        alert.dismissed_at = timezone.now()
        alert.save(update_fields=["dismissed_at"])


@transaction.atomic
def callback_done(*, call: Call) -> None:
    Call.objects.filter(pk=call.pk, callback_done_at=None).update(
        callback_done_at=timezone.now()
    )


@transaction.atomic
def number_block(*, actor: User, number: str, reason: str = "") -> BlockedNumber:
    parsed = phone_parse_or_none(number)
    if parsed is None:
        raise ValidationError({"number": _("This is not a phone number.")})
    blocked, _created = BlockedNumber.objects.get_or_create(
        e164=parsed.e164, defaults={"reason": reason.strip()[:200], "created_by": actor}
    )
    return blocked
