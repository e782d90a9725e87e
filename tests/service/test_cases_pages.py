"""The case pages: list with filters and paging, detail, the create form, the customer card."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.service import services
from kehu.service.models import Case, CaseNote

from ..conftest import logged_in
from .calendars_fixtures import at
from .cases_fixtures import case_open, resolving

S = Case.Status


def snapshot():
    return list(Case.objects.order_by("pk").values()), list(CaseNote.objects.values())


def test_the_list_shows_open_cases_and_filters_by_status_owner_and_sla(
    agent, supervisor, customer, policy
):
    mine = case_open(agent, customer, subject="我的投诉")
    theirs = case_open(supervisor, customer, subject="别人的投诉", now=at(2020, 1, 6, 9))
    done = case_open(agent, customer, subject="已解决")
    services.case_transition(
        actor=agent, case=done, to=S.RESOLVED, expected_version=1, **resolving(done)
    )
    services.case_sla_sweep()
    client = logged_in(agent)
    url = reverse("service:cases")
    page = client.get(url).content.decode()
    assert "我的投诉" in page and "别人的投诉" in page and "已解决" not in page
    page = client.get(url, {"mine": "1"}).content.decode()
    assert "我的投诉" in page and "别人的投诉" not in page
    page = client.get(url, {"sla": "breached"}).content.decode()
    assert theirs.reference in page and mine.reference not in page
    page = client.get(url, {"sla": "on_track"}).content.decode()
    assert mine.reference in page and theirs.reference not in page
    page = client.get(url, {"status": "resolved"}).content.decode()
    assert "已解决" in page and "我的投诉" not in page
    assert client.get(url, {"status": "bogus", "sla": "bogus", "page": "x"}).status_code == 200


def test_the_list_pages_and_its_queries_do_not_grow_with_the_cases(agent, customer, policy):
    client = logged_in(agent)
    url = reverse("service:cases")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    case_open(agent, customer)
    few = queries()
    for _n in range(30):
        case_open(agent, customer)
    assert queries() == few
    first = client.get(url).content.decode()
    assert "page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert len(re.findall(r'href="/cases/\d+/"', second)) == 6 and "page=1" in second


def test_the_detail_shows_the_case_escaped_with_only_allowed_moves(agent, customer, policy):
    case = case_open(agent, customer, subject="<script>alert(1)</script>")
    page = logged_in(agent).get(reverse("service:case", args=[case.pk])).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert 'value="acknowledged"' in page and 'value="closed"' not in page
    assert "First response due" in page and "left" in page


def test_an_analyst_sees_cases_but_is_refused_every_write(agent, analyst, customer, policy):
    case = case_open(agent, customer)
    client = logged_in(analyst)
    assert client.get(reverse("service:cases")).status_code == 200
    page = client.get(reverse("service:case", args=[case.pk]))
    assert page.status_code == 200 and b'name="to"' not in page.content
    before = snapshot()
    create = reverse("service:case_create") + f"?customer={customer.pk}"
    assert client.get(create).status_code == 403
    assert (
        client.post(
            create, {"kind": "complaint", "channel": "phone", "priority": "normal", "subject": "x"}
        ).status_code
        == 403
    )
    for name, data in (
        ("service:case_transition", {"to": "acknowledged", "version": 1}),
        ("service:case_note", {"kind": "internal", "body": "x", "version": 1}),
        ("service:case_assign", {"owner": "", "team": "x", "version": 1}),
    ):
        assert client.post(reverse(name, args=[case.pk]), data).status_code == 403
    assert snapshot() == before


def test_anonymous_users_are_sent_to_log_in(customer, policy, agent):
    case = case_open(agent, customer)
    from django.test import Client

    response = Client().get(reverse("service:case", args=[case.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_case_is_opened_from_the_customer_card(agent, customer, policy):
    client = logged_in(agent)
    card = client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    link = f"{reverse('service:case_create')}?customer={customer.pk}"
    assert "No open cases." in card and link in card
    form = client.get(link).content.decode()
    assert customer.name in form and 'value="complaint" selected' in form
    response = client.post(
        link,
        {
            "kind": "complaint",
            "channel": "phone",
            "priority": "high",
            "category": "",
            "subject": "热水器漏水",
            "description": "昨天安装",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "service:case", args=[case.pk]
    )
    assert (case.customer, case.owner, case.priority) == (customer, agent, "high")
    card = client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    assert case.reference in card and "热水器漏水" in card and "On track" in card


def test_a_bad_case_form_shows_the_errors_and_stores_nothing(agent, customer, policy):
    client = logged_in(agent)
    link = f"{reverse('service:case_create')}?customer={customer.pk}"
    response = client.post(
        link,
        {
            "kind": "praise",
            "channel": "phone",
            "priority": "normal",
            "category": "1",
            "subject": "很好",
        },
    )
    assert response.status_code == 200
    assert "Only complaints have a complaint category." in response.content.decode()
    assert not Case.objects.exists()
    assert client.get(reverse("service:case_create") + "?customer=999").status_code == 404


def test_moves_notes_and_assignment_from_the_page(agent, supervisor, customer, policy):
    case = case_open(agent, customer)
    client = logged_in(agent)
    url = reverse("service:case", args=[case.pk])
    client.post(
        reverse("service:case_transition", args=[case.pk]), {"to": "acknowledged", "version": 1}
    )
    client.post(
        reverse("service:case_note", args=[case.pk]),
        {"kind": "reply", "body": "我们明天上门", "version": 2},
    )
    client.post(
        reverse("service:case_assign", args=[case.pk]),
        {"owner": supervisor.pk, "team": "二线", "version": 3},
    )
    case.refresh_from_db()
    assert (case.status, case.owner, case.team, case.version) == (
        S.ACKNOWLEDGED,
        supervisor,
        "二线",
        4,
    )
    page = client.get(url).content.decode()
    assert "我们明天上门" in page and "wang@example.com" in page and "Acknowledged" in page


def test_a_stale_page_is_told_and_changes_nothing(agent, customer, policy):
    case = case_open(agent, customer)
    client = logged_in(agent)
    services.case_transition(actor=agent, case=case, to=S.ACKNOWLEDGED, expected_version=1)
    before = snapshot()
    response = client.post(
        reverse("service:case_note", args=[case.pk]),
        {"kind": "internal", "body": "stale", "version": 1},
        follow=True,
    )
    assert "Someone else changed this case" in response.content.decode()
    response = client.post(
        reverse("service:case_transition", args=[case.pk]),
        {"to": "closed", "version": 2},
        follow=True,
    )
    assert "A case cannot go from Acknowledged to Closed." in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("role", ["agent", "manager", "supervisor", "admin_user"])
def test_every_working_role_may_open_cases(request, role, customer, policy):
    client = logged_in(request.getfixturevalue(role))
    link = f"{reverse('service:case_create')}?customer={customer.pk}"
    assert client.get(link).status_code == 200
