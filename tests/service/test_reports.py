"""The SLA report's arithmetic on hand-built cases, and the iceberg's estimate."""

from datetime import date
from decimal import Decimal

from kehu.service import reports, services
from kehu.service.models import Case, ComplaintCategory

from .calendars_fixtures import at
from .cases_fixtures import case_open, resolving

S = Case.Status
MONDAY_9 = at(2026, 3, 16, 9)
NOW = at(2026, 3, 18, 12)


def reply(actor, case, when):
    services.case_note_add(
        actor=actor, case=case, kind="reply", body="您好", expected_version=case.version, now=when
    )
    case.refresh_from_db()


def move(actor, case, to, when):
    services.case_transition(
        actor=actor,
        case=case,
        to=to,
        expected_version=case.version,
        now=when,
        **(resolving(case) if to == S.RESOLVED else {}),
    )
    case.refresh_from_db()


def build(agent, supervisor, customer):
    """Six cases on the office calendar (2 business hours to answer, 8 to resolve)."""
    met = case_open(agent, customer, now=MONDAY_9, team="A")
    reply(agent, met, at(2026, 3, 16, 9, 30))  # 30 business minutes
    move(agent, met, S.RESOLVED, at(2026, 3, 16, 10))  # 60
    late_reply = case_open(agent, customer, now=MONDAY_9, team="A")
    reply(agent, late_reply, at(2026, 3, 16, 11, 30))  # 150, due 11:00: missed
    move(agent, late_reply, S.RESOLVED, at(2026, 3, 16, 17))  # 390, due Tue 09:30: met
    breached = case_open(agent, customer, now=MONDAY_9, team="A")  # never answered
    paused = case_open(agent, customer, now=MONDAY_9, team="A")
    move(agent, paused, S.ACKNOWLEDGED, at(2026, 3, 16, 9, 5))
    move(agent, paused, S.WAITING, at(2026, 3, 16, 9, 10))  # waiting since: pending
    not_yet_due = case_open(agent, customer, now=at(2026, 3, 18, 11), team="A")
    other_team = case_open(agent, customer, now=MONDAY_9, team="B", owner=supervisor)
    reply(agent, other_team, at(2026, 3, 16, 9, 45))  # 45
    move(agent, other_team, S.RESOLVED, at(2026, 3, 18, 10))  # 960, due Tue 09:30: missed
    services.case_sla_sweep(now=NOW)
    breached.refresh_from_db()
    assert breached.first_response_breached_at and breached.resolution_breached_at
    return met, late_reply, breached, paused, not_yet_due, other_team


def figures(clock: reports.Clock):
    return (clock.due, clock.met, clock.missed, clock.pending, clock.met_percent)


def test_met_missed_breached_and_paused_per_team_and_in_total(agent, supervisor, customer, policy):
    build(agent, supervisor, customer)
    rows = reports.sla_report(start=date(2026, 3, 1), end=date(2026, 3, 31), by="team", now=NOW)
    assert [(row.period, row.label) for row in rows] == [
        (date(2026, 3, 1), "A"),
        (date(2026, 3, 1), "B"),
        (date(2026, 3, 1), "All"),
    ]
    team_a, team_b, total = rows
    # Met: the first. Missed: answered late, and breached. Pending: paused, not yet due.
    assert figures(team_a.first_response) == (5, 1, 2, 2, 33.3)
    assert team_a.first_response.missed_percent == 66.7
    # Met: the first two. Missed: breached. Pending: paused (its due time has passed, but
    # the clock is stopped), not yet due.
    assert figures(team_a.resolution) == (5, 2, 1, 2, 66.7)
    assert figures(team_b.first_response) == (1, 1, 0, 0, 100.0)
    # Resolved after its due time, before any sweep saw it: missed all the same.
    assert figures(team_b.resolution) == (1, 0, 1, 0, 0.0)
    assert figures(total.first_response) == (6, 2, 2, 2, 50.0)
    assert figures(total.resolution) == (6, 2, 2, 2, 50.0)
    # Nearest-rank percentiles of business minutes: A answered in 30 and 150.
    assert (team_a.first_response.median, team_a.first_response.p90) == (30, 150)
    assert (team_a.resolution.median, team_a.resolution.p90) == (60, 390)
    assert (team_b.resolution.median, team_b.resolution.p90) == (960, 960)
    assert (total.first_response.median, total.first_response.p90) == (45, 150)
    assert (total.resolution.median, total.resolution.p90) == (390, 960)


