"""The CTI webhook: Zammad's generic CTI events in, one call per callId, whatever the
telephony system repeats, reorders or gets wrong."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.telephony import services
from kehu.telephony.models import Call, CallAlert, CallEvent, CallState, CtiIntegration
from tests.telephony.conftest import (
    T0,
    alerts_snapshot,
    call_snapshot,
    nothing_written,
    post_event,
)

INBOUND = {"from_": "+86 138 0013 8000", "to": "4008001234", "direction": "in"}


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


# ---------------------------------------------------------------- the event shape


def test_form_encoded_newcall_answer_hangup_make_one_call(webhook, cti_token, zhang, agent):
    response = post_event(
        webhook,
        cti_token,
        event="newCall",
        callId="c1",
        user=["agent"],
        queue="sales",
        timestamp=T0,
        **INBOUND,
    )
    assert response.status_code == 200
    assert response.json() == {}
    call = Call.objects.get()
    assert call.state == CallState.RINGING
    assert call.get_state_display() == "Ringing"
    assert (call.customer, call.number_e164, call.our_number, call.queue) == (
        zhang,
        "+8613800138000",
        "4008001234",
        "sales",
    )
    assert call.started_at == at(0)

    post_event(
        webhook,
        cti_token,
        event="answer",
        callId="c1",
        user="agent",
        answeringNumber="801",
        timestamp=T0 + 7,
        **INBOUND,
    )
    call.refresh_from_db()
    assert call.state == CallState.ANSWERED
    assert call.get_state_display() == "In progress"
    assert call.agent == agent and call.answered_at == at(7)

    post_event(
        webhook,
        cti_token,
        event="hangup",
        callId="c1",
        cause="normalClearing",
        timestamp=T0 + 7 + 125,
        **INBOUND,
    )
    call.refresh_from_db()
    assert call.state == CallState.ENDED
    assert call.get_state_display() == "Answered"
    assert call.ended_at == at(132) and call.cause == "normalClearing"
    assert call.duration_seconds == 125  # hangup − answer, not hangup − ring
    assert Call.objects.count() == 1
    assert sorted(CallEvent.objects.values_list("event", flat=True)) == [
        "answer",
        "hangup",
        "newCall",
    ]


def test_json_body_is_read_like_the_form(webhook, cti_token, zhang, agent):
    for event, extra in (
        ("newCall", {"user": ["agent"]}),
        ("answer", {"user": "agent"}),
        ("hangup", {"cause": "normalClearing"}),
    ):
        response = post_event(
            webhook,
            cti_token,
            as_json=True,
            event=event,
            callId="j1",
            timestamp=T0 + {"newCall": 0, "answer": 3, "hangup": 63}[event],
            **INBOUND,
            **extra,
        )
        assert response.status_code == 200, response.content
        assert response.json() == {}
    call = Call.objects.get()
    assert (call.state, call.customer, call.agent, call.duration_seconds) == (
        CallState.ENDED,
        zhang,
        agent,
        60,
    )


def test_json_may_send_numbers_and_users_as_plain_values(webhook, cti_token, zhang, agent):
    response = post_event(
        webhook,
        cti_token,
        as_json=True,
        event="newCall",
        callId=42,
        from_=8613800138000,
        to=4008001234,
        direction="in",
        user="agent",
        timestamp=T0,
    )
    assert response.status_code == 200, response.content
    call = Call.objects.get()
    assert (call.call_id, call.customer) == ("42", zhang)
    assert CallAlert.objects.get().user == agent


def test_newcall_then_hangup_without_answer_is_missed(webhook, cti_token, zhang, agent):
    post_event(
        webhook, cti_token, event="newCall", callId="m1", user=["agent"], timestamp=T0, **INBOUND
    )
    post_event(
        webhook,
        cti_token,
        event="hangup",
        callId="m1",
        cause="cancel",
        timestamp=T0 + 20,
        **INBOUND,
    )
    call = Call.objects.get()
    assert call.state == CallState.MISSED
    assert call.answered_at is None and call.duration_seconds is None
    assert call.cause == "cancel"
    # The call is over and nobody took it: no panel stays open.
    assert alerts_snapshot() == {"agent": False}


# ---------------------------------------------------------------- who may post


def test_wrong_token_is_401_and_writes_nothing(webhook, cti_token, zhang, agent):
    for token in ("wrong", cti_token[:-1], cti_token + "x", cti_token.upper()):
        if token == cti_token:
            continue
        response = post_event(webhook, token, event="newCall", callId="x", **INBOUND)
        assert response.status_code == 401, token
        assert response.json() == {"error": "invalid token"}
    assert nothing_written()


def test_deactivated_integration_is_refused(webhook, cti_token, agent):
    CtiIntegration.objects.update(is_active=False)
    response = post_event(webhook, cti_token, event="newCall", callId="x", **INBOUND)
    assert response.status_code == 401
    assert nothing_written()


def test_deactivating_through_the_settings_page_refuses_the_token(
    webhook, cti_token, supervisor_client, agent
):
    integration = CtiIntegration.objects.get()
    response = supervisor_client.post("/telephony/", {"deactivate": integration.pk})
    assert response.status_code == 302
    assert post_event(webhook, cti_token, event="newCall", callId="x", **INBOUND).status_code == 401
    assert nothing_written()


def test_settings_page_shows_the_token_once_and_it_works(supervisor_client, webhook, agent):
    response = supervisor_client.post("/telephony/", {"integration": "1", "name": "Asterisk"})
    assert response.status_code == 200
    url = response.context["webhook_base"] + response.context["new_token"]
    assert url in response.content.decode()
    token = response.context["new_token"]
    assert token not in supervisor_client.get("/telephony/").content.decode()
    assert CtiIntegration.objects.get().token_digest == CtiIntegration.digest_of(token)
    assert post_event(webhook, token, event="newCall", callId="s1", **INBOUND).status_code == 200


def test_only_supervisors_and_admins_manage_integrations(agent_client, analyst_client):
    for client in (agent_client, analyst_client):
        assert client.get("/telephony/").status_code == 403
        assert client.post("/telephony/", {"integration": "1", "name": "x"}).status_code == 403
    assert not CtiIntegration.objects.exists()


def test_the_webhook_takes_post_only(webhook, cti_token):
    assert webhook.get(f"/cti/{cti_token}").status_code == 405
    assert nothing_written()


# ---------------------------------------------------------------- malformed events


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            "event=newCall&from=13800138000&direction=in",
            "application/x-www-form-urlencoded",
            "callId is required",
        ),
        (
            "event=ring&callId=a1&from=13800138000",
            "application/x-www-form-urlencoded",
            "Unknown event",
        ),
        ("callId=a1&from=13800138000", "application/x-www-form-urlencoded", "Unknown event"),
        (
            "event=newCall&callId=a1&direction=sideways",
            "application/x-www-form-urlencoded",
            "direction must be",
        ),
        (
            "event=newCall&callId=" + "x" * 101,
            "application/x-www-form-urlencoded",
            "at most 100 characters",
        ),
        (
            "event=newCall&callId=a1&timestamp=yesterday",
            "application/x-www-form-urlencoded",
            "timestamp must be",
        ),
        (
            "event=newCall&callId=a1&timestamp=nan",
            "application/x-www-form-urlencoded",
            "timestamp must be",
        ),
        (
            "event=newCall&callId=a1&timestamp=1e300",
            "application/x-www-form-urlencoded",
            "timestamp must be",
        ),
        (
            "event=newCall&callId=a1&timestamp=1e18",
            "application/x-www-form-urlencoded",
            "timestamp must be",
        ),
        (
            "event=newCall&callId=a1&timestamp=-1e18",
            "application/x-www-form-urlencoded",
            "timestamp must be",
        ),
        ('{"event": "newCall", "callId": "a1",', "application/json", "not valid JSON"),
        ('["newCall", "a1"]', "application/json", "must be a JSON object"),
        (
            '{"event": "newCall", "callId": "a1", "timestamp": "soon"}',
            "application/json",
            "timestamp must be",
        ),
        ('{"event": "hangup"}', "application/json", "callId is required"),
    ],
)
def test_malformed_event_is_400_with_the_reason_and_writes_nothing(
    webhook, cti_token, agent, body, content_type, message
):
    response = webhook.post(f"/cti/{cti_token}", body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert nothing_written()


# ---------------------------------------------------------------- repeats and reordering


def test_the_same_event_twice_changes_nothing(webhook, cti_token, zhang, agent, agent2):
    events = [
        {"event": "newCall", "user": ["agent", "agent2"], "timestamp": T0},
        {"event": "answer", "user": "agent", "timestamp": T0 + 4},
        {"event": "hangup", "cause": "normalClearing", "timestamp": T0 + 34},
    ]
    for fields in events:
        first = post_event(webhook, cti_token, callId="d1", **INBOUND, **fields)
        call = Call.objects.get()
        before = (
            call_snapshot(call),
            alerts_snapshot(),
            CallEvent.objects.count(),
            CallAlert.objects.count(),
        )
        # The repeat arrives later and (as some PBXs do) with another timestamp.
        again = post_event(
            webhook,
            cti_token,
            callId="d1",
            **INBOUND,
            **(fields | {"timestamp": fields["timestamp"] + 30}),
        )
        assert again.status_code == 200 and again.json() == first.json()
        after = (
            call_snapshot(call),
            alerts_snapshot(),
            CallEvent.objects.count(),
            CallAlert.objects.count(),
        )
        assert after == before, fields["event"]
    assert call_snapshot(call)["duration"] == 30


def test_a_repeated_newcall_does_not_reopen_a_dismissed_panel(
    webhook, cti_token, zhang, agent, agent_client
):
    post_event(webhook, cti_token, event="newCall", callId="d2", user=["agent"], **INBOUND)
    alert = CallAlert.objects.get()
    assert agent_client.post(f"/calls/alerts/{alert.pk}/dismiss/").status_code == 200
    post_event(webhook, cti_token, event="newCall", callId="d2", user=["agent"], **INBOUND)
    assert alerts_snapshot() == {"agent": False}
    assert agent_client.get("/calls/probe/?current=").status_code == 204


ANSWERED_CALL = [
    {"event": "newCall", "user": ["agent", "agent2"], "timestamp": T0, "queue": "vip"},
    {"event": "answer", "user": "agent", "answeringNumber": "801", "timestamp": T0 + 6},
    {"event": "hangup", "cause": "normalClearing", "timestamp": T0 + 96},
]
MISSED_CALL = [
    {"event": "newCall", "user": ["agent", "agent2"], "timestamp": T0},
    {"event": "hangup", "cause": "cancel", "timestamp": T0 + 25},
]


def _final_state(webhook, token, events, call_id):
    for fields in events:
        response = post_event(webhook, token, callId=call_id, **INBOUND, **fields)
        assert response.status_code == 200, response.content
    call = Call.objects.get(call_id=call_id)
    snapshot = call_snapshot(call) | {"call_id": None}
    return snapshot, alerts_snapshot(call)


@pytest.mark.parametrize("events", [ANSWERED_CALL, MISSED_CALL], ids=["answered", "missed"])
def test_events_in_any_order_give_the_same_call(webhook, cti_token, zhang, agent, agent2, events):
    expected = _final_state(webhook, cti_token, events, "in-order")
    for n, order in enumerate(itertools.permutations(events)):
        assert _final_state(webhook, cti_token, order, f"order-{n}") == expected, [
            e["event"] for e in order
        ]
    assert Call.objects.count() == 1 + len(list(itertools.permutations(events)))
    snapshot, alerts = expected
    if events is ANSWERED_CALL:
        assert snapshot["state"] == CallState.ENDED and snapshot["duration"] == 90
        assert snapshot["started_at"] == at(0) and snapshot["queue"] == "vip"
        assert alerts == {"agent": True, "agent2": False}  # the one who answered logs it
    else:
        assert snapshot["state"] == CallState.MISSED and snapshot["duration"] is None
        assert alerts == {"agent": False, "agent2": False}


def test_hangup_answer_newcall_reversed_is_the_answered_call(webhook, cti_token, zhang, agent):
    for fields in reversed(ANSWERED_CALL):
        post_event(webhook, cti_token, callId="rev", **INBOUND, **fields)
    call = Call.objects.get()
    assert call.state == CallState.ENDED
    assert (call.started_at, call.answered_at, call.ended_at) == (at(0), at(6), at(96))
    assert (call.agent, call.customer, call.duration_seconds) == (agent, zhang, 90)


# ---------------------------------------------------------------- blocked numbers, integrations


def test_a_blocked_number_is_rejected_without_an_alert(
    webhook, cti_token, zhang, agent, supervisor
):
    services.number_block(actor=supervisor, number="0086-138-0013-8000", reason="spam")
    response = post_event(
        webhook,
        cti_token,
        event="newCall",
        callId="b1",
        user=["agent"],
        from_="13800138000",
        to="4008001234",
        direction="in",
    )
    assert response.status_code == 200
    assert response.json() == {"action": "reject", "reason": "busy"}
    call = Call.objects.get()
    assert call.blocked
    assert not CallAlert.objects.exists()
    # Repeated, still rejected; the hang-up that follows is just logged.
    again = post_event(
        webhook,
        cti_token,
        event="newCall",
        callId="b1",
        user=["agent"],
        from_="13800138000",
        direction="in",
    )
    assert again.json() == {"action": "reject", "reason": "busy"}
    hangup = post_event(
        webhook,
        cti_token,
        event="hangup",
        callId="b1",
        cause="busy",
        from_="13800138000",
        direction="in",
    )
    assert hangup.json() == {}
    assert not CallAlert.objects.exists()


def test_blocking_through_the_settings_page(supervisor_client, webhook, cti_token, agent):
    response = supervisor_client.post(
        "/telephony/", {"block": "1", "number": "+86 138 0013 8000", "reason": "spam"}
    )
    assert response.status_code == 302
    response = post_event(
        webhook, cti_token, event="newCall", callId="b2", from_="8613800138000", direction="in"
    )
    assert response.json() == {"action": "reject", "reason": "busy"}
    bad = supervisor_client.post("/telephony/", {"block": "1", "number": "anonymous"}, follow=True)
    assert "not a phone number" in bad.content.decode()


def test_two_integrations_with_the_same_call_id_are_two_calls(webhook, cti_token, zhang, agent):
    _other, other_token = services.integration_create(name="Cloud call centre")
    post_event(webhook, cti_token, event="newCall", callId="same", timestamp=T0, **INBOUND)
    post_event(
        webhook,
        other_token,
        event="newCall",
        callId="same",
        timestamp=T0 + 1,
        from_="010 6552 9988",
        direction="in",
    )
    post_event(
        webhook,
        other_token,
        event="hangup",
        callId="same",
        timestamp=T0 + 9,
        from_="010 6552 9988",
        direction="in",
    )
    assert Call.objects.count() == 2
    mine, theirs = Call.objects.order_by("started_at")
    assert (mine.number_e164, mine.state) == ("+8613800138000", CallState.RINGING)
    assert (theirs.number_e164, theirs.state) == ("+861065529988", CallState.MISSED)


def test_an_event_without_timestamp_takes_the_arrival_time(webhook, cti_token, agent):
    from django.utils import timezone

    before = timezone.now()
    post_event(webhook, cti_token, event="newCall", callId="now", **INBOUND)
    call = Call.objects.get()
    assert before <= call.started_at <= timezone.now()
    assert call.started_at - before < timedelta(seconds=5)


# ---------------------------------------------------------------- concurrency (real HTTP)


def _post_at_once(url: str, bodies: list[bytes]) -> list[tuple[int, bytes]]:
    """Posts every body from its own thread, all released at the same moment."""
    import threading
    import urllib.error
    import urllib.request

    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def send(i: int) -> None:
        request = urllib.request.Request(
            url,
            data=bodies[i],
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                results[i] = (response.status, response.read())
        except urllib.error.HTTPError as error:
            results[i] = (error.code, error.read())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _form(**fields) -> bytes:
    from urllib.parse import urlencode

    users = fields.pop("user", [])
    users = [users] if isinstance(users, str) else users
    pairs = [(k.rstrip("_"), v) for k, v in fields.items()] + [("user[]", u) for u in users]
    return urlencode(pairs).encode()


@pytest.fixture
def race_setup(transactional_db, agent, agent2, zhang):
    """Committed data for a server on other connections; the integration's token."""
    _integration, token = services.integration_create(name="PBX")
    return token


