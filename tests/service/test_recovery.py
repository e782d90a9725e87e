"""Recovering a complaint: goodwill within authority, approval above it, the worksheet,
root causes, improvement actions and attachments (services; pages and API elsewhere)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.customers.models import Tag
from kehu.service import selectors, services
from kehu.service.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    ComplaintWorksheet,
    ImprovementAction,
    Remedy,
    RootCause,
)

from .calendars_fixtures import at
from .cases_fixtures import case_open, resolving

S = Case.Status


def give(actor, case, amount, kind="goodwill", description="赠送保养一次"):
    return services.remedy_request(
        actor=actor, case=case, kind=kind, amount=Decimal(amount), description=description
    )


def cause(code="product") -> RootCause:
    return RootCause.objects.get(code=code)


# --- Authority and approval -------------------------------------------------------------


def test_within_the_agents_limit_goodwill_is_granted_at_once(agent, customer, policy):
    case = case_open(agent, customer)
    remedy = give(agent, case, "150")
    assert remedy.status == Remedy.Status.GRANTED
    assert (remedy.decided_by, remedy.currency) == (agent, "CNY")
    event = case.events.get(kind=CaseEvent.Kind.REMEDY_GRANTED)
    assert event.actor == agent and "150" in event.to_value


def test_the_limit_is_per_case_so_splitting_a_grant_still_needs_approval(agent, customer, policy):
    case = case_open(agent, customer)
    assert give(agent, case, "150").status == Remedy.Status.GRANTED
    assert give(agent, case, "100").status == Remedy.Status.PENDING
    # Another case starts from nothing.
    assert give(agent, case_open(agent, customer), "200").status == Remedy.Status.GRANTED


def test_above_the_limit_a_supervisor_approves_with_a_reason(agent, supervisor, customer, policy):
    case = case_open(agent, customer)
    remedy = give(agent, case, "800", kind="compensation")
    assert remedy.status == Remedy.Status.PENDING
    assert list(selectors.remedies_pending()) == [remedy]
    decided = services.remedy_decide(
        actor=supervisor, remedy=remedy, approve=True, reason="大客户，空调三次返修"
    )
    assert decided.status == Remedy.Status.APPROVED
    assert (decided.decided_by, decided.decision_reason) == (supervisor, "大客户，空调三次返修")
    assert list(selectors.remedies_pending()) == []
    assert selectors.case_remedies_given(case=case) == Decimal("800")
    kinds = list(case.events.values_list("kind", "actor__username"))
    assert ("remedy_requested", "agent") in kinds and ("remedy_approved", "supervisor") in kinds


def test_a_rejection_needs_a_reason_and_gives_nothing(agent, supervisor, customer, policy):
    case = case_open(agent, customer)
    remedy = give(agent, case, "800")
    with pytest.raises(ValidationError, match="required"):
        services.remedy_decide(actor=supervisor, remedy=remedy, approve=False, reason="  ")
    assert Remedy.objects.get().status == Remedy.Status.PENDING
    services.remedy_decide(actor=supervisor, remedy=remedy, approve=False, reason="超出政策")
    assert Remedy.objects.get().status == Remedy.Status.REJECTED
    assert selectors.case_remedies_given(case=case) == 0


@pytest.mark.parametrize("decider", ["agent", "manager", "analyst"])
def test_only_supervisors_and_admins_decide(request, agent, customer, policy, decider):
    remedy = give(agent, case_open(agent, customer), "800")
    with pytest.raises(ValidationError, match="Only a supervisor"):
        services.remedy_decide(
            actor=request.getfixturevalue(decider), remedy=remedy, approve=True, reason="好"
        )
    assert Remedy.objects.get().status == Remedy.Status.PENDING


def test_nobody_decides_their_own_request_and_a_decision_is_final(
    agent, supervisor, admin_user, customer, policy
):
    case = case_open(agent, customer)
    own = give(supervisor, case, "6000")
    assert own.status == Remedy.Status.PENDING  # above the supervisor's 5,000
    with pytest.raises(ValidationError, match="Someone else"):
        services.remedy_decide(actor=supervisor, remedy=own, approve=True, reason="我批")
    services.remedy_decide(actor=admin_user, remedy=own, approve=True, reason="同意")
    with pytest.raises(ValidationError, match="already decided"):
        services.remedy_decide(actor=admin_user, remedy=own, approve=False, reason="反悔")
    assert Remedy.objects.get().status == Remedy.Status.APPROVED


def test_a_supervisor_cannot_approve_above_their_own_limit(
    agent, supervisor, admin_user, customer, policy
):
    remedy = give(agent, case_open(agent, customer), "8000")
    with pytest.raises(ValidationError, match="above your own limit"):
        services.remedy_decide(actor=supervisor, remedy=remedy, approve=True, reason="同意")
    services.remedy_decide(actor=admin_user, remedy=remedy, approve=True, reason="同意")
    assert Remedy.objects.get().status == Remedy.Status.APPROVED


@pytest.mark.parametrize(
    ("amount", "kind", "description", "message"),
    [
        ("0", "goodwill", "x", "more than zero"),
        ("-5", "goodwill", "x", "more than zero"),
        ("10", "bribe", "x", "Choose what is given"),
        ("10", "goodwill", "   ", "required"),
    ],
)
def test_bad_goodwill_is_refused_and_nothing_is_written(
    agent, customer, policy, amount, kind, description, message
):
    case = case_open(agent, customer)
    with pytest.raises(ValidationError, match=message):
        give(agent, case, amount, kind=kind, description=description)
    assert not Remedy.objects.exists()
    assert not case.events.exclude(kind="created").exists()


def test_no_goodwill_on_a_resolved_case_and_none_from_an_analyst(agent, analyst, customer, policy):
    case = case_open(agent, customer, kind="inquiry")
    with pytest.raises(ValidationError, match="may not change"):
        give(analyst, case, "10")
    services.case_transition(actor=agent, case=case, to=S.RESOLVED, expected_version=1)
    with pytest.raises(ValidationError, match="open cases only"):
        give(agent, case, "10")
    assert not Remedy.objects.exists()


def test_only_an_admin_sets_limits_and_a_new_limit_applies_at_once(
    agent, supervisor, admin_user, customer, policy
):
    with pytest.raises(ValidationError, match="Only an administrator"):
        services.authority_limit_set(actor=supervisor, role="agent", max_amount=Decimal(9999))
    with pytest.raises(ValidationError):
        services.authority_limit_set(actor=admin_user, role="agent", max_amount=Decimal(-1))
    assert selectors.authority_limit(role="agent") == Decimal(200)
    services.authority_limit_set(actor=admin_user, role="agent", max_amount=Decimal(1000))
    assert give(agent, case_open(agent, customer), "800").status == Remedy.Status.GRANTED
    services.authority_limit_set(actor=admin_user, role="agent", max_amount=None)
    assert selectors.authority_limit(role="agent") is None


# --- The worksheet ----------------------------------------------------------------------

ANSWERS = {
    "whole_story_customer": "mostly",
    "key_conflict": "安装师傅迟到三次",
    "motive": ["venting", "explanation"],
    "we_at_fault": "yes",
    "exception": "others_decide",
    "exception_note": "需要区域经理决定",
    "trouble_of_no": ["lose_customer", "media_court"],
    "summary": ["should", "can"],
    "position": "proposal",
    "position_note": "上门道歉并免费清洗一次",
}


def test_the_worksheet_keeps_the_four_steps_answers(agent, customer, policy):
    case = case_open(agent, customer)
    services.worksheet_save(actor=agent, case=case, answers=ANSWERS, expected_version=1)
    sheet = ComplaintWorksheet.objects.get(case=case)
    assert sheet.answers == ANSWERS and sheet.updated_by == agent
    case.refresh_from_db()
    assert case.version == 2
    assert case.events.filter(kind=CaseEvent.Kind.WORKSHEET).count() == 1


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"motive": ["bored"]}, "motive"),
        ({"we_at_fault": ["yes", "a_little"]}, "we_at_fault"),
        ({"key_conflict": "x" * 2001}, "key_conflict"),
        ({"key_conflict_note": "x"}, "key_conflict_note"),
    ],
)
def test_bad_worksheet_answers_are_refused_and_nothing_is_saved(
    agent, customer, policy, answers, field
):
    case = case_open(agent, customer)
    with pytest.raises(ValidationError) as refused:
        services.worksheet_save(actor=agent, case=case, answers=answers, expected_version=1)
    assert field in refused.value.message_dict
    assert not ComplaintWorksheet.objects.exists()
    assert Case.objects.get().version == 1


def test_the_decision_step_hands_the_case_to_the_superior(agent, supervisor, customer, policy):
    case = case_open(agent, customer)
    answers = {"position": "superior", "approval": "no_authority"}
    with pytest.raises(ValidationError, match="Choose the supervisor"):
        services.worksheet_save(actor=agent, case=case, answers=answers, expected_version=1)
    with pytest.raises(ValidationError, match="supervisor other than yourself"):
        services.worksheet_save(
            actor=agent, case=case, answers=answers, expected_version=1, superior=agent
        )
    services.worksheet_save(
        actor=agent, case=case, answers=answers, expected_version=1, superior=supervisor
    )
    case.refresh_from_db()
    assert case.owner == supervisor
    handed = case.events.get(kind=CaseEvent.Kind.HANDED_UP)
    assert (handed.actor, handed.from_value, handed.to_value) == (agent, "agent", "supervisor")


def test_the_worksheet_is_for_complaints_and_refuses_a_stale_save(agent, customer, policy):
    inquiry = case_open(agent, customer, kind="inquiry")
    with pytest.raises(ValidationError, match="Only complaints"):
        services.worksheet_save(actor=agent, case=inquiry, answers={}, expected_version=1)
    case = case_open(agent, customer)
    services.worksheet_save(actor=agent, case=case, answers=ANSWERS, expected_version=1)
    with pytest.raises(ValidationError, match="Someone else changed"):
        services.worksheet_save(
            actor=agent, case=case, answers={"key_conflict": "覆盖"}, expected_version=1
        )
    assert ComplaintWorksheet.objects.get().answers == ANSWERS


# --- Root causes and improvement actions ------------------------------------------------


def test_a_complaint_is_resolved_only_with_its_root_cause(agent, customer, policy):
    case = case_open(agent, customer)
    with pytest.raises(ValidationError, match="root cause"):
        services.case_transition(actor=agent, case=case, to=S.RESOLVED, expected_version=1)
    assert Case.objects.get().status == S.NEW
    resolved = services.case_transition(
        actor=agent,
        case=case,
        to=S.RESOLVED,
        expected_version=1,
        root_cause=cause("delivery"),
        root_cause_note="师傅迟到",
    )
    assert (resolved.status, resolved.root_cause, resolved.root_cause_note) == (
        S.RESOLVED,
        cause("delivery"),
        "师傅迟到",
    )
    # Other kinds need none.
    inquiry = case_open(agent, customer, kind="inquiry")
    services.case_transition(actor=agent, case=inquiry, to=S.RESOLVED, expected_version=1)


def test_a_retired_root_cause_is_refused(agent, customer, policy):
    retired = services.root_cause_update(root_cause=cause("other"), name="其他", is_active=False)
    case = case_open(agent, customer)
    with pytest.raises(ValidationError, match="no longer in use"):
        services.case_transition(
            actor=agent, case=case, to=S.RESOLVED, expected_version=1, root_cause=retired
        )
    assert Case.objects.get().root_cause is None


def test_improvement_actions_link_complaints_and_record_completion(
    agent, supervisor, customer, policy
):
    first, second = case_open(agent, customer), case_open(agent, customer)
    with pytest.raises(ValidationError, match="in the past"):
        services.improvement_action_create(
            actor=agent, title="x", owner=agent, due_date=date(2000, 1, 1)
        )
    action = services.improvement_action_create(
        actor=agent,
        title="安装预约改为两小时窗口",
        owner=supervisor,
        due_date=date(2099, 1, 31),
        root_cause=cause("delivery"),
        cases=[first],
    )
    services.improvement_action_link(actor=agent, action=action, case=second)
    services.improvement_action_link(actor=agent, action=action, case=second)
    assert set(action.cases.all()) == {first, second}
    assert second.events.filter(kind=CaseEvent.Kind.IMPROVEMENT).count() == 1
    with pytest.raises(ValidationError, match="Only complaints"):
        services.improvement_action_link(
            actor=agent, action=action, case=case_open(agent, customer, kind="praise")
        )
    done = services.improvement_action_update(
        actor=agent,
        action=action,
        title=action.title,
        description="",
        owner=supervisor,
        due_date=action.due_date,
        status=ImprovementAction.Status.DONE,
        root_cause=action.root_cause,
    )
    assert done.completed_at is not None


def test_an_analyst_may_not_create_improvement_actions(analyst, agent, db):
    with pytest.raises(ValidationError, match="may not change"):
        services.improvement_action_create(
            actor=analyst, title="x", owner=agent, due_date=date(2099, 1, 1)
        )
    assert not ImprovementAction.objects.exists()


def test_root_causes_are_ranked_by_complaints_customers_and_cost(
    agent, supervisor, customer, policy
):
    from kehu.customers import services as customer_services

    vip = customer_services.customer_create(actor=agent, kind="individual", name="李总")
    vip.tags.add(Tag.objects.create(name="VIP"))
    when = at(2026, 3, 16, 10)
    cases = [
        case_open(agent, customer, now=when),
        case_open(agent, customer, now=when),
        case_open(agent, vip, now=when),
        case_open(agent, customer, now=when),
    ]
    for case, code in zip(cases, ["delivery", "delivery", "delivery", "attitude"], strict=True):
        services.case_root_cause_set(
            actor=agent, case=case, root_cause=cause(code), expected_version=case.version
        )
    from kehu.sales.services import transaction_record

    for who, amount, when in (
        (customer, "300", at(2026, 3, 1)),
        (vip, "5000", at(2026, 3, 1)),
        (vip, "1000", at(2026, 3, 2)),
        (vip, "2000", at(2025, 1, 1)),  # more than 12 months before the end: not counted
    ):
        transaction_record(
            actor=None, customer=who, amount=Decimal(amount), occurred_at=when, now=at(2026, 3, 20)
        )
    give(agent, cases[2], "100")
    rejected = give(agent, cases[3], "900")
    services.remedy_decide(actor=supervisor, remedy=rejected, approve=False, reason="不符合")
    ranks = selectors.root_cause_ranking(start=at(2026, 3, 1), end=at(2026, 4, 1))
    assert [
        (r.root_cause.code, r.complaints, r.customers, r.key_accounts, r.given, r.revenue)
        for r in ranks
    ] == [
        ("delivery", 3, 2, 1, Decimal("100"), Decimal("6300")),
        ("attitude", 1, 1, 0, Decimal("0"), Decimal("300")),
    ]
    assert selectors.root_cause_ranking(start=at(2026, 4, 1), end=at(2026, 5, 1)) == []


# --- Attachments ------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEHU_ATTACHMENT_MAX_MB = 1
    return tmp_path


def test_a_file_is_kept_with_the_case_under_a_name_of_kehus_choosing(
    agent, customer, policy, media
):
    case = case_open(agent, customer)
    upload = SimpleUploadedFile("../../etc/故障照片.jpg", b"\xff\xd8jpeg", "image/jpeg")
    attachment = services.attachment_add(actor=agent, case=case, upload=upload)
    assert attachment.name == "故障照片.jpg" and attachment.size == 6
    stored = media / attachment.file.name
    assert stored.read_bytes() == b"\xff\xd8jpeg" and media in stored.resolve().parents
    assert case.events.filter(kind=CaseEvent.Kind.ATTACHMENT).count() == 1


def test_oversized_and_empty_files_and_closed_cases_are_refused(agent, customer, policy, media):
    case = case_open(agent, customer, kind="inquiry")
    big = SimpleUploadedFile("big.pdf", b"x" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        services.attachment_add(actor=agent, case=case, upload=big)
    with pytest.raises(ValidationError, match="empty"):
        services.attachment_add(actor=agent, case=case, upload=SimpleUploadedFile("e.txt", b""))
    for status in (S.RESOLVED, S.CLOSED):
        case = services.case_transition(
            actor=agent, case=case, to=status, expected_version=case.version, **resolving(case)
        )
    with pytest.raises(ValidationError, match="closed"):
        services.attachment_add(actor=agent, case=case, upload=SimpleUploadedFile("a.txt", b"a"))
    assert not CaseAttachment.objects.exists()
    assert not list(media.rglob("*.*"))
