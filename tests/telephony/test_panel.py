"""The agent's side: the probe every page polls, the call panel, logging the call, the
callback list, and outbound calls from the card's tel: links."""

import html
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.test import Client
from django.utils import timezone

from kehu.customers import services as customer_services
from kehu.customers.models import Note
from kehu.telephony.models import Call, CallAlert, CallState, Direction
from tests.telephony.conftest import T0, post_event

INBOUND = {"from_": "0086 138-0013-8000", "to": "4008001234", "direction": "in"}


def probe(client: Client, current: str = ""):
    return client.get("/calls/probe/", {"current": current})


def next_key(response) -> str:
    """The probe key the page sends on its next poll (from the returned probe element)."""
    found = re.search(r'hx-get="/calls/probe/\?current=([^"]*)"', response.content.decode())
    assert found, response.content.decode()
    return unquote(found.group(1))


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def agent2_client(agent2):
    client = Client()
    client.force_login(agent2)
    return client


def ring(webhook, token, call_id="p1", **fields):
    fields = INBOUND | fields
    response = post_event(webhook, token, event="newCall", callId=call_id, **fields)
    assert response.status_code == 200, response.content
    return Call.objects.get(call_id=call_id)


# ---------------------------------------------------------------- who sees the panel


def test_the_named_agent_sees_the_caller_and_another_agent_nothing(
    webhook, cti_token, zhang, agent_client, agent2_client
):
    for body in ("第一次来电", "第二次", "第三次", "第四次，最近的"):
        customer_services.note_add(actor=None, customer=zhang, body=body, kind="call")
    Note.objects.filter(body="第一次来电").update(created_at=timezone.now() - timedelta(days=9))
    ring(webhook, cti_token, user=["agent"])

    response = probe(agent_client)
    assert response.status_code == 200
    page = text(response)
    assert '<strong class="caller-name">张先生</strong>' in page
    assert "张伟明" in page and zhang.number in page
    assert "高钙牛奶" in page and "只接受上午来电" in page  # the usual and preferences
    assert "第四次，最近的" in page and "第三次" in page and "第二次" in page
    assert "第一次来电" not in page  # the last three contacts only
    assert f'href="/customers/{zhang.pk}/"' in page  # one click to the full card
    assert 'hx-post="/calls/' in page and "Log call" in page  # one click to log it
    assert "138 0013 8000" in page  # the number as people write it

    second = probe(agent2_client)
    assert second.status_code == 204
    assert second.content == b""


def test_an_agent_named_by_extension_gets_the_panel(
    webhook, cti_token, zhang, agent_client, agent2_client
):
    ring(webhook, cti_token, user=["802"])
    assert probe(agent2_client).status_code == 200
    assert probe(agent_client).status_code == 204


def test_no_agent_named_rings_every_agent(
    webhook, cti_token, zhang, agent_client, agent2_client, supervisor
):
    ring(webhook, cti_token)
    assert "张先生" in text(probe(agent_client))
    assert "张先生" in text(probe(agent2_client))
    assert set(CallAlert.objects.values_list("user__username", flat=True)) == {"agent", "agent2"}


def test_an_unknown_agent_name_rings_nobody_else(webhook, cti_token, zhang, agent_client):
    ring(webhook, cti_token, user=["somebody-else"])
    assert probe(agent_client).status_code == 204


