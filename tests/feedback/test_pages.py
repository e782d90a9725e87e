"""Every page and API call refused to the wrong role, and anonymous where a login is
needed; the pages and the API doing their work for the right one."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from kehu.feedback import services
from kehu.feedback.models import Invitation, Response, ServqualItem, Survey
from tests.conftest import bearer, logged_in
from tests.feedback.conftest import invite, make_survey

MANAGE = ["surveys", "servqual_items"]


@pytest.fixture
def survey(supervisor):
    return make_survey(supervisor, Survey.Kind.NPS)


def _pages(survey):
    return {
        "results": reverse("feedback:results"),
        "results_csv": reverse("feedback:results") + "?format=csv",
        "surveys": reverse("feedback:surveys"),
        "survey": reverse("feedback:survey", args=[survey.pk]),
        "servqual_items": reverse("feedback:servqual_items"),
    }


def test_pages_refuse_the_wrong_roles_and_anonymous(
    agent, manager, supervisor, analyst, admin_user, survey
):
    pages = _pages(survey)
    for name, url in pages.items():
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], name
        for user in (agent, manager):
            assert logged_in(user).get(url).status_code == 403, (name, user)
        allowed = {"results", "results_csv"}
        assert logged_in(analyst).get(url).status_code == (200 if name in allowed else 403), name
        assert logged_in(supervisor).get(url).status_code == 200, name
        assert logged_in(admin_user).get(url).status_code == 200, name
    # Posts are refused as well.
    for user in (agent, analyst):
        client = logged_in(user)
        assert client.post(pages["surveys"], {"name": "x", "kind": "csat"}).status_code == 403
        assert client.post(pages["survey"], {"action": "send", "tag": "VIP"}).status_code == 403
    assert Survey.objects.count() == 1


def test_api_refuses_the_wrong_roles_and_anonymous(agent, manager, analyst, supervisor, survey):
    calls = [
        ("get", "/api/surveys", None),
        ("post", "/api/surveys", {"name": "x", "kind": "csat"}),
        ("post", f"/api/surveys/{survey.pk}/send", {"tag": "VIP"}),
        ("get", "/api/feedback/results", None),
        ("get", "/api/feedback/trends?by=agent", None),
    ]
    for method, url, body in calls:
        kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body else {}
        assert getattr(Client(), method)(url, **kwargs).status_code == 401, url
        for user in (agent, manager):
            assert getattr(Client(), method)(url, **kwargs, **bearer(user)).status_code == 403
        expected = 200 if "/feedback/" in url else 403
        assert getattr(Client(), method)(url, **kwargs, **bearer(analyst)).status_code == expected
    assert Survey.objects.count() == 1 and Invitation.objects.count() == 0


def test_api_creates_sends_and_reports(
    supervisor, customer, mailoutbox, django_capture_on_commit_callbacks
):
    headers = bearer(supervisor)
    created = Client().post(
        "/api/surveys",
        data=json.dumps({"name": "售后满意度", "kind": "csat"}),
        content_type="application/json",
        **headers,
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = Client().post(
            f"/api/surveys/{pk}/send",
            data=json.dumps({"customer_ids": [customer.pk], "language": "zh-hans"}),
            content_type="application/json",
            **headers,
        )
    assert sent.status_code == 200 and sent.json()["sent"] == 1
    assert len(mailoutbox) == 1 and "李女士" in mailoutbox[0].body
    out_of_range = Client().post(
        "/api/surveys",
        data=json.dumps({"name": "x", "kind": "nope"}),
        content_type="application/json",
        **headers,
    )
    assert out_of_range.status_code == 422
    results = Client().get("/api/feedback/results", **headers).json()
    assert results["nps"]["n"] == 0 and len(results["exit_reasons"]) == 6
    schema = logged_in(supervisor).get("/api/openapi.json").json()
    assert "/api/surveys/{survey_id}/send" in schema["paths"]
    assert "/api/feedback/results" in schema["paths"]


def test_supervisor_creates_a_survey_sends_to_a_tag_and_sees_results(
    supervisor, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    from kehu.customers import services as customer_services

    customer_services.customer_update(actor=agent, customer=customer, tags=["VIP"])
    client = logged_in(supervisor)
    created = client.post(
        reverse("feedback:surveys"),
        {
            "name": "大客户关系调查",
            "kind": "servqual",
            "trigger": "manual",
            "delay": 24,
            "channel": "email",
            "question": "",
            "expires_days": 14,
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    survey = Survey.objects.get(name="大客户关系调查")
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            reverse("feedback:survey", args=[survey.pk]),
            {"action": "send", "customer_number": "", "tag": "VIP", "language": "zh-hans"},
            follow=True,
        )
    assert "Sent: 1" in sent.content.decode() and len(mailoutbox) == 1
    item = ServqualItem.objects.first()
    edited = client.post(
        reverse("feedback:servqual_items"),
        {
            "pk": item.pk,
            "dimension": item.dimension,
            "text_en": "Has up-to-date equipment.",
            "text_zh": "设备先进。",
            "is_active": "on",
        },
    )
    assert edited.status_code == 302
    item.refresh_from_db()
    assert item.text_zh == "设备先进。"


def test_results_page_and_csv_and_customer_card(supervisor, analyst, customer, agent):
    survey = make_survey(supervisor, Survey.Kind.NPS)
    _inv, token = invite(survey, customer)
    services.response_submit(token=token, score=2, comment="建议周末也营业")
    page = logged_in(analyst).get(reverse("feedback:results"))
    body = page.content.decode()
    assert page.status_code == 200 and "echarts.min.js" in body and "建议周末也营业" in body
    csv_page = logged_in(analyst).get(reverse("feedback:results") + "?format=csv")
    text = csv_page.content.decode("utf-8-sig")
    assert csv_page["Content-Type"].startswith("text/csv")
    assert customer.number in text and "建议周末也营业" in text
    recovery = Response.objects.get().recovery_case
    assert recovery.reference in text
    card = logged_in(agent).get(reverse("customers:card", args=[customer.pk]))
    assert 'id="satisfaction"' in card.content.decode()
    assert reverse("service:case", args=[recovery.pk]) in card.content.decode()


def test_results_page_makes_a_fixed_number_of_queries(
    supervisor, customer, analyst, settings, django_assert_max_num_queries
):
    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    survey = make_survey(supervisor, Survey.Kind.NPS)
    client = logged_in(analyst)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("feedback:results"))
        return len(queries)

    _inv, token = invite(survey, customer, occasion="1")
    services.response_submit(token=token, score=10, comment="很好")
    few = count()
    for n in range(2, 8):
        _inv, token = invite(survey, customer, occasion=str(n))
        services.response_submit(token=token, score=n, comment=f"第{n}条")
    assert count() == few


def test_trends_by_every_key_on_the_page_and_the_api(supervisor, analyst, agent, customer):
    from kehu.customers import services as customer_services

    customer_services.customer_update(actor=agent, customer=customer, tags=["VIP"])
    survey = make_survey(supervisor, Survey.Kind.NPS)
    _inv, token = invite(survey, customer)
    services.response_submit(token=token, score=10)
    headers = bearer(analyst)
    found = {}
    for by in ("month", "agent", "team", "category", "segment", "status"):
        answer = Client().get(f"/api/feedback/trends?by={by}", **headers)
        assert answer.status_code == 200, by
        found[by] = answer.json()
    assert found["status"][0]["key"] == "active" and found["status"][0]["nps"]["nps"] == 100
    assert found["segment"][0]["key"] == "VIP"
    assert len(found["month"][0]["key"]) == 7  # YYYY-MM
    assert Client().get("/api/feedback/trends?by=colour", **headers).status_code == 422
    page = logged_in(analyst).get(reverse("feedback:results")).content.decode()
    assert "By customer status" in page and "<td>Active</td>" in page


def test_trends_by_value_segment(analyst, supervisor, customer):
    from tests.insights.conftest import scores_store

    scores_store(customer, segment="champions")
    survey = make_survey(supervisor, Survey.Kind.NPS)
    _inv, token = invite(survey, customer)
    services.response_submit(token=token, score=3)
    found = Client().get("/api/feedback/trends?by=value", **bearer(analyst)).json()
    assert [(row["key"], row["nps"]["nps"]) for row in found] == [("champions", -100.0)]
    page = logged_in(analyst).get(reverse("feedback:results"), HTTP_ACCEPT_LANGUAGE="en")
    assert "<td>Champions</td>" in page.content.decode()
