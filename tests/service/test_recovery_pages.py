"""Recovery pages and API: who may give, approve, analyse and learn; who is refused."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kehu.service import services
from kehu.service.models import (
    AuthorityLimit,
    Case,
    ComplaintWorksheet,
    ImprovementAction,
    Remedy,
    RootCause,
)

from ..conftest import logged_in
from .cases_fixtures import case_open
from .test_cases_api import client_for

S = Case.Status


def state():
    """Everything the recovery pages may change, to show a refusal changed nothing."""
    return (
        list(Case.objects.order_by("pk").values()),
        list(Remedy.objects.values()),
        list(ComplaintWorksheet.objects.values()),
        list(ImprovementAction.objects.values()),
        list(AuthorityLimit.objects.order_by("role").values()),
    )


def test_an_agent_gives_goodwill_from_the_case_page_and_a_supervisor_approves(
    agent, supervisor, customer, policy
):
    case = case_open(agent, customer)
    agent_client = logged_in(agent)
    page = agent_client.get(reverse("service:case", args=[case.pk])).content.decode()
    assert "You may give up to CN¥200.00 per case" in page
    response = agent_client.post(
        reverse("service:remedy_request", args=[case.pk]),
        {"remedy-kind": "compensation", "remedy-amount": "680", "remedy-description": "赔偿清洗费"},
        follow=True,
    )
    assert "sent to a supervisor" in response.content.decode()
    remedy = Remedy.objects.get()
    assert remedy.status == Remedy.Status.PENDING
    boss = logged_in(supervisor)
    approvals = boss.get(reverse("service:approvals")).content.decode()
    assert case.reference in approvals and "CN¥680.00" in approvals
    boss.post(
        reverse("service:remedy_decide", args=[remedy.pk]),
        {"decision": "approve", "reason": "老客户", "next": reverse("service:approvals")},
    )
    remedy.refresh_from_db()
    assert (remedy.status, remedy.decision_reason) == (Remedy.Status.APPROVED, "老客户")
    assert "Nothing is waiting" in boss.get(reverse("service:approvals")).content.decode()


def test_a_decision_never_redirects_off_site(agent, supervisor, customer, policy):
    remedy = services.remedy_request(
        actor=agent,
        case=case_open(agent, customer),
        kind="gift",
        amount=Decimal(900),
        description="礼品卡",
    )
    response = logged_in(supervisor).post(
        reverse("service:remedy_decide", args=[remedy.pk]),
        {"decision": "reject", "reason": "不符合政策", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("service:case", args=[remedy.case_id])


@pytest.mark.parametrize("role", ["agent", "manager", "analyst"])
def test_only_supervisors_and_admins_see_and_decide_approvals(
    request, agent, customer, policy, role
):
    remedy = services.remedy_request(
        actor=agent,
        case=case_open(agent, customer),
        kind="gift",
        amount=Decimal(900),
        description="礼品卡",
    )
    client = logged_in(request.getfixturevalue(role))
    before = state()
    assert client.get(reverse("service:approvals")).status_code == 403
    decide = reverse("service:remedy_decide", args=[remedy.pk])
    assert client.post(decide, {"decision": "approve", "reason": "好"}).status_code == 403
    api = client_for(request.getfixturevalue(role))
    assert api.get("/api/approvals").status_code == 403
    assert (
        api.post(
            f"/api/approvals/{remedy.pk}/decision",
            {"approve": True, "reason": "好"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert state() == before


def test_an_analyst_reads_but_changes_nothing(agent, analyst, customer, policy, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = case_open(agent, customer)
    client = logged_in(analyst)
    assert client.get(reverse("service:case", args=[case.pk])).status_code == 200
    assert client.get(reverse("service:worksheet", args=[case.pk])).status_code == 200
    assert client.get(reverse("service:improvements")).status_code == 200
    assert client.get(reverse("service:root_cause_ranking")).status_code == 200
    before = state()
    writes = [
        (
            "service:remedy_request",
            [case.pk],
            {"remedy-kind": "gift", "remedy-amount": "1", "remedy-description": "x"},
        ),
        ("service:worksheet", [case.pk], {"version": 1, "key_conflict": "x"}),
        ("service:case_root_cause", [case.pk], {"root_cause": 1, "version": 1}),
        ("service:attachment_upload", [case.pk], {"file": SimpleUploadedFile("a.txt", b"a")}),
        ("service:improvement_create", [], {"title": "x"}),
    ]
    for name, args, data in writes:
        assert client.post(reverse(name, args=args), data).status_code == 403, name
    assert client.get(reverse("service:authority")).status_code == 403
    assert state() == before
    assert not list(tmp_path.rglob("*.*"))


def test_only_an_admin_sets_authority_limits_on_the_page(supervisor, admin_user, db):
    url = reverse("service:authority")
    refused = logged_in(supervisor)
    assert refused.get(url).status_code == 403
    assert refused.post(url, {"role": "agent", "max_amount": "99999"}).status_code == 403
    assert AuthorityLimit.objects.get(role="agent").max_amount == Decimal(200)
    admin = logged_in(admin_user)
    assert "Key-account manager" in admin.get(url).content.decode()
    admin.post(url, {"role": "agent", "max_amount": "300"})
    limit = AuthorityLimit.objects.get(role="agent")
    assert (limit.max_amount, limit.updated_by) == (Decimal(300), admin_user)
    response = admin.post(url, {"role": "agent", "max_amount": "-1"}, follow=True)
    assert "greater than or equal to 0" in response.content.decode()
    assert AuthorityLimit.objects.get(role="agent").max_amount == Decimal(300)


def test_anonymous_users_are_sent_to_log_in(agent, customer, policy):
    case = case_open(agent, customer)
    for url in (
        reverse("service:worksheet", args=[case.pk]),
        reverse("service:approvals"),
        reverse("service:improvements"),
        reverse("service:root_cause_ranking"),
        reverse("service:authority"),
    ):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    assert Client().get("/api/approvals").status_code == 401


def test_the_worksheet_page_saves_the_steps_and_shows_errors_in_place(
    agent, supervisor, customer, policy
):
    case = case_open(agent, customer)
    client = logged_in(agent)
    url = reverse("service:worksheet", args=[case.pk])
    page = client.get(url).content.decode()
    for title in ("Understand the case", "Cause, capability and policy", "Strategy", "Decision"):
        assert title in page
    response = client.post(url, {"version": 1, "position": "superior"})
    assert "Choose the supervisor to hand the case to." in response.content.decode()
    assert not ComplaintWorksheet.objects.exists()
    response = client.post(
        url,
        {
            "version": 1,
            "key_conflict": "<script>alert(1)</script>",
            "motive": ["venting", "habitual"],
            "position": "superior",
            "superior": supervisor.pk,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner == supervisor
    assert ComplaintWorksheet.objects.get().answers["motive"] == ["venting", "habitual"]
    shown = logged_in(supervisor).get(url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "<script>alert(1)" not in shown


def test_the_worksheet_of_a_closed_case_is_read_only(agent, customer, policy):
    case = case_open(agent, customer, kind="complaint")
    services.worksheet_save(
        actor=agent, case=case, answers={"key_conflict": "延误"}, expected_version=1
    )
    case.refresh_from_db()
    for status in (S.RESOLVED, S.CLOSED):
        case = services.case_transition(
            actor=agent,
            case=case,
            to=status,
            expected_version=case.version,
            root_cause=RootCause.objects.get(code="delivery"),
        )
    client = logged_in(agent)
    url = reverse("service:worksheet", args=[case.pk])
    page = client.get(url).content.decode()
    assert "延误" in page and "<form" not in page.split("<main")[-1].split("</main>")[0]
    assert client.post(url, {"version": case.version, "key_conflict": "改"}).status_code == 403
    assert ComplaintWorksheet.objects.get().answers == {"key_conflict": "延误"}


def test_resolving_a_complaint_on_the_page_asks_for_the_root_cause(agent, customer, policy):
    case = case_open(agent, customer)
    client = logged_in(agent)
    page = client.get(reverse("service:case", args=[case.pk])).content.decode()
    assert 'name="root_cause" required' in page
    url = reverse("service:case_transition", args=[case.pk])
    response = client.post(url, {"to": "resolved", "version": 1}, follow=True)
    assert "Record the root cause" in response.content.decode()
    cause = RootCause.objects.get(code="attitude")
    client.post(
        url, {"to": "resolved", "version": 1, "root_cause": cause.pk, "root_cause_note": "态度差"}
    )
    case.refresh_from_db()
    assert (case.status, case.root_cause, case.root_cause_note) == (S.RESOLVED, cause, "态度差")


def test_an_improvement_action_is_made_from_a_complaint_and_ranked(agent, customer, policy):
    case = case_open(agent, customer)
    client = logged_in(agent)
    services.case_root_cause_set(
        actor=agent,
        case=case,
        root_cause=RootCause.objects.get(code="delivery"),
        expected_version=1,
    )
    response = client.post(
        reverse("service:improvement_create") + f"?case={case.pk}",
        {
            "title": "安装预约两小时窗口",
            "owner": agent.pk,
            "due_date": "2099-03-31",
            "root_cause": RootCause.objects.get(code="delivery").pk,
        },
    )
    action = ImprovementAction.objects.get()
    assert response["Location"] == reverse("service:improvement", args=[action.pk])
    assert list(action.cases.all()) == [case]
    assert (
        "安装预约两小时窗口" in client.get(reverse("service:case", args=[case.pk])).content.decode()
    )
    ranking = client.get(reverse("service:root_cause_ranking")).content.decode()
    assert "Delivery or installation" in ranking
    past = client.post(
        reverse("service:improvement_create"),
        {"title": "x", "owner": agent.pk, "due_date": "2001-01-01"},
    )
    assert "The due date is in the past." in past.content.decode()
    assert ImprovementAction.objects.count() == 1


def test_attachments_download_as_files_never_as_pages(
    agent, analyst, customer, policy, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = case_open(agent, customer)
    client = logged_in(agent)
    client.post(
        reverse("service:attachment_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("x.html", b"<script>alert(1)</script>", "text/html")},
    )
    attachment = case.attachments.get()
    response = logged_in(analyst).get(reverse("service:attachment", args=[case.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    other = case_open(agent, customer)
    wrong_case = reverse("service:attachment", args=[other.pk, attachment.pk])
    assert logged_in(analyst).get(wrong_case).status_code == 404


def test_the_api_gives_asks_approves_and_analyses(agent, supervisor, customer, policy):
    case = case_open(agent, customer)
    api = client_for(agent)
    given = api.post(
        f"/api/cases/{case.pk}/remedies",
        {"kind": "goodwill", "amount": "50.5", "description": "赠券"},
        content_type="application/json",
    )
    assert given.status_code == 201 and given.json()["status"] == "granted"
    asked = api.post(
        f"/api/cases/{case.pk}/remedies",
        {"kind": "refund", "amount": "1000", "description": "退款"},
        content_type="application/json",
    ).json()
    assert asked["status"] == "pending"
    bad = api.post(
        f"/api/cases/{case.pk}/remedies",
        {"kind": "refund", "amount": "-3", "description": "退款"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    boss = client_for(supervisor)
    assert [r["id"] for r in boss.get("/api/approvals").json()] == [asked["id"]]
    decided = boss.post(
        f"/api/approvals/{asked['id']}/decision",
        {"approve": False, "reason": "退款需财务"},
        content_type="application/json",
    )
    assert decided.status_code == 200 and decided.json()["status"] == "rejected"
    saved = api.put(
        f"/api/cases/{case.pk}/worksheet",
        {"answers": {"motive": ["venting"]}, "version": 1},
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.json()["answers"] == {"motive": ["venting"]}
    stale = api.put(
        f"/api/cases/{case.pk}/worksheet",
        {"answers": {}, "version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409
    refused = api.post(
        f"/api/cases/{case.pk}/transitions",
        {"to": "resolved", "version": 2},
        content_type="application/json",
    )
    assert refused.status_code == 422
    resolved = api.post(
        f"/api/cases/{case.pk}/transitions",
        {"to": "resolved", "version": 2, "root_cause": "product"},
        content_type="application/json",
    )
    assert resolved.status_code == 200 and resolved.json()["root_cause"] == "product"
    made = api.post(
        "/api/improvement-actions",
        {
            "title": "压缩机供应商复检",
            "owner": "supervisor",
            "due_date": date(2099, 1, 1).isoformat(),
            "root_cause": "product",
            "cases": [case.reference],
        },
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["cases"] == [case.reference]
    unknown = api.post(
        "/api/improvement-actions",
        {"title": "x", "owner": "agent", "due_date": "2099-01-01", "cases": ["C1999-000001"]},
        content_type="application/json",
    )
    assert unknown.status_code == 422 and ImprovementAction.objects.count() == 1