@pytest.mark.usefixtures("events_clock")  # the hang-up at T0 + 63 must be under 15 minutes old
def test_answered_by_one_agent_the_others_panels_close(
    webhook, cti_token, zhang, agent_client, agent2_client
):
    ring(webhook, cti_token, user=["agent", "agent2"], timestamp=T0)
    key1, key2 = next_key(probe(agent_client)), next_key(probe(agent2_client))
    assert probe(agent_client, key1).status_code == 204  # nothing changed yet

    post_event(
        webhook, cti_token, event="answer", callId="p1", user="agent2", timestamp=T0 + 3, **INBOUND
    )
    closed = probe(agent_client, key1)
    assert closed.status_code == 200
    assert next_key(closed) == ""
    assert '<aside id="call-panel" hx-swap-oob="true"></aside>' in closed.content.decode()
    assert probe(agent_client, "").status_code == 204

    # The one who answered gets only the new state, so a half-typed note survives.
    head = probe(agent2_client, key2)
    assert head.status_code == 200
    assert '<span id="call-state" hx-swap-oob="true">In progress</span>' in text(head)
    assert "call-panel" not in head.content.decode()
    key2 = next_key(head)
    assert probe(agent2_client, key2).status_code == 204

    post_event(webhook, cti_token, event="hangup", callId="p1", timestamp=T0 + 63, **INBOUND)
    ended = probe(agent2_client, key2)
    assert '<span id="call-state" hx-swap-oob="true">Answered</span>' in text(ended)
    assert "call-panel" not in ended.content.decode()
    assert probe(agent_client, "").status_code == 204


def test_a_missed_call_closes_every_panel(webhook, cti_token, zhang, agent_client):
    ring(webhook, cti_token, user=["agent"])
    key = next_key(probe(agent_client))
    post_event(webhook, cti_token, event="hangup", callId="p1", cause="cancel", **INBOUND)
    assert next_key(probe(agent_client, key)) == ""


def test_dismissing_closes_the_panel_for_good(
    webhook, cti_token, zhang, agent, agent_client, agent2_client
):
    ring(webhook, cti_token, user=["agent", "agent2"])
    alert = CallAlert.objects.get(user=agent)
    # Nobody closes another agent's panel.
    assert agent2_client.post(f"/calls/alerts/{alert.pk}/dismiss/").status_code == 404
    response = agent_client.post(f"/calls/alerts/{alert.pk}/dismiss/")
    assert response.status_code == 200
    assert next_key(response) == ""
    assert probe(agent_client).status_code == 204
    post_event(webhook, cti_token, event="answer", callId="p1", user="agent", **INBOUND)
    assert probe(agent_client).status_code == 204
    assert probe(agent2_client).status_code == 204  # answered by the other agent
    assert agent_client.get(f"/calls/alerts/{alert.pk}/dismiss/").status_code == 405


def test_a_newer_call_replaces_the_panel(webhook, cti_token, zhang, xihu, agent_client):
    ring(webhook, cti_token, "first", user=["agent"])
    key = next_key(probe(agent_client))
    ring(webhook, cti_token, "second", user=["agent"], from_="+86 139 1000 2000")
    response = probe(agent_client, key)
    assert "王总" in text(response) and 'id="call-panel"' in response.content.decode()


def test_a_stale_ringing_call_shows_no_panel(webhook, cti_token, zhang, agent_client):
    ring(webhook, cti_token, user=["agent"], timestamp=int(timezone.now().timestamp()) - 5 * 3600)
    assert probe(agent_client).status_code == 204


# ---------------------------------------------------------------- logging the call


def log(client, call, htmx=True, **fields):
    data = {"outcome": "resolved", "reason": "inquiry", "body": "问高钙牛奶到货时间"} | fields
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/calls/{call.pk}/log/", data, headers=headers)


def test_logging_the_call_puts_it_once_on_the_timeline(
    webhook, cti_token, zhang, agent, agent_client
):
    call = ring(webhook, cti_token, user=["agent"])
    post_event(webhook, cti_token, event="answer", callId="p1", user="agent", **INBOUND)
    response = log(agent_client, call)
    assert response.status_code == 200
    assert "Call logged" in text(response) and "问高钙牛奶到货时间" in text(response)
    note = Note.objects.get()
    call.refresh_from_db()
    assert call.note == note
    assert (note.kind, note.outcome, note.reason, note.customer, note.author) == (
        "call",
        "resolved",
        "inquiry",
        zhang,
        agent,
    )

    card = text(agent_client.get(f"/customers/{zhang.pk}/"))
    assert card.count("问高钙牛奶到货时间") == 1
    assert card.count('class="timeline-call"') == 1
    timeline = card[card.index('<ol class="timeline">') :]
    assert "Incoming call" in timeline and "Resolved" in timeline and "Inquiry" in timeline


