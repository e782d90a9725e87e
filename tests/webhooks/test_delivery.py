"""Outbound webhooks against a real HTTP receiver: signing, events, back-off, rollback."""

import hashlib
import hmac
import socketserver
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from kehu.service import services as case_services
from kehu.service.models import Case
from kehu.webhooks import services
from kehu.webhooks.models import Delivery, Endpoint

from ..service.cases_fixtures import case_open, resolving

ALL_EVENTS = ["case.created", "case.updated", "case.resolved"]
T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def endpoint_for(admin_user, url: str, events=ALL_EVENTS, **fields) -> Endpoint:
    return services.endpoint_create(
        actor=admin_user, url=url, description="CRM bridge", events=events, **fields
    )


def verify(secret: str, header: str, body: bytes) -> bool:
    """What the README tells a receiver to do, written out independently of kehu's code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_a_new_case_is_posted_after_commit_signed_with_the_secret(
    admin_user,
    agent,
    customer,
    policy,
    receiver,
    huey_immediate,
    django_capture_on_commit_callbacks,
):
    endpoint = endpoint_for(admin_user, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_open(agent, customer, subject="空调不制冷 <b>")
    [request] = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert verify(endpoint.secret, request.headers["X-Kehu-Signature"], request.body)
    assert not verify("whsec_another", request.headers["X-Kehu-Signature"], request.body)
    event = request.json
    assert event["type"] == "case.created" == request.headers["X-Kehu-Event"]
    assert event["id"] == request.headers["X-Kehu-Event-Id"]
    data = event["data"]
    assert data["reference"] == case.reference and data["subject"] == "空调不制冷 <b>"
    assert data["status"] == "new" and data["kind"] == "complaint"
    assert data["customer"] == {"number": customer.number, "name": "王芳"}
    assert data["owner"] == "agent" and data["resolution_due_at"] is not None
    assert data["links"]["html"] == f"/cases/{case.pk}/"
    assert "wang@example.com" not in request.body.decode()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SUCCEEDED and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.next_attempt_at is None
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.duration_ms >= 0


def test_updates_and_resolution_are_sent_but_internal_notes_are_not(
    admin_user,
    agent,
    supervisor,
    customer,
    receiver,
    huey_immediate,
    django_capture_on_commit_callbacks,
):
    endpoint_for(admin_user, receiver.url)
    S = Case.Status
    with django_capture_on_commit_callbacks(execute=True):
        case = case_open(agent, customer)
        case = case_services.case_transition(
            actor=agent, case=case, to=S.IN_PROGRESS, expected_version=1
        )
        case_services.case_note_add(
            actor=agent, case=case, kind="internal", body="内部", expected_version=2
        )
        case_services.case_note_add(
            actor=agent, case=case, kind="reply", body="您好", expected_version=3
        )
        case = case_services.case_assign(
            actor=agent, case=case, owner=supervisor, team="二线", expected_version=4
        )
        case_services.case_transition(
            actor=agent, case=case, to=S.RESOLVED, expected_version=5, **resolving(case)
        )
    events = [(r.json["type"], r.json["data"]["status"]) for r in receiver.requests]
    assert events == [
        ("case.created", "new"),
        ("case.updated", "in_progress"),
        ("case.updated", "in_progress"),
        ("case.updated", "in_progress"),
        ("case.resolved", "resolved"),
    ]
    assert receiver.requests[3].json["data"]["owner"] == "supervisor"
    assert len({r.json["id"] for r in receiver.requests}) == 5


def test_only_subscribed_events_go_to_active_endpoints(
    admin_user, agent, customer, receiver, huey_immediate, django_capture_on_commit_callbacks
):
    resolved_only = endpoint_for(admin_user, receiver.url, events=["case.resolved"])
    endpoint_for(admin_user, receiver.url + "/off", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_open(agent, customer)
        case = case_services.case_transition(
            actor=agent, case=case, to="in_progress", expected_version=1
        )
        case_services.case_transition(
            actor=agent, case=case, to="resolved", expected_version=2, **resolving(case)
        )
    assert [(r.path, r.json["type"]) for r in receiver.requests] == [("/hooks", "case.resolved")]
    assert list(Delivery.objects.values_list("endpoint", flat=True)) == [resolved_only.pk]


def test_a_rolled_back_case_write_sends_nothing(
    admin_user, agent, customer, receiver, huey_immediate, django_capture_on_commit_callbacks
):
    endpoint_for(admin_user, receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            case_open(agent, customer)
            raise RuntimeError("the surrounding write failed")
        with pytest.raises(ValidationError):
            case_open(agent, customer, subject="  ")
    assert callbacks == [] and receiver.requests == []
    assert not Delivery.objects.exists() and not Case.objects.exists()


def test_a_failing_receiver_is_retried_on_the_back_off_schedule_then_given_up(
    admin_user, agent, customer, receiver, closed_port_url
):
    """No worker runs the after-commit task here: the minute job alone finds the delivery,
    as it does after a worker restart."""
    endpoint = endpoint_for(admin_user, receiver.url)
    receiver.status = 500
    case_open(agent, customer, now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at == T0

    assert services.deliveries_send_due(now=T0) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code == 500
    assert delivery.next_attempt_at == T0 + MINUTE
    assert "500" in delivery.last_error
    assert services.deliveries_send_due(now=T0 + 30 * timedelta(seconds=1)) == 0

    assert services.deliveries_send_due(now=T0 + MINUTE) == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + 6 * MINUTE
    first, second = receiver.requests
    assert first.body == second.body and first.json["id"] == second.json["id"]
    assert first.headers["X-Kehu-Signature"] != second.headers["X-Kehu-Signature"]
    assert verify(endpoint.secret, second.headers["X-Kehu-Signature"], second.body)

    # The receiver goes away: connection errors count as failures too.
    Endpoint.objects.filter(pk=endpoint.pk).update(url=closed_port_url)
    now = T0 + 6 * MINUTE
    for wait in (30 * MINUTE, 120 * MINUTE, 720 * MINUTE):
        assert services.deliveries_send_due(now=now) == 1
        delivery.refresh_from_db()
        assert delivery.last_status_code is None and delivery.last_error
        assert delivery.next_attempt_at == now + wait
        now += wait
    assert services.deliveries_send_due(now=now) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 6
    assert delivery.next_attempt_at is None and delivery.finished_at == now
    assert services.deliveries_send_due(now=now + timedelta(days=30)) == 0
    assert len(receiver.requests) == 2
    attempts = list(delivery.attempt_log.values_list("at", flat=True))
    assert attempts == [
        T0,
        T0 + MINUTE,
        T0 + 6 * MINUTE,
        T0 + 36 * MINUTE,
        T0 + 156 * MINUTE,
        T0 + 876 * MINUTE,
    ]


def test_retry_now_gives_a_failed_delivery_one_more_attempt(admin_user, agent, customer, receiver):
    endpoint_for(admin_user, receiver.url)
    receiver.status = 503
    case_open(agent, customer, now=T0)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, attempts=6, next_attempt_at=None
    )
    receiver.status = 204
    later = T0 + timedelta(days=2)
    services.delivery_retry_now(delivery=delivery, now=later)
    assert services.deliveries_send_due(now=later) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED and delivery.attempts == 7
    with pytest.raises(ValidationError, match="already succeeded"):
        services.delivery_retry_now(delivery=delivery)


def test_a_disabled_endpoint_gets_nothing_more_but_a_test_event(
    admin_user, agent, customer, receiver
):
    endpoint = endpoint_for(admin_user, receiver.url)
    case_open(agent, customer, now=T0)
    services.endpoint_update(
        endpoint=endpoint, url=receiver.url, description="", events=ALL_EVENTS, is_active=False
    )
    case_open(agent, customer, now=T0)
    assert services.deliveries_send_due(now=T0) == 1
    assert receiver.requests == []
    assert Delivery.objects.get().last_error == "The endpoint is disabled."
    services.endpoint_test_send(endpoint=endpoint, now=T0)
    assert services.deliveries_send_due(now=T0) == 1
    [request] = receiver.requests
    assert request.json["type"] == "test"


def test_a_delivery_another_worker_holds_is_not_sent_twice(admin_user, agent, customer, receiver):
    endpoint_for(admin_user, receiver.url)
    case_open(agent, customer, now=T0)
    delivery = Delivery.objects.get()
    # Another worker claimed it a moment ago and is still waiting for the receiver.
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=T0 + services.CLAIM)
    assert services.delivery_attempt(delivery_id=delivery.pk, now=T0) is None
    assert receiver.requests == []


def test_a_rotated_secret_signs_from_then_on(admin_user, agent, customer, receiver):
    endpoint = endpoint_for(admin_user, receiver.url)
    old = endpoint.secret
    case_open(agent, customer, now=T0)
    endpoint = services.endpoint_secret_rotate(endpoint=endpoint)
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    services.deliveries_send_due(now=T0)
    [request] = receiver.requests
    assert verify(endpoint.secret, request.headers["X-Kehu-Signature"], request.body)
    assert not verify(old, request.headers["X-Kehu-Signature"], request.body)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hooks", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("", "cannot be blank"),
        ("https://", "has no host name"),
        ("http://exa mple.com/", "Enter a valid web address"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(admin_user, url, message):
    with pytest.raises(ValidationError) as error:
        endpoint_for(admin_user, url)
    assert message in " ".join(error.value.message_dict["url"])
    assert not Endpoint.objects.exists()


def test_an_endpoint_needs_an_event(admin_user, receiver):
    with pytest.raises(ValidationError, match="at least one event"):
        endpoint_for(admin_user, receiver.url, events=[])
    with pytest.raises(ValidationError, match="at least one event"):
        endpoint_for(admin_user, receiver.url, events=["case.deleted"])
    assert not Endpoint.objects.exists()


@pytest.fixture
def broken_receiver():
    """A TCP server that answers a slow non-HTTP line, or nothing at all, when told."""
    behaviour = {"mode": "garbage"}

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(65536)
            if behaviour["mode"] == "garbage":
                self.request.sendall(b"this is not HTTP\r\n\r\n")
            else:
                stop.wait(5)  # never answers within the (shortened) timeout

    stop = threading.Event()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield behaviour, f"http://127.0.0.1:{server.server_address[1]}/hooks"
    stop.set()
    server.shutdown()
    server.server_close()


def test_a_receiver_that_speaks_nonsense_or_hangs_is_a_failure_retried_later(
    admin_user, agent, customer, broken_receiver, monkeypatch
):
    behaviour, url = broken_receiver
    endpoint_for(admin_user, url)
    case_open(agent, customer, now=T0)
    assert services.deliveries_send_due(now=T0) == 1
    delivery = Delivery.objects.get()
    assert delivery.last_status_code is None and delivery.last_error
    assert delivery.next_attempt_at == T0 + MINUTE
    behaviour["mode"] = "hang"
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.2)
    assert services.deliveries_send_due(now=T0 + MINUTE) == 1
    delivery.refresh_from_db()
    assert "timed out" in delivery.last_error and delivery.attempts == 2
    assert delivery.status == Delivery.Status.PENDING
