"""Caller recognition in Chromium: the PBX posts an event over real HTTP, and the agent's
open page shows who is calling, without reloading; nobody else's page does."""

import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer, Note
from kehu.telephony import services
from kehu.telephony.models import Call, CallState
from kehu.users.services import user_create
from tests.browser.conftest import (
    TIMEOUT_MS,
    assert_htmx_loaded,
    log_in,
    mark_document,
    same_document,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def agent2(db):
    return user_create(username="agent2", password=PASSWORD, role="agent", first_name="agent2")


@pytest.fixture
def second_page(browser, live_server):
    """Another agent's browser: a profile of its own, so a session of its own."""
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def token(db) -> str:
    _integration, token = services.integration_create(name="PBX")
    return token


def cti(live_server, token: str, **fields) -> tuple[int, dict]:
    """The telephony system's POST, form-encoded as Zammad's connectors send it."""
    users = fields.pop("user", [])
    pairs = [(k.rstrip("_"), v) for k, v in fields.items()] + [("user[]", u) for u in users]
    request = urllib.request.Request(
        f"{live_server.url}/cti/{token}",
        data=urlencode(pairs).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def polls_after(page, count: int = 2) -> None:
    """Waits until the page has asked the server `count` more times (every 500 ms)."""
    for _ in range(count):
        with page.expect_response(lambda r: "/calls/probe/" in r.url):
            pass


def test_the_called_agent_sees_the_caller_and_no_one_else_does(
    page, second_page, live_server, token, xihu, agent, agent2
):
    log_in(page, agent)
    log_in(second_page, agent2)
    assert_htmx_loaded(page)
    mark_document(page)
    panel, other_panel = page.locator("#call-panel"), second_page.locator("#call-panel")
    expect(panel).to_be_empty()

    # The contact's mobile, stored as "139 1000 2000", arrives as the PBX writes it.
    status, answer = cti(
        live_server,
        token,
        event="newCall",
        callId="b1",
        from_="0086-139-1000-2000",
        to="4008001234",
        direction="in",
        user=["agent"],
    )
    assert (status, answer) == (200, {})

    expect(panel.locator(".caller-name")).to_have_text("王总")
    expect(panel).to_contain_text("杭州西湖茶业有限公司")
    expect(panel).to_contain_text("Decision layer")
    expect(panel).to_contain_text("lead with results")
    expect(panel).to_contain_text("明前龙井 250g 礼盒")
    expect(panel.locator("#call-state")).to_have_text("Ringing")
    assert same_document(page), "the panel came by reloading the page"

    polls_after(second_page)
    expect(other_panel).to_be_empty()

    # A wrong token is refused and shows nobody anything.
    status, answer = cti(
        live_server,
        token + "x",
        event="newCall",
        callId="b2",
        from_="13800138000",
        direction="in",
        user=["agent2"],
    )
    assert (status, answer) == (401, {"error": "invalid token"})
    assert not Call.objects.filter(call_id="b2").exists()
    polls_after(second_page)
    expect(other_panel).to_be_empty()

    # One click opens the full card.
    panel.locator("a.caller-customer").click()
    expect(page).to_have_url(re.compile(rf"/customers/{xihu.pk}/$"))
    # The call is still up after the navigation, and the card shows it on the timeline.
    expect(page.locator("#call-panel .caller-name")).to_have_text("王总")
    expect(page.locator("ol.timeline")).to_contain_text("Incoming call")


def test_an_unknown_caller_is_offered_a_new_customer(page, live_server, token, agent):
    log_in(page, agent)
    status, _answer = cti(
        live_server,
        token,
        event="newCall",
        callId="u1",
        from_="+86 (139) 1234-5678",
        direction="in",
        user=["agent"],
    )
    assert status == 200
    panel = page.locator("#call-panel")
    expect(panel).to_contain_text("Unknown caller.")
    panel.get_by_role("button", name="New customer").click()

    expect(page).to_have_url(re.compile(r"/customers/new/\?phone=%2B8613912345678$"))
    phones = page.get_by_label("Phone numbers")
    expect(phones).to_have_value("+8613912345678")
    page.locator("#id_kind").select_option("individual")
    page.locator("#id_name").fill("赵敏")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("赵敏")
    created = Customer.objects.get(name="赵敏")
    assert list(created.phones.values_list("e164", flat=True)) == ["+8613912345678"]


def test_typed_notes_survive_the_call_events_and_log_the_call(
    page, live_server, token, xihu, agent
):
    log_in(page, agent)
    call = {"callId": "t1", "from_": "+86 10 6552 9988", "to": "4008001234", "direction": "in"}
    assert cti(live_server, token, event="newCall", user=["agent"], **call)[0] == 200
    panel = page.locator("#call-panel")
    expect(panel.locator(".caller-name")).to_have_text("西湖茶业")
    mark_document(page)

    form = panel.locator("form.call-log")
    form.get_by_label("Outcome").select_option("follow_up")
    form.get_by_label("Reason").select_option("order")
    notes = form.get_by_label("Notes")
    notes.fill("中秋节前备货两百盒，")
    notes.press_sequentially("周五前回电确认")  # still typing when the call is answered

    assert cti(live_server, token, event="answer", user=["agent"], **call)[0] == 200
    expect(panel.locator("#call-state")).to_have_text("In progress")
    expect(notes).to_have_value("中秋节前备货两百盒，周五前回电确认")
    expect(notes).to_be_focused()
    assert cti(live_server, token, event="hangup", cause="normalClearing", **call)[0] == 200
    expect(panel.locator("#call-state")).to_have_text("Answered")
    expect(notes).to_have_value("中秋节前备货两百盒，周五前回电确认")
    expect(form.get_by_label("Outcome")).to_have_value("follow_up")
    expect(form.get_by_label("Reason")).to_have_value("order")

    form.get_by_role("button", name="Log call").click()
    expect(panel.get_by_role("status")).to_contain_text("Call logged")
    expect(panel.get_by_role("status")).to_contain_text("周五前回电确认")
    assert same_document(page)
    note = Note.objects.get()
    logged = Call.objects.get(call_id="t1")
    assert (logged.state, logged.note_id) == (CallState.ENDED, note.pk)
    assert (note.kind, note.outcome, note.reason, note.customer_id) == (
        "call",
        "follow_up",
        "order",
        xihu.pk,
    )

    # On the card's timeline, once.
    page.goto(f"/customers/{xihu.pk}/")
    expect(page.locator("ol.timeline li", has_text="周五前回电确认")).to_have_count(1)


def test_a_refused_log_shows_why(page, live_server, token, xihu, agent):
    """The server's 422 (here: someone logged the call meanwhile) is shown, not dropped."""
    log_in(page, agent)
    assert (
        cti(
            live_server,
            token,
            event="newCall",
            callId="r1",
            from_="01065529988",
            direction="in",
            user=["agent"],
        )[0]
        == 200
    )
    form = page.locator("#call-panel form.call-log")
    form.get_by_label("Notes").fill("我来记")
    services.call_contact_log(
        actor=agent,
        call=Call.objects.get(call_id="r1"),
        outcome="resolved",
        reason="inquiry",
        body="同事已记",
    )
    form.get_by_role("button", name="Log call").click()
    expect(page.locator("#call-panel").get_by_role("alert")).to_contain_text("already been logged")
    assert Note.objects.count() == 1


def test_a_click_on_a_cards_number_logs_the_outbound_call(page, live_server, xihu, agent):
    log_in(page, agent, next_path=f"/customers/{xihu.pk}/")
    link = page.get_by_role("link", name="010 6552 9988", exact=True)
    expect(link).to_have_attribute("href", "tel:+861065529988")
    with page.expect_response(lambda r: r.url.endswith("/calls/outbound/")) as logged:
        link.click()
    assert logged.value.status == 201
    call = Call.objects.get()
    assert (call.direction, call.state, call.agent, call.customer, call.number_e164) == (
        "out",
        CallState.DIALLED,
        agent,
        xihu,
        "+861065529988",
    )
