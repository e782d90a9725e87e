"""Outbound webhooks: events recorded with the case write, sent after it commits, retried.

Every delivery's state lives in the database: a worker that restarts loses nothing, and
the minute job picks up whatever is due.
"""

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.users.models import User
from kehu.webhooks.models import (
    RETRY_DELAYS_MINUTES,
    SUBSCRIBABLE,
    Delivery,
    DeliveryAttempt,
    Endpoint,
    Event,
    secret_generate,
)

SIGNATURE_HEADER = "X-Kehu-Signature"
# A slow receiver must not hold a worker: it answers within this or the attempt fails.
TIMEOUT_SECONDS = 10
# A delivery being sent is hidden from other workers this long; if its worker dies
# mid-request, the delivery is due again afterwards.
CLAIM = timedelta(seconds=TIMEOUT_SECONDS * 3)
ERROR_MAX = 500


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _link(path: str) -> str:
    return getattr(settings, "KEHU_BASE_URL", "").rstrip("/") + path


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_payload(case) -> dict:
    """The case's public fields: no notes, no contact details of the customer."""
    return {
        "reference": case.reference,
        "kind": case.kind,
        "channel": case.channel,
        "status": case.status,
        "priority": case.priority,
        "category": case.category.code if case.category_id else None,
        "subject": case.subject,
        "customer": {"number": case.customer.number, "name": case.customer.name},
        "owner": case.owner.username if case.owner_id else None,
        "team": case.team,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "first_response_due_at": _iso(case.first_response_due_at),
        "resolution_due_at": _iso(case.resolution_due_at),
        "resolved_at": _iso(case.resolved_at),
        "links": {
            "html": _link(reverse("service:case", args=[case.pk])),
            "api": _link(reverse("api:case_read", args=[case.pk])),
        },
    }


def _body(*, event_id: uuid.UUID, event: str, occurred_at: datetime, data: dict) -> str:
    return json.dumps(
        {"id": str(event_id), "type": event, "occurred_at": occurred_at.isoformat(), "data": data},
        ensure_ascii=False,
    )


def _enqueue_after_commit(deliveries: list[Delivery]) -> None:
    from kehu.webhooks import tasks

    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: tasks.delivery_send(pk))


def case_event_record(*, case, event: str, now: datetime | None = None) -> list[Delivery]:
    """One delivery per active endpoint subscribed to the event, in the caller's transaction:
    a case write that rolls back sends nothing; one that commits is sent right after."""
    if event not in SUBSCRIBABLE:
        raise ValueError(f"not a case event: {event}")
    endpoints = [e for e in Endpoint.objects.filter(is_active=True) if event in e.events]
    if not endpoints:
        return []
    now = _now(now)
    event_id = uuid.uuid4()
    body = _body(event_id=event_id, event=event, occurred_at=now, data=case_payload(case))
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            endpoint=endpoint,
            event_id=event_id,
            event=event,
            case_id=case.pk,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in endpoints
    )
    _enqueue_after_commit(deliveries)
    return deliveries


# --- Sending ------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new address to post the event to."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """(HTTP status or None, error text) of one POST; nothing here raises."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, ""
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, str(reason) or type(reason).__name__