def test_eight_identical_newcalls_at_once_make_one_call_and_one_event(
    race_setup, concurrent_server
):
    url, counts = concurrent_server
    body = _form(event="newCall", callId="race", user=["agent"], timestamp=T0, **INBOUND)
    results = _post_at_once(f"{url}/cti/{race_setup}", [body] * 8)
    assert [status for status, _body in results] == [200] * 8, results
    assert counts() == {"calls": 1, "events": 1, "alerts": 1, "states": ["ringing"]}


def test_newcall_answer_hangup_at_once_make_one_answered_call(race_setup, concurrent_server):
    url, counts = concurrent_server
    bodies = [_form(callId="race3", **INBOUND, **fields) for fields in ANSWERED_CALL] * 3
    results = _post_at_once(f"{url}/cti/{race_setup}", bodies)
    assert [status for status, _body in results] == [200] * len(bodies), results
    assert counts() == {"calls": 1, "events": 3, "alerts": 2, "states": ["ended"]}


def test_json_may_name_the_agent_by_a_numeric_extension(webhook, cti_token, zhang, agent2):
    for user in (802, [802]):
        CallAlert.objects.all().delete()
        response = post_event(
            webhook,
            cti_token,
            as_json=True,
            event="newCall",
            callId=f"ext-{user}",
            user=user,
            **INBOUND,
        )
        assert response.status_code == 200, response.content
        assert CallAlert.objects.get().user == agent2