def test_grouped_by_owner_kind_and_category(agent, supervisor, customer, policy):
    build(agent, supervisor, customer)
    product = ComplaintCategory.objects.get(code="product")
    praise = case_open(agent, customer, now=MONDAY_9, kind="praise", subject="谢谢")
    reply(agent, praise, at(2026, 3, 16, 10))
    Case.objects.filter(kind="complaint", team="A").update(category=product)
    march = {"start": date(2026, 3, 1), "end": date(2026, 3, 31), "now": NOW}

    by_owner = {r.label: r for r in reports.sla_report(by="owner", **march)}
    assert set(by_owner) == {"agent", "supervisor", "All"}
    assert figures(by_owner["supervisor"].first_response) == (1, 1, 0, 0, 100.0)
    assert figures(by_owner["agent"].first_response) == (6, 2, 2, 2, 50.0)

    by_kind = {r.label: r for r in reports.sla_report(by="kind", **march)}
    assert set(by_kind) == {"Complaint", "Praise", "All"}
    assert by_kind["Praise"].first_response.due == 1

    by_category = {r.label: r for r in reports.sla_report(by="category", **march)}
    assert set(by_category) == {"Product", "(no category)", "All"}
    assert by_category["Product"].first_response.due == 5


def test_a_case_counts_in_the_period_of_its_due_time_in_shanghai(agent, customer, policy):
    march_end = case_open(agent, customer, now=MONDAY_9)
    april_start = case_open(agent, customer, now=MONDAY_9)
    # 23:30 on 31 March in Shanghai (15:30 UTC); 00:30 on 1 April (still 31 March in UTC).
    Case.objects.filter(pk=march_end.pk).update(first_response_due_at=at(2026, 3, 31, 23, 30))
    Case.objects.filter(pk=april_start.pk).update(first_response_due_at=at(2026, 4, 1, 0, 30))
    rows = reports.sla_report(
        start=date(2026, 3, 1), end=date(2026, 4, 30), period="month", by="team", now=NOW
    )
    totals = {row.period: row.first_response.due for row in rows if row.is_total}
    assert totals == {date(2026, 3, 1): 1, date(2026, 4, 1): 1}
    days = reports.sla_report(
        start=date(2026, 3, 31), end=date(2026, 3, 31), period="day", by="team", now=NOW
    )
    assert [(r.period, r.first_response.due) for r in days if r.is_total] == [
        (date(2026, 3, 31), 1)
    ]
    weeks = reports.sla_report(
        start=date(2026, 3, 30), end=date(2026, 4, 5), period="week", by="team", now=NOW
    )
    # Both fall in the week starting Monday 30 March.
    assert [(r.period, r.first_response.due) for r in weeks if r.is_total] == [
        (date(2026, 3, 30), 2)
    ]


def test_cases_without_a_service_level_are_not_counted(agent, customer):
    case_open(agent, customer, now=MONDAY_9)
    assert reports.sla_report(start=date(2026, 3, 1), end=date(2026, 3, 31), now=NOW) == []


# --- The iceberg -----------------------------------------------------------------------


def test_iceberg_estimates_the_silent_from_distinct_complainers(agent, customer, xihu):
    product = ComplaintCategory.objects.get(code="product")
    for who, when in ((customer, at(2026, 3, 2, 10)), (customer, at(2026, 3, 3, 10))):
        case_open(agent, who, now=when, category=product)
    case_open(agent, xihu, now=at(2026, 4, 1, 0, 30), category=product)  # April in Shanghai
    case_open(agent, xihu, now=at(2026, 3, 5, 10), kind="request")  # not a complaint
    periods, totals = reports.iceberg(
        start=date(2026, 3, 1), end=date(2026, 4, 30), rate_percent=Decimal(5)
    )
    assert [(r.period, r.category, r.complaints, r.customers, r.estimated) for r in periods] == [
        (date(2026, 3, 1), "Product", 2, 1, 20),
        (date(2026, 4, 1), "Product", 1, 1, 20),
    ]
    assert [(r.category, r.complaints, r.customers, r.estimated) for r in totals] == [
        ("Product", 3, 2, 40)
    ]
    _periods, totals = reports.iceberg(
        start=date(2026, 3, 1), end=date(2026, 4, 30), rate_percent=Decimal("12.5")
    )
    assert totals[0].estimated == 16  # 2 / 12.5 %


def test_the_estimate_rounds_half_up():
    assert reports.estimate_dissatisfied(1, Decimal(3)) == 33
    assert reports.estimate_dissatisfied(1, Decimal(8)) == 13  # 12.5
    assert reports.estimate_dissatisfied(0, Decimal(5)) == 0