def _claim(*, delivery_id: int, now: datetime) -> Delivery | None:
    """Takes a due delivery for this worker: one conditional UPDATE, so two workers (or the
    minute job and the after-commit task) never both send it."""
    due = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    )
    if not due.update(next_attempt_at=now + CLAIM):
        return None
    return Delivery.objects.select_related("endpoint").get(pk=delivery_id)


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Sends a due delivery once and records the outcome; a failure is retried on the
    back-off schedule, then given up. None when it was not due (or another worker has it)."""
    now = _now(now)
    delivery = _claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "kehu-webhooks/1",
        "X-Kehu-Event": delivery.event,
        "X-Kehu-Event-Id": str(delivery.event_id),
        SIGNATURE_HEADER: signature_header(
            secret=endpoint.secret, body=body, timestamp=int(now.timestamp())
        ),
    }
    # A test event is an administrator checking the receiver, perhaps before enabling it.
    if endpoint.is_active or delivery.event == Event.TEST:
        started = time.monotonic()
        status_code, error = _post(url=endpoint.url, body=body, headers=headers)
        duration_ms = round((time.monotonic() - started) * 1000)
    else:
        status_code, error, duration_ms = None, _("The endpoint is disabled."), 0
    return _outcome_record(
        delivery=delivery, now=now, status_code=status_code, error=error, duration_ms=duration_ms
    )


@transaction.atomic
def _outcome_record(
    *, delivery: Delivery, now: datetime, status_code: int | None, error: str, duration_ms: int
) -> Delivery:
    succeeded = status_code is not None and 200 <= status_code < 300
    if not succeeded and not error:
        error = _("The receiver answered HTTP %(code)s.") % {"code": status_code}
    error = error[:ERROR_MAX]
    DeliveryAttempt.objects.create(
        delivery=delivery, at=now, duration_ms=duration_ms, status_code=status_code, error=error
    )
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = "" if succeeded else error
    if succeeded:
        delivery.status, delivery.next_attempt_at, delivery.finished_at = (
            Delivery.Status.SUCCEEDED,
            None,
            now,
        )
    elif delivery.attempts > len(RETRY_DELAYS_MINUTES):
        delivery.status, delivery.next_attempt_at, delivery.finished_at = (
            Delivery.Status.FAILED,
            None,
            now,
        )
    else:
        delivery.next_attempt_at = now + timedelta(
            minutes=RETRY_DELAYS_MINUTES[delivery.attempts - 1]
        )
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "status",
            "next_attempt_at",
            "finished_at",
        ]
    )
    return delivery


def deliveries_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The minute job: every pending delivery whose time has come, oldest first."""
    now = _now(now)
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(delivery_attempt(delivery_id=pk, now=now) is not None for pk in list(due))


# --- Endpoints, configured by an administrator ------------------------------------------


def _endpoint_save(endpoint: Endpoint, *, events: list[str]) -> Endpoint:
    endpoint.url = (endpoint.url or "").strip()
    endpoint.description = (endpoint.description or "").strip()
    unknown = [e for e in events if e not in SUBSCRIBABLE]
    if unknown or not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    endpoint.events = [e for e in SUBSCRIBABLE if e in events]
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_create(
    *, actor: User, url: str, description: str, events: list[str], is_active: bool = True
) -> Endpoint:
    return _endpoint_save(
        Endpoint(url=url, description=description, is_active=is_active, created_by=actor),
        events=events,
    )


@transaction.atomic
def endpoint_update(
    *, endpoint: Endpoint, url: str, description: str, events: list[str], is_active: bool
) -> Endpoint:
    """Disabling stops new events at once; deliveries already queued are not sent while it
    is disabled (each attempt says so in the log)."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.url, endpoint.description, endpoint.is_active = url, description, is_active
    return _endpoint_save(endpoint, events=events)


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: Endpoint) -> Endpoint:
    """A new secret signs every request from now on, retries of older events included."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_test_send(*, endpoint: Endpoint, now: datetime | None = None) -> Delivery:
    """A test event to this endpoint only, whatever it subscribes to; sent after commit."""
    now = _now(now)
    event_id = uuid.uuid4()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event=Event.TEST,
        body=_body(
            event_id=event_id,
            event=Event.TEST,
            occurred_at=now,
            data={"message": "Test event from kehu", "endpoint": endpoint.pk},
        ),
        next_attempt_at=now,
        created_at=now,
    )
    _enqueue_after_commit([delivery])
    return delivery


@transaction.atomic
def delivery_retry_now(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Due at once; one that failed for good gets one more attempt."""
    now = _now(now)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == Delivery.Status.SUCCEEDED:
        raise ValidationError(_("This delivery has already succeeded."), code="delivered")
    delivery.status, delivery.next_attempt_at, delivery.finished_at = (
        Delivery.Status.PENDING,
        now,
        None,
    )
    delivery.save(update_fields=["status", "next_attempt_at", "finished_at"])
    _enqueue_after_commit([delivery])
    return delivery
