"""The breach sweep: breaches and warnings recorded from stored due times, at given instants."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.service import selectors, services, tasks
from kehu.service.models import Case, CaseEvent

from .calendars_fixtures import at
from .cases_fixtures import case_open, resolving

S = Case.Status
MONDAY_9 = at(2026, 3, 16, 9)


def sweep(now):
    return services.case_sla_sweep(now=now)


def test_warning_then_breach_recorded_at_the_moment_they_happen(agent, customer, policy):
    case = case_open(agent, customer, now=MONDAY_9)
    # 80 % of 2 business hours is 96 minutes: 10:36. The target ends at 11:00.
    assert case.first_response_warn_at == at(2026, 3, 16, 10, 36)
    assert sweep(at(2026, 3, 16, 10, 35)) == {
        "first_response_breach": 0,
        "resolution_breach": 0,
        "warning": 0,
    }
    assert sweep(at(2026, 3, 16, 10, 36))["warning"] == 1
    assert sweep(at(2026, 3, 16, 10, 59)) == {
        "first_response_breach": 0,
        "resolution_breach": 0,
        "warning": 0,
    }
    assert sweep(at(2026, 3, 16, 11, 0, 30))["first_response_breach"] == 1
    case.refresh_from_db()
    assert case.warned_at == at(2026, 3, 16, 10, 36)
    assert case.first_response_breached_at == at(2026, 3, 16, 11)
    assert selectors.case_sla_state(case) == "breached"
    # Once recorded, never again.
    assert sweep(at(2026, 3, 16, 11, 5))["first_response_breach"] == 0
    # 8 business hours end Tuesday 09:30.
    assert sweep(at(2026, 3, 17, 9, 30))["resolution_breach"] == 1
    case.refresh_from_db()
    assert case.resolution_breached_at == at(2026, 3, 17, 9, 30)
    kinds = [(e.kind, e.at, e.actor) for e in case.events.exclude(kind="created")]
    assert kinds == [
        ("warning", at(2026, 3, 16, 10, 36), None),
        ("first_response_breach", at(2026, 3, 16, 11), None),
        ("resolution_breach", at(2026, 3, 17, 9, 30), None),
    ]


def test_answered_paused_and_resolved_cases_are_not_breached(agent, customer, policy):
    answered = case_open(agent, customer, now=MONDAY_9)
    services.case_note_add(
        actor=agent,
        case=answered,
        kind="reply",
        body="在处理",
        expected_version=1,
        now=at(2026, 3, 16, 9, 30),
    )
    waiting = case_open(agent, customer, now=MONDAY_9)
    services.case_transition(
        actor=agent, case=waiting, to=S.ACKNOWLEDGED, expected_version=1, now=MONDAY_9
    )
    services.case_transition(
        actor=agent, case=waiting, to=S.WAITING, expected_version=2, now=at(2026, 3, 16, 9, 30)
    )
    resolved = case_open(agent, customer, now=MONDAY_9)
    services.case_transition(
        actor=agent,
        case=resolved,
        to=S.RESOLVED,
        expected_version=1,
        now=at(2026, 3, 16, 9, 30),
        **resolving(resolved),
    )
    result = sweep(at(2026, 3, 20, 12))
    assert result == {"first_response_breach": 0, "resolution_breach": 1, "warning": 1}
    assert Case.objects.get(resolution_breached_at__isnull=False) == answered
    assert (
        not CaseEvent.objects.filter(case__in=[waiting, resolved])
        .exclude(kind__in=["created", "status", "root_cause"])
        .exists()
    )


def test_the_sweep_costs_the_same_few_queries_for_many_cases(agent, customer, policy):
    def queries(count):
        Case.objects.all().delete()
        for _n in range(count):
            case_open(agent, customer, now=MONDAY_9)
        with CaptureQueriesContext(connection) as captured:
            found = sweep(at(2026, 3, 18, 9))
        assert found["resolution_breach"] == count
        return len(captured)

    assert queries(2) == queries(12)


def test_the_periodic_task_calls_the_sweep(agent, customer, policy):
    case_open(agent, customer, now=at(2020, 3, 16, 9))
    tasks.case_sla_sweep.call_local()
    assert Case.objects.get().resolution_breached_at is not None


def test_owners_hear_of_warnings_and_supervisors_of_breaches_once(
    agent, supervisor, customer, policy, django_capture_on_commit_callbacks
):
    from django.core import mail

    agent.email, supervisor.email = "agent@example.com", "boss@example.com"
    agent.save()
    supervisor.save()
    case_open(agent, customer, now=MONDAY_9, subject="空调不制冷")
    sweep(at(2026, 3, 16, 10, 40))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_notifications_send(now=at(2026, 3, 16, 10, 40)) == 1
    (warning,) = mail.outbox
    assert warning.to == ["agent@example.com"] and "SLA warning" in warning.body
    mail.outbox.clear()
    sweep(at(2026, 3, 16, 11, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_notifications_send(now=at(2026, 3, 16, 11, 1)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["agent@example.com", "boss@example.com"]
    assert all("First-response target missed" in m.body for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_notifications_send(now=at(2026, 3, 16, 11, 2)) == 0
    assert mail.outbox == []
    assert not CaseEvent.objects.filter(kind__in=CaseEvent.NOTIFIED_KINDS, notified_at=None)