def test_logging_without_htmx_returns_to_the_card(webhook, cti_token, zhang, agent_client):
    call = ring(webhook, cti_token, user=["agent"])
    response = log(agent_client, call, htmx=False)
    assert response.status_code == 302 and response.url == f"/customers/{zhang.pk}/"


def test_a_call_is_logged_once(webhook, cti_token, zhang, agent_client):
    call = ring(webhook, cti_token, user=["agent"])
    assert log(agent_client, call).status_code == 200
    again = log(agent_client, call, body="second time")
    assert again.status_code == 422
    assert "already been logged" in text(again)
    assert Note.objects.count() == 1


def test_a_call_without_a_customer_cannot_be_logged(webhook, cti_token, agent_client):
    call = ring(webhook, cti_token, user=["agent"], from_="13912345678")
    response = log(agent_client, call)
    assert response.status_code == 422
    assert "Choose or create the customer" in text(response)
    assert not Note.objects.exists()


def test_a_log_needs_a_valid_outcome_and_reason(webhook, cti_token, zhang, agent_client):
    call = ring(webhook, cti_token, user=["agent"])
    response = log(agent_client, call, outcome="great", reason="")
    assert response.status_code == 422
    assert not Note.objects.exists()


def test_the_log_form_error_is_shown_by_htmx(webhook, cti_token, zhang, agent_client):
    """htmx swaps no 4xx answer unless told to: the form must ask for its 422s."""
    ring(webhook, cti_token, user=["agent"])
    panel = probe(agent_client).content.decode()
    form = re.search(r'<form class="call-log"[^>]*>', panel).group(0)
    assert "422" in form, form


def test_an_unknown_caller_is_offered_a_new_customer_with_the_number(
    webhook, cti_token, agent_client
):
    ring(webhook, cti_token, user=["agent"], from_="0086 139-1234-5678")
    page = text(probe(agent_client))
    assert "Unknown caller." in page
    link = re.search(r'<a href="([^"]+)"[^>]*class="new-customer"', page).group(1)
    assert link == "/customers/new/?phone=%2B8613912345678"
    form = text(agent_client.get(link))
    assert "+8613912345678" in re.search(r'<textarea name="phones"[^>]*>[^<]*', form).group(0)


# ---------------------------------------------------------------- who may


def test_an_analyst_may_not_take_or_log_calls(
    webhook, cti_token, zhang, analyst, analyst_client, agent
):
    call = ring(webhook, cti_token)
    alert = CallAlert.objects.get(user=agent)
    assert probe(analyst_client).status_code == 403
    assert log(analyst_client, call).status_code == 403
    assert (
        analyst_client.post(
            "/calls/outbound/", {"customer": zhang.pk, "number": "13800138000"}
        ).status_code
        == 403
    )
    assert analyst_client.post(f"/calls/alerts/{alert.pk}/dismiss/").status_code == 403
    assert (
        analyst_client.post(f"/calls/{call.pk}/identify/", {"customer": zhang.pk}).status_code
        == 403
    )
    assert analyst_client.post(f"/calls/{call.pk}/callback-done/").status_code == 403
    assert not Note.objects.exists() and Call.objects.count() == 1
    # They still read the call log and the callback list, without the panel probe.
    calls = analyst_client.get("/calls/")
    assert calls.status_code == 200 and "张伟明" in text(calls)
    assert analyst_client.get("/calls/callbacks/").status_code == 200
    assert "/calls/probe/" not in analyst_client.get("/").content.decode()


def test_anonymous_is_sent_to_log_in(webhook, cti_token, zhang):
    call = ring(webhook, cti_token)
    anonymous = Client()
    for method, url in [
        ("get", "/calls/probe/?current="),
        ("post", f"/calls/{call.pk}/log/"),
        ("post", "/calls/outbound/"),
        ("get", "/calls/"),
        ("get", "/calls/callbacks/"),
        ("get", "/telephony/"),
    ]:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/?next="), url


