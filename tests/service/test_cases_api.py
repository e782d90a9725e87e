"""Cases over the REST API: 401 without a token, 403 for analysts' writes, 422, 409."""

import pytest
from django.core import mail
from django.test import Client

from kehu.service.models import Case, CaseNote
from tests.conftest import bearer

from .cases_fixtures import case_open

API = "/api"


def client_for(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.defaults.update(bearer(user))
    return client


def post(client, url, data):
    return client.post(API + url, data, content_type="application/json")


@pytest.fixture
def api(agent):
    return client_for(agent)


def new_case(customer, **fields):
    return {
        "customer_id": customer.pk,
        "kind": "complaint",
        "channel": "email",
        "subject": "发票开错了",
        "category": "service",
    } | fields


def test_without_a_token_every_call_is_401(customer, policy, agent):
    case = case_open(agent, customer)
    client = Client()
    for url in ("/cases", f"/cases/{case.pk}", f"/cases/{case.pk}/notes"):
        assert client.get(API + url).status_code == 401
    assert post(client, "/cases", new_case(customer)).status_code == 401
    assert (
        post(
            client, f"/cases/{case.pk}/transitions", {"to": "acknowledged", "version": 1}
        ).status_code
        == 401
    )


def test_open_read_move_and_annotate_a_case(api, agent, customer, policy):
    response = post(api, "/cases", new_case(customer, priority="high"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("C20") and body["owner"] == "agent"
    assert body["category"] == "service" and body["sla_state"] == "on_track"
    assert body["first_response_due_at"] and body["version"] == 1
    pk = body["id"]
    moved = post(api, f"/cases/{pk}/transitions", {"to": "acknowledged", "version": 1})
    assert moved.status_code == 200 and moved.json()["status"] == "acknowledged"
    note = post(api, f"/cases/{pk}/notes", {"kind": "reply", "body": "已重开发票", "version": 2})
    assert note.status_code == 201 and note.json()["sent_to"] == "wang@example.com"
    assert len(mail.outbox) == 1
    assigned = post(api, f"/cases/{pk}/assignment", {"owner": None, "team": "财务", "version": 3})
    assert assigned.json()["owner"] is None and assigned.json()["team"] == "财务"
    read = api.get(f"{API}/cases/{pk}").json()
    assert read["version"] == 4 and read["first_responded_at"]
    assert [n["body"] for n in api.get(f"{API}/cases/{pk}/notes").json()] == ["已重开发票"]
    assert [e["kind"] for e in api.get(f"{API}/cases/{pk}/events").json()] == [
        "created",
        "status",
        "reply",
        "assignment",
    ]
    listed = api.get(f"{API}/cases", {"mine": "false"}).json()
    assert [c["id"] for c in listed["items"]] == [pk] and listed["has_next"] is False


def test_the_list_filters(api, agent, customer, policy):
    case_open(agent, customer, now=None)
    assert len(api.get(f"{API}/cases", {"sla": "breached"}).json()["items"]) == 0
    assert len(api.get(f"{API}/cases", {"status": "all"}).json()["items"]) == 1
    assert len(api.get(f"{API}/cases", {"status": "closed"}).json()["items"]) == 0


def test_an_analyst_reads_but_every_write_is_403(analyst, agent, customer, policy):
    case = case_open(agent, customer)
    client = client_for(analyst)
    assert client.get(f"{API}/cases/{case.pk}").status_code == 200
    assert client.get(f"{API}/cases").status_code == 200
    for url, data in (
        ("/cases", new_case(customer)),
        (f"/cases/{case.pk}/transitions", {"to": "acknowledged", "version": 1}),
        (f"/cases/{case.pk}/notes", {"body": "x", "version": 1}),
        (f"/cases/{case.pk}/assignment", {"team": "x", "version": 1}),
    ):
        assert post(client, url, data).status_code == 403
    assert Case.objects.get().version == 1 and Case.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": "x" * 201}, None),
        ({"kind": "rant"}, None),
        ({"customer_id": 999_999}, "customer_id"),
        ({"category": "weather"}, "category"),
        ({"owner": "nobody"}, "owner"),
        ({"kind": "praise"}, "category"),
        ({"subject": "   "}, "subject"),
    ],
)
def test_bad_input_is_422_and_stores_nothing(api, customer, policy, fields, field):
    response = post(api, "/cases", new_case(customer, **fields))
    assert response.status_code == 422, response.content
    if field:
        assert field in response.json()["detail"]
    assert not Case.objects.exists()


def test_an_invalid_transition_is_422(api, agent, customer, policy):
    case = case_open(agent, customer)
    response = post(api, f"/cases/{case.pk}/transitions", {"to": "closed", "version": 1})
    assert response.status_code == 422
    assert "A case cannot go from New to Closed." in str(response.json())


def test_a_stale_version_is_409_and_nothing_is_lost(api, agent, customer, policy):
    case = case_open(agent, customer)
    assert (
        post(api, f"/cases/{case.pk}/transitions", {"to": "acknowledged", "version": 1}).status_code
        == 200
    )
    response = post(api, f"/cases/{case.pk}/notes", {"body": "late", "version": 1})
    assert response.status_code == 409
    assert "Someone else changed this case" in response.json()["detail"]
    assert not CaseNote.objects.exists()
    assert Case.objects.get().status == "acknowledged"


def test_a_missing_case_is_404(api, db):
    assert api.get(f"{API}/cases/999").status_code == 404


def test_the_case_endpoints_are_in_the_openapi_schema(agent_client):
    paths = agent_client.get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/cases/{case_id}/transitions",
        "/api/cases/{case_id}/notes",
        "/api/cases/{case_id}/assignment",
    ):
        assert path in paths