# ---------------------------------------------------------------- what an event costs


def _statements(webhook, token, **fields) -> list[str]:
    """The SQL one event runs (the test's own savepoints left out: in production the
    event's transaction is BEGIN IMMEDIATE … COMMIT)."""
    with CaptureQueriesContext(connection) as captured:
        response = post_event(webhook, token, callId="q1", **INBOUND, **fields)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


def test_each_event_runs_a_few_statements_and_writes_only_what_changed(
    webhook, cti_token, zhang, agent, agent2
):
    # token; blocked?; who has the number; the agents named; the call; insert the
    # call, the event, the two panels.
    new_call = _statements(webhook, cti_token, event="newCall", user=["agent", "agent2"])
    assert len(new_call) == 8, new_call
    # token; blocked?; the agent; the call; its events; update, insert the event, the
    # answering agent's panel (there already: nothing written).
    answer = _statements(webhook, cti_token, event="answer", user="agent", answeringNumber="801")
    assert len(answer) == 8, answer
    assert any(sql.startswith("UPDATE telephony_call SET state = ") and "number_e164" not in sql
               for sql in answer), answer  # the changed columns only
    # token; blocked?; the call; its events; update, insert the event; settle missed calls.
    hangup = _statements(webhook, cti_token, event="hangup", cause="normalClearing")
    assert len(hangup) == 7, hangup
    assert not [sql for sql in hangup if "telephony_callalert" in sql]
    # A repeat reads and writes nothing more than it needs to recognise itself.
    again = _statements(webhook, cti_token, event="hangup", cause="normalClearing")
    assert len(again) == 4, again
    assert not [sql for sql in again if sql.startswith(("INSERT", "UPDATE"))]
    call = Call.objects.get()
    assert (call.state, call.agent, call.customer) == (CallState.ENDED, agent, zhang)
    assert alerts_snapshot(call) == {"agent": True, "agent2": False}