# ---------------------------------------------------------------- callbacks


def miss(webhook, token, call_id, number="13800138000", at=T0):
    post_event(
        webhook, token, event="newCall", callId=call_id, from_=number, direction="in", timestamp=at
    )
    post_event(
        webhook,
        token,
        event="hangup",
        callId=call_id,
        cause="cancel",
        from_=number,
        direction="in",
        timestamp=at + 15,
    )
    return Call.objects.get(call_id=call_id)


def callbacks_page(client) -> str:
    return text(client.get("/calls/callbacks/"))


def test_a_missed_call_from_a_known_customer_is_a_callback(webhook, cti_token, zhang, agent_client):
    miss(webhook, cti_token, "m1")
    miss(webhook, cti_token, "m2", number="13912345678")  # unknown: nobody to call back
    page = callbacks_page(agent_client)
    assert "张伟明" in page
    assert 'href="tel:+8613800138000"' in page
    assert "139 1234 5678" not in page


def test_an_answered_call_back_clears_the_callback(webhook, cti_token, zhang, agent_client):
    miss(webhook, cti_token, "m1")
    # The agent calls back; nobody answers: still due.
    for event in ("newCall", "hangup"):
        post_event(
            webhook,
            cti_token,
            event=event,
            callId="o1",
            from_="801",
            to="+86 138 0013 8000",
            direction="out",
            user=["agent"],
            timestamp=T0 + 100,
        )
    assert "张伟明" in callbacks_page(agent_client)
    # Called back and answered: done.
    for i, event in enumerate(("newCall", "answer", "hangup")):
        post_event(
            webhook,
            cti_token,
            event=event,
            callId="o2",
            from_="801",
            to="138-0013-8000",
            direction="out",
            user=["agent"],
            timestamp=T0 + 200 + i,
        )
    assert "张伟明" not in callbacks_page(agent_client)
    assert Call.objects.get(call_id="m1").callback_done_at is not None


def test_logging_the_missed_call_clears_the_callback(webhook, cti_token, zhang, agent_client):
    call = miss(webhook, cti_token, "m1")
    assert log(agent_client, call, outcome="no_answer", reason="follow_up").status_code == 200
    assert "张伟明" not in callbacks_page(agent_client)


def test_done_clears_the_callback(webhook, cti_token, zhang, agent_client):
    call = miss(webhook, cti_token, "m1")
    response = agent_client.post(f"/calls/{call.pk}/callback-done/")
    assert response.status_code == 302 and response.url == "/calls/callbacks/"
    assert "张伟明" not in callbacks_page(agent_client)
    assert "No callbacks due." in callbacks_page(agent_client)


# ---------------------------------------------------------------- outbound


def dial(client, customer, number="138 0013 8000"):
    return client.post("/calls/outbound/", {"customer": customer.pk, "number": number})


def test_a_click_on_a_tel_link_logs_a_dialled_call(zhang, agent, agent_client):
    card = agent_client.get(f"/customers/{zhang.pk}/").content.decode()
    assert (
        f'href="tel:+8613800138000" data-call-log="{zhang.pk}" data-number="+8613800138000"'
    ) in card
    response = dial(agent_client, zhang, "+8613800138000")
    assert response.status_code == 201
    call = Call.objects.get(pk=response.json()["call"])
    assert (call.direction, call.state, call.agent, call.customer, call.number_e164) == (
        Direction.OUTBOUND,
        CallState.DIALLED,
        agent,
        zhang,
        "+8613800138000",
    )
    timeline = text(agent_client.get(f"/customers/{zhang.pk}/"))
    assert "Outgoing call" in timeline


