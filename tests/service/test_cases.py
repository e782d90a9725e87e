"""Service cases: lifecycle, SLA clocks on a real calendar, pauses, locking, bad input."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from kehu.customers import services as customer_services
from kehu.customers.models import Tag
from kehu.service import selectors, services
from kehu.service.models import Case, CaseEvent, CaseNote, ComplaintCategory, SlaPolicy

from .calendars_fixtures import SHANGHAI, at
from .cases_fixtures import case_open, resolving

S = Case.Status


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_domain_complaint_categories_are_seeded(db):
    assert list(ComplaintCategory.objects.values_list("code", flat=True)) == [
        "product",
        "service",
        "commitment",
        "offer",
        "other",
    ]


def test_a_new_case_gets_a_reference_an_owner_and_a_history(agent, customer, policy):
    first = case_open(agent, customer, now=at(2026, 3, 16, 9))
    second = case_open(agent, customer, now=at(2026, 3, 16, 9, 5))
    assert first.reference == "C2026-000001"
    assert second.reference == "C2026-000002"
    assert first.owner == agent and first.status == S.NEW and first.version == 1
    assert [(e.kind, e.actor) for e in first.events.all()] == [(CaseEvent.Kind.CREATED, agent)]


def test_references_are_numbered_per_local_year(agent, customer, policy):
    # 2025-12-31 23:30 in Shanghai is still 2025 there, whatever UTC says.
    case = case_open(agent, customer, now=at(2025, 12, 31, 23, 30))
    assert case.reference == "C2025-000001"


# --- SLA due times on a real calendar -------------------------------------------------


def test_due_times_skip_the_weekend(agent, customer, policy):
    # Friday 17:00: one business hour left that day, the rest on Monday.
    case = case_open(agent, customer, now=at(2026, 3, 13, 17))
    assert case.first_response_due_at == at(2026, 3, 16, 10)
    # 8 h: Friday 1 h, Monday 09–12 (3 h) and 13:30–17:30 (4 h).
    assert case.resolution_due_at == at(2026, 3, 16, 17, 30)
    assert case.first_response_due_at.tzinfo == UTC


def test_due_times_skip_a_public_holiday_and_count_an_adjusted_working_day(agent, customer, policy):
    # Wed 31 Dec 2025 17:00; 1–2 Jan are holidays, Sunday 4 Jan 2026 is worked (调休).
    case = case_open(agent, customer, now=at(2025, 12, 31, 17))
    assert case.first_response_due_at == at(2026, 1, 4, 10)


def test_without_any_calendar_the_clock_runs_round_the_clock(agent, customer, db):
    SlaPolicy.objects.create(name="All", first_response_minutes=120, resolution_minutes=600)
    case = case_open(agent, customer, now=utc(2026, 3, 14, 22))  # a Saturday night
    assert case.calendar is None
    assert case.first_response_due_at == utc(2026, 3, 15, 0)
    assert case.resolution_due_at == utc(2026, 3, 15, 8)


def test_without_a_policy_a_case_has_no_due_times(agent, customer, calendar):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    assert case.first_response_due_at is None and case.resolution_due_at is None


def test_the_most_specific_policy_applies_and_key_accounts_are_faster(agent, customer, calendar):
    SlaPolicy.objects.create(name="Any", first_response_minutes=480, resolution_minutes=2400)
    SlaPolicy.objects.create(
        name="Urgent complaints",
        kind="complaint",
        priority="urgent",
        first_response_minutes=60,
        resolution_minutes=240,
    )
    SlaPolicy.objects.create(
        name="Key accounts",
        kind="complaint",
        key_accounts=True,
        first_response_minutes=30,
        resolution_minutes=120,
    )
    start = at(2026, 3, 16, 9)
    assert case_open(agent, customer, now=start, kind="inquiry").first_response_minutes == 480
    assert case_open(agent, customer, now=start, priority="urgent").first_response_minutes == 60
    customer.tags.add(Tag.objects.create(name="大客户"))
    assert case_open(agent, customer, now=start, priority="urgent").first_response_minutes == 30
    assert case_open(agent, customer, now=start, kind="praise").first_response_minutes == 480


# --- Lifecycle ------------------------------------------------------------------------


def _go(actor, case, *statuses, now=None):
    for status in statuses:
        case = services.case_transition(
            actor=actor,
            case=case,
            to=status,
            expected_version=case.version,
            now=now,
            **(resolving(case) if status == S.RESOLVED else {}),
        )
    return case


def test_a_case_runs_its_whole_lifecycle_and_each_step_is_in_the_history(
    agent, supervisor, customer, policy
):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    case = _go(
        agent,
        case,
        S.ACKNOWLEDGED,
        S.IN_PROGRESS,
        S.WAITING,
        S.IN_PROGRESS,
        now=at(2026, 3, 16, 10),
    )
    case = _go(agent, case, S.RESOLVED, now=at(2026, 3, 16, 11))
    assert case.resolved_at == at(2026, 3, 16, 11)
    case = _go(supervisor, case, S.CLOSED, now=at(2026, 3, 16, 12))
    assert case.version == 7
    steps = [
        (e.from_value, e.to_value, e.actor.username)
        for e in case.events.filter(kind=CaseEvent.Kind.STATUS)
    ]
    assert steps == [
        ("new", "acknowledged", "agent"),
        ("acknowledged", "in_progress", "agent"),
        ("in_progress", "waiting", "agent"),
        ("waiting", "in_progress", "agent"),
        ("in_progress", "resolved", "agent"),
        ("resolved", "closed", "supervisor"),
    ]


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), S.CLOSED),
        ((), S.WAITING),
        ((S.IN_PROGRESS,), S.NEW),
        ((S.IN_PROGRESS,), S.ACKNOWLEDGED),
        ((S.RESOLVED, S.CLOSED), S.RESOLVED),
        ((), "nonsense"),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(agent, customer, policy, path, to):
    case = _go(agent, case_open(agent, customer), *path)
    before = Case.objects.filter(pk=case.pk).values().get()
    with pytest.raises(ValidationError, match="A case cannot go from"):
        services.case_transition(actor=agent, case=case, to=to, expected_version=case.version)
    assert Case.objects.filter(pk=case.pk).values().get() == before


def test_a_closed_case_can_be_reopened_but_not_added_to(agent, customer, policy):
    case = _go(agent, case_open(agent, customer), S.RESOLVED, S.CLOSED)
    with pytest.raises(ValidationError, match="closed"):
        services.case_note_add(
            actor=agent, case=case, kind="internal", body="x", expected_version=case.version
        )
    with pytest.raises(ValidationError, match="closed"):
        services.case_assign(
            actor=agent, case=case, owner=agent, team="", expected_version=case.version
        )
    case = _go(agent, case, S.IN_PROGRESS)
    assert case.status == S.IN_PROGRESS and case.resolved_at is None


# --- The clock pauses while waiting on the customer ---------------------------------


def test_waiting_on_the_customer_pauses_the_clock_and_resuming_moves_the_due_times(
    agent, customer, policy
):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    assert case.resolution_due_at == at(2026, 3, 17, 9, 30)
    case = _go(agent, case, S.ACKNOWLEDGED, S.WAITING, now=at(2026, 3, 16, 10))
    assert case.sla_paused_at == at(2026, 3, 16, 10)
    # A whole business day later the customer answers: 1 h used, 7 h and 1 h still to go.
    case = _go(agent, case, S.IN_PROGRESS, now=at(2026, 3, 17, 10))
    assert case.sla_paused_at is None
    assert case.first_response_due_at == at(2026, 3, 17, 11)
    assert case.resolution_due_at == at(2026, 3, 18, 9, 30)


def test_time_spent_resolved_does_not_count_after_a_reopen(agent, customer, policy):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    case = _go(agent, case, S.RESOLVED, now=at(2026, 3, 16, 11))  # 2 h used
    case = _go(agent, case, S.IN_PROGRESS, now=at(2026, 3, 18, 9))
    # 6 h to go from Wednesday 09:00: 09–12, 13:30–16:30.
    assert case.resolution_due_at == at(2026, 3, 18, 16, 30)


# --- Notes and replies --------------------------------------------------------------


def test_a_reply_is_emailed_and_is_the_first_response(agent, customer, policy):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    services.case_note_add(
        actor=agent,
        case=case,
        kind="internal",
        body="查一下安装记录",
        expected_version=1,
        now=at(2026, 3, 16, 9, 10),
    )
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.first_responded_at is None
    note = services.case_note_add(
        actor=agent,
        case=case,
        kind="reply",
        body="<b>明天</b>上门维修",
        expected_version=2,
        now=at(2026, 3, 16, 9, 20),
    )
    case.refresh_from_db()
    assert case.first_responded_at == at(2026, 3, 16, 9, 20)
    assert note.sent_to == "wang@example.com"
    [message] = mail.outbox
    assert message.to == ["wang@example.com"]
    assert message.subject == f"[{case.reference}] 空调不制冷"
    assert message.body == "<b>明天</b>上门维修"
    assert [e.kind for e in case.events.all()] == ["created", "note", "reply"]


def test_a_reply_to_a_contact_goes_to_the_contact(agent, policy):
    company = customer_services.customer_create(
        actor=agent, kind="organisation", name="海尔", emails=["office@example.com"]
    )
    contact = customer_services.contact_create(
        actor=agent, organisation=company, name="李明", emails=["li@example.com"]
    )
    case = case_open(agent, company, contact=contact)
    note = services.case_note_add(
        actor=agent, case=case, kind="reply", body="好的", expected_version=1
    )
    assert note.sent_to == "li@example.com"


# --- Optimistic locking -------------------------------------------------------------


def test_two_saves_of_the_same_version_the_second_is_told_and_nothing_is_lost(
    agent, supervisor, customer, policy
):
    case = case_open(agent, customer)
    mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    services.case_transition(actor=agent, case=mine, to=S.ACKNOWLEDGED, expected_version=1)
    with pytest.raises(ValidationError, match="Someone else changed this case"):
        services.case_note_add(
            actor=supervisor,
            case=theirs,
            kind="internal",
            body="mine",
            expected_version=theirs.version,
        )
    with pytest.raises(ValidationError, match="Someone else changed this case"):
        services.case_assign(
            actor=supervisor,
            case=theirs,
            owner=supervisor,
            team="二线",
            expected_version=theirs.version,
        )
    case.refresh_from_db()
    assert (case.status, case.owner, case.version) == (S.ACKNOWLEDGED, agent, 2)
    assert not CaseNote.objects.exists()


# --- Assignment ----------------------------------------------------------------------


def test_assigning_records_from_and_to(agent, supervisor, customer, policy):
    case = case_open(agent, customer)
    case = services.case_assign(
        actor=supervisor, case=case, owner=supervisor, team="二线", expected_version=1
    )
    assert (case.owner, case.team) == (supervisor, "二线")
    event = case.events.get(kind="assignment")
    assert (event.from_value, event.to_value) == ("agent / ", "supervisor / 二线")


def test_cases_cannot_be_assigned_to_an_analyst(agent, analyst, customer, policy):
    case = case_open(agent, customer)
    with pytest.raises(ValidationError, match="may not work on cases"):
        services.case_assign(actor=agent, case=case, owner=analyst, team="", expected_version=1)


# --- Bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "  "}, "required"),
        ({"subject": "x" * 201}, "at most 200"),
        ({"description": "x" * 10_001}, "at most 10000"),
        ({"kind": "rant"}, "not a valid choice"),
        ({"channel": "pigeon"}, "not a valid choice"),
        ({"priority": "whenever"}, "not a valid choice"),
        ({"kind": "praise", "category": "product"}, "Only complaints"),
    ],
)
def test_bad_cases_are_refused_and_nothing_is_stored(agent, customer, policy, fields, message):
    if "category" in fields:
        fields["category"] = ComplaintCategory.objects.get(code=fields["category"])
    with pytest.raises(ValidationError, match=message):
        case_open(agent, customer, **fields)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_markup_is_stored_as_typed(agent, customer, policy):
    case = case_open(agent, customer, subject="<script>alert(1)</script>")
    assert Case.objects.get(pk=case.pk).subject == "<script>alert(1)</script>"


def test_an_over_long_note_is_refused(agent, customer, policy):
    case = case_open(agent, customer)
    with pytest.raises(ValidationError, match="at most 10000"):
        services.case_note_add(
            actor=agent, case=case, kind="internal", body="x" * 10_001, expected_version=1
        )
    case.refresh_from_db()
    assert case.version == 1 and not CaseNote.objects.exists()


@pytest.mark.parametrize("write", ["create", "transition", "note", "assign"])
def test_an_analyst_may_not_change_cases(agent, analyst, customer, policy, write):
    case = case_open(agent, customer)
    calls = {
        "create": lambda: case_open(analyst, customer),
        "transition": lambda: services.case_transition(
            actor=analyst, case=case, to=S.ACKNOWLEDGED, expected_version=1
        ),
        "note": lambda: services.case_note_add(
            actor=analyst, case=case, kind="internal", body="x", expected_version=1
        ),
        "assign": lambda: services.case_assign(
            actor=analyst, case=case, owner=agent, team="", expected_version=1
        ),
    }
    with pytest.raises(ValidationError, match="may not change"):
        calls[write]()
    assert Case.objects.count() == 1 and Case.objects.get().version == 1


def test_the_sla_state_selector(agent, customer, policy):
    case = case_open(agent, customer)
    assert selectors.case_sla_state(case) == "on_track"
    assert case.first_response_due_at.astimezone(SHANGHAI).tzinfo is SHANGHAI