# ---------------------------------------------------------------- the shortcut past middleware


def test_the_webhook_sets_no_cookie_and_needs_no_session(webhook, cti_token, zhang, agent):
    response = post_event(webhook, cti_token, event="newCall", callId="c1", **INBOUND)
    assert response.status_code == 200
    assert not response.cookies
    assert response["Content-Length"] == str(len(response.content))
    assert "match;dur=" in response["Server-Timing"]


def test_a_host_not_allowed_is_refused_before_anything_is_written(cti_token, zhang, agent):
    from django.test import Client

    response = post_event(Client(HTTP_HOST="evil.example"), cti_token, event="newCall",
                          callId="h1", **INBOUND)
    assert response.status_code == 400
    assert nothing_written()


def test_other_paths_under_cti_are_not_the_webhook(webhook, cti_token):
    response = webhook.post(f"/cti/{cti_token}/extra", {"event": "newCall", "callId": "p1"})
    assert response.status_code == 404
    assert webhook.post("/cti/", {"event": "newCall", "callId": "p1"}).status_code == 404
    assert nothing_written()


def test_errors_are_in_the_language_the_pbx_asks_for(cti_token):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = post_event(client, cti_token, event="ring", callId="l1")
    assert response.status_code == 400
    assert "Unknown event" in response.json()["error"]
    chinese = post_event(Client(HTTP_ACCEPT_LANGUAGE="zh-hans"), cti_token, event="ring",
                         callId="l1")
    assert "Unknown event" not in chinese.json()["error"]


def test_a_number_is_read_in_the_region_configured_at_the_time(webhook, cti_token, agent,
                                                                 settings):
    """The remembered parses are per region: the same text reads differently in GB."""
    post_event(webhook, cti_token, event="newCall", callId="r1", from_="020 7946 0018",
               direction="in")
    settings.KEHU_PHONE_REGION = "GB"
    post_event(webhook, cti_token, event="newCall", callId="r2", from_="020 7946 0018",
               direction="in")
    numbers = dict(Call.objects.values_list("call_id", "number_e164"))
    assert numbers == {"r1": "+862079460018", "r2": "+442079460018"}