def test_a_click_with_no_number_is_refused(zhang, agent_client):
    response = dial(agent_client, zhang, "anonymous")
    assert response.status_code == 400 and "not a phone number" in response.json()["error"]
    assert dial(agent_client, zhang, "").status_code == 400
    assert agent_client.post("/calls/outbound/", {"number": "13800138000"}).status_code == 404
    assert not Call.objects.exists()


def pbx_outbound(webhook, token, call_id, user="agent", to="0086 138 0013 8000", events=None):
    for event in events or ("newCall",):
        response = post_event(
            webhook,
            token,
            event=event,
            callId=call_id,
            from_="801",
            to=to,
            direction="out",
            user=[user],
        )
        assert response.status_code == 200


def test_the_pbx_events_of_a_clicked_call_join_it(webhook, cti_token, zhang, agent, agent_client):
    clicked = Call.objects.get(pk=dial(agent_client, zhang).json()["call"])
    pbx_outbound(webhook, cti_token, "pbx-77", events=("newCall", "answer", "hangup"))
    call = Call.objects.get()
    assert call.pk == clicked.pk and call.call_id == "pbx-77"
    assert (call.state, call.agent, call.customer, call.direction) == (
        CallState.ENDED,
        agent,
        zhang,
        Direction.OUTBOUND,
    )
    assert call.integration is not None and call.our_number == "801"


def test_only_the_same_agent_and_number_within_two_minutes_join(
    webhook, cti_token, zhang, agent2, agent_client
):
    clicked = Call.objects.get(pk=dial(agent_client, zhang).json()["call"])
    pbx_outbound(webhook, cti_token, "other-agent", user="agent2")
    pbx_outbound(webhook, cti_token, "other-number", to="13912345678")
    Call.objects.filter(pk=clicked.pk).update(started_at=timezone.now() - timedelta(minutes=3))
    pbx_outbound(webhook, cti_token, "too-late")
    clicked.refresh_from_db()
    assert clicked.state == CallState.DIALLED and clicked.call_id.startswith("click-")
    assert Call.objects.count() == 4


def test_a_blocked_numbers_missed_call_is_no_callback(
    webhook, cti_token, zhang, supervisor, agent_client
):
    from kehu.telephony import services

    services.number_block(actor=supervisor, number="13800138000", reason="harassment")
    call = miss(webhook, cti_token, "m1")
    assert (call.blocked, call.state, call.customer) == (True, CallState.MISSED, zhang)
    assert "张伟明" not in callbacks_page(agent_client)


def test_calls_follow_a_merged_customer_to_the_survivor(
    webhook, cti_token, zhang, agent, supervisor, agent_client
):
    duplicate = customer_services.customer_create(
        actor=agent, kind="individual", name="张伟明（重复）", phones=["139 0000 1111"]
    )
    missed = miss(webhook, cti_token, "m1", number="13900001111")
    answered = ring(webhook, cti_token, "a1", from_="13900001111", user=["agent"])
    post_event(
        webhook,
        cti_token,
        event="answer",
        callId="a1",
        user="agent",
        from_="13900001111",
        direction="in",
    )
    assert missed.customer == answered.customer == duplicate

    customer_services.customer_merge(actor=supervisor, survivor=zhang, duplicate=duplicate)
    missed.refresh_from_db()
    answered.refresh_from_db()
    assert missed.customer == answered.customer == zhang
    callbacks = callbacks_page(agent_client)
    assert f'href="/customers/{zhang.pk}/"' in callbacks
    assert log(agent_client, answered, body="合并前的来电").status_code == 200
    assert Note.objects.get().customer == zhang
    card = text(agent_client.get(f"/customers/{zhang.pk}/"))
    assert card.count('class="timeline-call"') == 2
    assert card.count("合并前的来电") == 1


# ---------------------------------------------------------------- the call log page


