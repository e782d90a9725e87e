"""The set-based sweep: one warning per case however many of its clocks pass the warning
time, events in the same numbers as the cases marked, nothing for clocks not watched."""

from kehu.service import services
from kehu.service.models import Case, CaseEvent

from .calendars_fixtures import at
from .cases_fixtures import case_open, resolving

S = Case.Status


def test_a_case_past_both_warning_times_is_warned_once(agent, customer, policy):
    case = case_open(agent, customer, now=at(2026, 3, 16, 9))
    # Both 80 % marks long passed, neither due time reached: only warnings to record.
    Case.objects.filter(pk=case.pk).update(
        first_response_warn_at=at(2026, 3, 16, 9, 10),
        resolution_warn_at=at(2026, 3, 16, 9, 20),
        first_response_due_at=at(2026, 3, 16, 12),
        resolution_due_at=at(2026, 3, 16, 13),
    )
    found = services.case_sla_sweep(now=at(2026, 3, 16, 10))
    assert found == {"first_response_breach": 0, "resolution_breach": 0, "warning": 1}
    assert list(case.events.filter(kind="warning").values_list("at", flat=True)) == [
        at(2026, 3, 16, 10)
    ]


def test_events_match_the_cases_marked(agent, customer, policy):
    cases = [case_open(agent, customer, now=at(2026, 3, 16, 9)) for _n in range(5)]
    services.case_note_add(
        actor=agent,
        case=cases[0],
        kind="reply",
        body="好",
        expected_version=1,
        now=at(2026, 3, 16, 9, 5),
    )
    services.case_transition(
        actor=agent,
        case=cases[1],
        to=S.RESOLVED,
        expected_version=1,
        now=at(2026, 3, 16, 9, 5),
        **resolving(cases[1]),
    )
    found = services.case_sla_sweep(now=at(2026, 3, 16, 11, 30))
    # Three unanswered and open (one answered, one resolved): three breaches.
    assert found["first_response_breach"] == 3
    marked = Case.objects.filter(first_response_breached_at__isnull=False)
    events = CaseEvent.objects.filter(kind="first_response_breach")
    assert sorted(marked.values_list("pk", flat=True)) == sorted(
        events.values_list("case_id", flat=True)
    )
    assert {e.at for e in events} == {at(2026, 3, 16, 11)}
    assert all(e.actor_id is None and e.from_value == "" for e in events)
