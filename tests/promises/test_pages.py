"""Promise and follow-up pages and API: the card, my day, visits, policies, the report;
who is refused."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.promises import services
from kehu.promises.models import Commitment, FollowUp, FollowUpPolicy

from ..conftest import logged_in
from ..service.test_cases_api import client_for


def soon(hours=3) -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def state():
    return (
        list(Commitment.objects.values()),
        list(FollowUp.objects.values()),
        list(FollowUpPolicy.objects.values()),
    )


def test_a_promise_written_on_the_card_shows_there_and_on_my_day(agent, xihu, local_morning):
    client = logged_in(agent)
    client.post(
        reverse("promises:promise_create", args=[xihu.pk]),
        {"promise": "明天上午回电说明到货时间", "due_at": soon()},
    )
    card = client.get(reverse("customers:card", args=[xihu.pk])).content.decode()
    assert "明天上午回电说明到货时间" in card
    day = client.get(reverse("promises:my_day")).content.decode()
    assert "明天上午回电说明到货时间" in day


def test_a_promise_due_in_the_past_is_refused_on_the_card(agent, xihu):
    client = logged_in(agent)
    response = client.post(
        reverse("promises:promise_create", args=[xihu.pk]),
        {"promise": "x", "due_at": "2001-01-01T09:00"},
        follow=True,
    )
    assert "The due time is in the past." in response.content.decode()
    assert not Commitment.objects.exists()


def test_keep_and_done_from_my_day(agent, xihu):
    commitment = services.commitment_create(
        actor=agent, customer=xihu, promise="寄样品", due_at=timezone.now() + timedelta(hours=1)
    )
    callback = services.follow_up_create(
        actor=agent,
        customer=xihu,
        kind="callback",
        purpose="回访",
        due_at=timezone.now() + timedelta(hours=1),
    )
    client = logged_in(agent)
    client.post(
        reverse("promises:keep", args=[commitment.pk]),
        {"evidence": "已寄出", "version": 1, "next": reverse("promises:my_day")},
    )
    client.post(reverse("promises:complete", args=[callback.pk]), {"outcome": "满意", "version": 1})
    assert Commitment.objects.get().status == "kept"
    assert FollowUp.objects.get().status == "done"
    assert "Nothing is due today" in client.get(reverse("promises:my_day")).content.decode()


def test_a_supervisor_sees_anyones_day_an_agent_only_their_own(
    agent, manager, supervisor, xihu, local_morning
):
    services.commitment_create(
        actor=manager,
        customer=xihu,
        promise="经理的承诺",
        due_at=timezone.now() + timedelta(hours=1),
    )
    url = reverse("promises:my_day") + f"?user={manager.pk}"
    assert "经理的承诺" in logged_in(supervisor).get(url).content.decode()
    assert "经理的承诺" not in logged_in(agent).get(url).content.decode()


def test_an_analyst_reads_the_report_but_makes_no_promises(agent, analyst, xihu):
    client = logged_in(analyst)
    before = state()
    assert client.get(reverse("promises:my_day")).status_code == 403
    posts = [
        (reverse("promises:promise_create", args=[xihu.pk]), {"promise": "x", "due_at": soon()}),
        (reverse("promises:follow_up_create", args=[xihu.pk]), {"kind": "callback"}),
        (reverse("promises:policies"), {"name": "x"}),
        (reverse("promises:calendar"), {"action": "create"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("promises:report")).status_code == 200
    assert state() == before


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_the_promise_report_and_policies_are_refused_to_front_line_roles(request, role):
    client = logged_in(request.getfixturevalue(role))
    assert client.get(reverse("promises:report")).status_code == 403
    assert client.get(reverse("promises:policies")).status_code == 403


def test_anonymous_users_are_sent_to_log_in(db):
    for name in ("promises:my_day", "promises:report", "promises:calendar", "promises:policies"):
        response = Client().get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"], name
    assert Client().get("/api/commitments").status_code == 401


def test_a_supervisor_sets_up_a_policy(supervisor, agent):
    client = logged_in(supervisor)
    response = client.post(
        reverse("promises:policies"),
        {
            "name": "大客户月度回访",
            "trigger": "key_account_every",
            "days": 30,
            "kind": "phone",
            "purpose": "例行电话回访",
            "owner": agent.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert FollowUpPolicy.objects.get().days == 30
    bad = client.post(
        reverse("promises:policies"),
        {
            "name": "x",
            "trigger": "key_account_every",
            "days": 0,
            "kind": "phone",
            "purpose": "x",
            "owner": agent.pk,
        },
    )
    assert "at least one day" in bad.content.decode()
    assert FollowUpPolicy.objects.count() == 1


def test_booking_a_visit_leads_to_its_page(manager, xihu):
    client = logged_in(manager)
    response = client.post(
        reverse("promises:follow_up_create", args=[xihu.pk]),
        {"kind": "visit", "purpose": "季度拜访", "due_at": soon(48), "place": "杭州"},
    )
    follow_up = FollowUp.objects.get()
    assert response["Location"] == reverse("promises:visit", args=[follow_up.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Confirm by phone before leaving" in page and "Material and proposal ready" in page


def test_the_api_makes_keeps_and_refuses(agent, analyst, xihu):
    api = client_for(agent)
    made = api.post(
        "/api/commitments",
        {
            "customer_id": xihu.pk,
            "promise": "周五前报价",
            "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert made.status_code == 201
    pk = made.json()["id"]
    past = api.post(
        "/api/commitments",
        {"customer_id": xihu.pk, "promise": "x", "due_at": "2001-01-01T00:00:00Z"},
        content_type="application/json",
    )
    assert past.status_code == 422
    kept = api.post(
        f"/api/commitments/{pk}/kept",
        {"outcome": "已报价", "version": 1},
        content_type="application/json",
    )
    assert kept.status_code == 200 and kept.json()["status"] == "kept"
    stale = api.post(
        f"/api/commitments/{pk}/broken",
        {"outcome": "x", "version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409
    refused = client_for(analyst).post(
        "/api/follow-ups",
        {
            "customer_id": xihu.pk,
            "kind": "callback",
            "purpose": "x",
            "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert refused.status_code == 403 and not FollowUp.objects.exists()
    assert [c["id"] for c in client_for(analyst).get("/api/commitments?status=").json()] == [pk]


def test_a_promise_made_on_a_case_shows_on_the_case(agent, xihu):
    from kehu.service import services as case_services

    case = case_services.case_create(
        actor=agent, customer=xihu, kind="request", channel="phone", subject="补开发票"
    )
    client = logged_in(agent)
    client.post(
        reverse("promises:promise_create", args=[xihu.pk]),
        {"promise": "三个工作日内寄出发票", "due_at": soon(72), "case": case.pk},
    )
    assert Commitment.objects.get().case == case
    page = client.get(reverse("service:case", args=[case.pk])).content.decode()
    assert "三个工作日内寄出发票" in page