def test_the_call_log_page_filters(webhook, cti_token, zhang, agent, agent_client, analyst_client):
    miss(webhook, cti_token, "m1")
    ring(webhook, cti_token, "r1", from_="13912345678", user=["agent"])
    dial(agent_client, zhang)

    def rows(client, query="") -> list[str]:
        page = text(client.get(f"/calls/{query}"))
        body = page[page.index("<tbody>") : page.index("</tbody>")]
        return re.findall(r"<tr>.*?</tr>", body, flags=re.S)

    assert len(rows(agent_client)) == 3
    missed = rows(agent_client, "?state=missed")
    assert len(missed) == 1 and "张伟明" in missed[0] and "Missed" in missed[0]
    assert len(rows(agent_client, "?direction=out")) == 1
    assert len(rows(agent_client, "?mine=1")) == 1  # the dialled call is the agent's
    assert (
        len(rows(analyst_client, "?mine=1")) == 1
        and "No calls." in rows(analyst_client, "?mine=1")[0]
    )
    assert len(rows(agent_client, "?state=bogus")) == 3  # an unknown filter is ignored
    assert "139 1234 5678" in " ".join(rows(agent_client, "?state=ringing"))


def test_look_up_again_finds_the_customer_created_during_the_call(agent, agent_client):
    from kehu.customers import services as customer_services
    from kehu.telephony.models import Call, CtiIntegration
    from kehu.telephony.services import CtiEvent, cti_event_record

    integration = CtiIntegration.objects.create(name="pbx", token_digest="x")
    cti_event_record(integration=integration, event=CtiEvent(
        event="newCall", call_id="unknown-1", from_number="0086 139 0000 1111",
        users=("agent",)))
    call = Call.objects.get(call_id="unknown-1")
    assert call.customer is None
    created = customer_services.customer_create(actor=agent, kind="individual", name="新客户",
                                                phones=["13900001111"])
    response = agent_client.post(f"/calls/{call.pk}/rematch/")
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.customer == created
    assert "新客户" in response.content.decode()


def test_posted_ids_that_are_not_numbers_find_nothing(supervisor_client, agent_client):
    assert agent_client.post("/calls/outbound/", {"customer": "abc", "number": "1"}
                             ).status_code == 404
    response = supervisor_client.post("/telephony/", {"deactivate": "x"})
    assert response.status_code == 302


def test_an_answered_inbound_call_settles_earlier_missed_calls(agent):
    from kehu.customers import services as customer_services
    from kehu.telephony.models import Call, CtiIntegration
    from kehu.telephony.services import CtiEvent, cti_event_record

    customer_services.customer_create(actor=agent, kind="individual", name="王芳",
                                      phones=["13900002222"])
    integration = CtiIntegration.objects.create(name="pbx", token_digest="y")
    for event in ("newCall", "hangup"):
        cti_event_record(integration=integration, event=CtiEvent(
            event=event, call_id="m1", from_number="13900002222", users=("agent",)))
    assert Call.objects.get(call_id="m1").state == "missed"
    for event in ("newCall", "answer", "hangup"):
        cti_event_record(integration=integration, event=CtiEvent(
            event=event, call_id="a1", from_number="+86 139 0000 2222", users=("agent",)))
    assert Call.objects.get(call_id="m1").callback_done_at is not None


def test_panel_shows_open_cases_and_offers_a_new_case(agent, agent_client):
    from kehu.customers import services as customer_services
    from kehu.service import services as case_services
    from kehu.telephony.models import CtiIntegration
    from kehu.telephony.services import CtiEvent, cti_event_record

    customer = customer_services.customer_create(actor=agent, kind="individual", name="赵敏",
                                                 phones=["13900003333"])
    case = case_services.case_create(actor=agent, customer=customer, kind="complaint",
                                     subject="空调不制冷", description="第二次报修",
                                     channel="phone")
    integration = CtiIntegration.objects.create(name="pbx", token_digest="z")
    cti_event_record(integration=integration, event=CtiEvent(
        event="newCall", call_id="case-1", from_number="139-0000-3333", users=("agent",)))
    html = agent_client.get("/calls/probe/?current=").content.decode()
    assert case.reference in html and "空调不制冷" in html
    assert f"/cases/new/?customer={customer.pk}" in html
