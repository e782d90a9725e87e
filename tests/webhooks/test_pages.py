"""The administrators' webhook pages: who may see them, endpoints, the delivery log."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.webhooks import services
from kehu.webhooks.models import Delivery, Endpoint

from ..conftest import logged_in
from ..service.cases_fixtures import case_open

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


@pytest.fixture
def endpoint(admin_user, receiver):
    return services.endpoint_create(
        actor=admin_user, url=receiver.url, description="CRM", events=["case.created"]
    )


@pytest.fixture
def delivery(endpoint, agent, customer):
    case_open(agent, customer, now=T0)
    return Delivery.objects.get()


def pages(endpoint, delivery):
    return [
        ("get", reverse("webhooks:endpoints")),
        ("post", reverse("webhooks:endpoints")),
        ("get", reverse("webhooks:endpoint", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint", args=[endpoint.pk])),
        ("post", reverse("webhooks:rotate", args=[endpoint.pk])),
        ("post", reverse("webhooks:test", args=[endpoint.pk])),
        ("get", reverse("webhooks:delivery", args=[delivery.pk])),
        ("post", reverse("webhooks:retry", args=[delivery.pk])),
    ]


@pytest.mark.parametrize("role", ["agent", "manager", "supervisor", "analyst"])
def test_every_page_refuses_everyone_but_administrators(request, role, endpoint, delivery):
    client = logged_in(request.getfixturevalue(role))
    secret = endpoint.secret
    for method, url in pages(endpoint, delivery):
        data = {"url": "https://evil.example/", "events": ["case.created"]}
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 403, (role, method, url)
        assert secret not in response.content.decode()
    assert Endpoint.objects.get().secret == secret and Endpoint.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert b"/webhooks/" not in client.get(reverse("service:cases")).content


def test_anonymous_visitors_are_sent_to_log_in(client, endpoint, delivery):
    for method, url in pages(endpoint, delivery):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_admin_adds_an_endpoint_and_sees_its_secret(admin_client, receiver):
    response = admin_client.post(
        reverse("webhooks:endpoints"),
        {
            "url": receiver.url,
            "description": "工单同步",
            "events": ["case.created", "case.resolved"],
            "is_active": "on",
        },
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["case.created", "case.resolved"] and endpoint.is_active
    page = admin_client.get(response["Location"]).content.decode()
    assert endpoint.secret in page and "X-Kehu-Signature" in page
    listing = admin_client.get(reverse("webhooks:endpoints")).content.decode()
    assert receiver.url in listing and "工单同步" in listing
    assert 'href="/webhooks/"' in listing  # the admin's navigation link


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("", "This field is required."),
    ],
)
def test_a_bad_url_in_the_form_is_explained_and_nothing_saved(admin_client, url, message):
    response = admin_client.post(
        reverse("webhooks:endpoints"), {"url": url, "events": ["case.created"]}
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_an_endpoint_without_events_is_refused(admin_client, receiver):
    response = admin_client.post(reverse("webhooks:endpoints"), {"url": receiver.url})
    assert "Choose at least one event." in response.content.decode()
    assert not Endpoint.objects.exists()


def test_an_admin_disables_rotates_and_tests_an_endpoint(
    admin_client, endpoint, receiver, huey_immediate, django_capture_on_commit_callbacks
):
    url = reverse("webhooks:endpoint", args=[endpoint.pk])
    admin_client.post(url, {"url": receiver.url, "events": ["case.created", "case.updated"]})
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.events == ["case.created", "case.updated"]
    assert "This endpoint is disabled" in admin_client.get(url).content.decode()
    old = endpoint.secret
    admin_client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert response.status_code == 302
    [request] = receiver.requests
    assert request.json["type"] == "test"
    page = admin_client.get(url).content.decode()
    assert "Test event" in page and "Delivered" in page


def test_the_delivery_log_pages_latest_first_and_retries_now(
    admin_client,
    endpoint,
    agent,
    customer,
    receiver,
    huey_immediate,
    django_capture_on_commit_callbacks,
):
    for minute in range(30):
        case_open(agent, customer, now=T0 + timedelta(minutes=minute))
    receiver.status = 500
    services.deliveries_send_due(now=T0 + timedelta(hours=1))
    url = reverse("webhooks:endpoint", args=[endpoint.pk])
    first = admin_client.get(url).content.decode()
    rows = re.findall(r'href="/webhooks/deliveries/(\d+)/"', first)
    assert len(rows) == 25 and "page=2" in first
    newest = Delivery.objects.order_by("-created_at").first()
    assert rows[0] == str(newest.pk) and "500" in first and "Pending" in first
    second = admin_client.get(url, {"page": 2}).content.decode()
    assert len(re.findall(r'href="/webhooks/deliveries/(\d+)/"', second)) == 5
    detail = admin_client.get(reverse("webhooks:delivery", args=[newest.pk])).content.decode()
    assert str(newest.event_id) in detail and "The receiver answered HTTP 500." in detail
    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("webhooks:retry", args=[newest.pk]), {"from": "delivery"})
    newest.refresh_from_db()
    assert newest.status == Delivery.Status.SUCCEEDED and newest.attempts == 2
    response = admin_client.post(reverse("webhooks:retry", args=[newest.pk]), follow=True)
    assert "already succeeded" in response.content.decode()


def test_the_lists_queries_do_not_grow_with_endpoints_or_deliveries(
    admin_user, admin_client, endpoint, agent, customer, receiver
):
    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    log = reverse("webhooks:endpoint", args=[endpoint.pk])
    listing = reverse("webhooks:endpoints")
    case_open(agent, customer, now=T0)
    few = queries(log), queries(listing)
    for n in range(10):
        case_open(agent, customer, now=T0)
        services.endpoint_create(
            actor=admin_user, url=f"{receiver.url}/{n}", description="", events=["case.updated"]
        )
    assert (queries(log), queries(listing)) == few
