"""The telephony API: the call log and the number lookup, with bearer tokens."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kehu.customers import services as customer_services
from kehu.telephony import services
from kehu.telephony.models import Call, CallState, Direction
from tests.conftest import bearer
from tests.telephony.conftest import T0, post_event

API = "/api"


@pytest.fixture
def api(agent):
    client = Client(enforce_csrf_checks=True)
    client.defaults.update(bearer(agent))
    return client


@pytest.fixture
def answered(webhook, cti_token, zhang, agent) -> Call:
    fields = {"from_": "+86 138 0013 8000", "to": "4008001234", "direction": "in", "callId": "a1"}
    post_event(webhook, cti_token, event="newCall", user=["agent"], timestamp=T0, **fields)
    post_event(webhook, cti_token, event="answer", user="agent", timestamp=T0 + 2, **fields)
    post_event(
        webhook, cti_token, event="hangup", cause="normalClearing", timestamp=T0 + 47, **fields
    )
    return Call.objects.get(call_id="a1")


def test_a_call_as_the_api_shows_it(api, answered, zhang):
    response = api.get(f"{API}/calls/{answered.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body | {"id": None} == {
        "id": None,
        "call_id": "a1",
        "direction": "in",
        "state": "ended",
        "number": "+86 138 0013 8000",
        "number_e164": "+8613800138000",
        "our_number": "4008001234",
        "queue": "",
        "agent": "agent",
        "customer_id": zhang.pk,
        "customer_name": "张伟明",
        "contact_id": None,
        "match_count": 1,
        "blocked": False,
        "started_at": body["started_at"],
        "answered_at": body["answered_at"],
        "ended_at": body["ended_at"],
        "duration_seconds": 45,
        "cause": "normalClearing",
        "logged_note_id": None,
    }
    assert datetime.fromisoformat(body["started_at"]) == datetime.fromtimestamp(T0, tz=UTC)
    assert api.get(f"{API}/calls/{answered.pk + 1000}").status_code == 404


def test_the_call_log_filters_and_pages(api, answered, zhang, agent):
    now = datetime.fromtimestamp(T0, tz=UTC)
    Call.objects.bulk_create(
        Call(
            call_id=f"x{i}",
            direction=Direction.OUTBOUND if i % 2 else Direction.INBOUND,
            state=CallState.MISSED,
            started_at=now - timedelta(minutes=i + 1),
            number_e164="+8613912345678",
        )
        for i in range(60)
    )
    first = api.get(f"{API}/calls").json()
    assert (len(first["items"]), first["page"], first["has_next"]) == (50, 1, True)
    assert first["items"][0]["call_id"] == "a1"  # newest first
    second = api.get(f"{API}/calls", {"page": 2}).json()
    assert (len(second["items"]), second["has_next"]) == (11, False)
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(set(ids)) == 61
    assert api.get(f"{API}/calls", {"page": 3}).json()["items"] == []

    mine = api.get(f"{API}/calls", {"customer_id": zhang.pk}).json()["items"]
    assert [c["call_id"] for c in mine] == ["a1"]
    out = api.get(f"{API}/calls", {"direction": "out"}).json()["items"]
    assert len(out) == 30 and {c["direction"] for c in out} == {"out"}
    ended = api.get(f"{API}/calls", {"state": "ended"}).json()["items"]
    assert [c["call_id"] for c in ended] == ["a1"]
    missed_in = api.get(f"{API}/calls", {"state": "missed", "direction": "in"}).json()
    assert len(missed_in["items"]) == 30
    assert api.get(f"{API}/calls", {"state": "lost"}).status_code == 422
    assert api.get(f"{API}/calls", {"page": "zero"}).status_code == 422


@pytest.mark.parametrize(
    "number",
    ["+86 138 0013 8000", "0086-138-0013-8000", "13800138000", "8613800138000", "(138) 0013.8000"],
)
def test_lookup_reads_any_written_form(api, zhang, xihu, number):
    response = api.get(f"{API}/lookup", {"number": number})
    assert response.status_code == 200
    assert response.json() == {
        "number_e164": "+8613800138000",
        "blocked": False,
        "matches": [
            {
                "customer_id": zhang.pk,
                "customer_number": zhang.number,
                "customer_name": "张伟明",
                "salutation": "张先生",
                "contact_id": None,
                "contact_name": None,
                "last_contact_at": None,
            }
        ],
    }


def test_lookup_of_a_contact_number_and_an_extension(api, xihu):
    wang = xihu.contacts.get()
    body = api.get(f"{API}/lookup", {"number": "0086 139 1000 2000"}).json()
    assert [
        (m["customer_id"], m["contact_id"], m["contact_name"], m["salutation"])
        for m in body["matches"]
    ] == [(xihu.pk, wang.pk, "王建国", "王总")]
    body = api.get(f"{API}/lookup", {"number": "(010) 6552-9988 ext. 12"}).json()
    assert body["number_e164"] == "+861065529988"
    assert [m["customer_id"] for m in body["matches"]] == [xihu.pk]


def test_lookup_of_several_is_most_recent_contact_first(api, agent):
    a = customer_services.customer_create(
        actor=agent, kind="individual", name="甲", phones=["0571 8888 6666"]
    )
    b = customer_services.customer_create(
        actor=agent, kind="individual", name="乙", phones=["0571 8888 6666"]
    )
    customer_services.note_add(actor=agent, customer=a, body="来过", kind="visit")
    matches = api.get(f"{API}/lookup", {"number": "057188886666"}).json()["matches"]
    assert [m["customer_id"] for m in matches] == [a.pk, b.pk]
    assert matches[0]["last_contact_at"] is not None and matches[1]["last_contact_at"] is None


def test_lookup_of_unknown_withheld_and_blocked_numbers(api, supervisor, zhang):
    assert api.get(f"{API}/lookup", {"number": "13912345678"}).json() == {
        "number_e164": "+8613912345678",
        "blocked": False,
        "matches": [],
    }
    assert api.get(f"{API}/lookup", {"number": "anonymous"}).json() == {
        "number_e164": None,
        "blocked": False,
        "matches": [],
    }
    services.number_block(actor=supervisor, number="+86 139 1234 5678")
    assert api.get(f"{API}/lookup", {"number": "0086 13912345678"}).json()["blocked"] is True
    services.number_block(actor=supervisor, number="13800138000")
    blocked_customer = api.get(f"{API}/lookup", {"number": "138 0013 8000"}).json()
    assert blocked_customer["blocked"] is True and len(blocked_customer["matches"]) == 1
    assert api.get(f"{API}/lookup").status_code == 422  # the number is required


def test_every_role_reads_calls_and_looks_up(analyst, answered):
    client = Client()
    client.defaults.update(bearer(analyst))
    assert client.get(f"{API}/calls").status_code == 200
    assert client.get(f"{API}/calls/{answered.pk}").status_code == 200
    assert client.get(f"{API}/lookup", {"number": "13800138000"}).status_code == 200


def test_without_a_token_the_api_answers_401(answered):
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer kehu_wrong"},
        {"HTTP_AUTHORIZATION": "Basic YWdlbnQ6eA=="},
    ):
        client = Client(**headers)
        for url in (
            f"{API}/calls",
            f"{API}/calls/{answered.pk}",
            f"{API}/lookup?number=13800138000",
        ):
            response = client.get(url)
            assert response.status_code == 401, (url, headers)
            assert response.json() == {"detail": "Authentication required."}


def test_a_signed_in_session_may_use_the_api(agent_client, answered):
    assert agent_client.get(f"{API}/calls").json()["items"][0]["call_id"] == "a1"


def test_the_openapi_schema_lists_calls_and_lookup(agent_client):
    schema = agent_client.get(f"{API}/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/calls"]) == {"get"}
    assert set(paths["/api/calls/{call_id}"]) == {"get"}
    assert set(paths["/api/lookup"]) == {"get"}
    lookup = paths["/api/lookup"]["get"]
    assert lookup["summary"] == "Who has this number?"
    assert [p["name"] for p in lookup["parameters"]] == ["number"]
    call_params = {p["name"] for p in paths["/api/calls"]["get"]["parameters"]}
    assert call_params == {"direction", "state", "customer_id", "page"}
    schemas = schema["components"]["schemas"]
    assert {"CallOut", "CallPageOut", "LookupOut", "LookupMatchOut"} <= set(schemas)
    assert "duration_seconds" in schemas["CallOut"]["properties"]
