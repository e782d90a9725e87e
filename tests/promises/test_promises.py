"""Promises and follow-ups: keep, break, move; callbacks, visits; who may; no lost update."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from kehu.customers import services as customer_services
from kehu.customers.models import Note
from kehu.promises import selectors, services
from kehu.promises.models import Commitment, FollowUp, Visit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.fixture
def wang(agent):
    return customer_services.customer_create(actor=agent, kind="individual", name="王芳")


def promise(actor, customer, *, hours=24, **fields):
    return services.commitment_create(
        actor=actor,
        customer=customer,
        promise=fields.pop("promise", "周三前寄出发票"),
        due_at=NOW + timedelta(hours=hours),
        now=NOW,
        **fields,
    )


def test_a_kept_promise_records_how_and_goes_on_the_timeline(agent, wang):
    commitment = promise(agent, wang)
    kept = services.commitment_keep(
        actor=agent, commitment=commitment, evidence="顺丰 SF123", expected_version=1, now=NOW
    )
    assert (kept.status, kept.evidence, kept.closed_at) == ("kept", "顺丰 SF123", NOW)
    assert "顺丰 SF123" in Note.objects.get(customer=wang).body
    assert selectors.customer_commitments(customer=wang) == []


def test_a_broken_promise_needs_a_reason_and_counts_against_the_relationship(agent, wang):
    commitment = promise(agent, wang)
    with pytest.raises(ValidationError, match="required"):
        services.commitment_break(
            actor=agent, commitment=commitment, reason=" ", expected_version=1
        )
    services.commitment_break(
        actor=agent, commitment=commitment, reason="仓库缺货", expected_version=1
    )
    assert selectors.customer_broken_commitments(customer=wang) == 1


def test_moving_a_promise_keeps_it_active_and_restarts_its_reminders(agent, wang):
    commitment = promise(agent, wang)
    Commitment.objects.filter(pk=commitment.pk).update(reminded_at=NOW)
    moved = services.commitment_renegotiate(
        actor=agent,
        commitment=commitment,
        due_at=NOW + timedelta(days=3),
        reason="客户出差",
        expected_version=1,
        now=NOW,
    )
    assert (moved.status, moved.times_moved, moved.reminded_at) == ("renegotiated", 1, None)
    assert selectors.customer_commitments(customer=wang) == [moved]


@pytest.mark.parametrize("hours", [-1, 0])
def test_a_promise_due_in_the_past_is_refused(agent, wang, hours):
    with pytest.raises(ValidationError, match="in the past"):
        promise(agent, wang, hours=hours)
    assert not Commitment.objects.exists()


def test_keeping_the_same_promise_twice_at_once_the_second_is_told(agent, wang):
    commitment = promise(agent, wang)
    services.commitment_keep(
        actor=agent, commitment=commitment, evidence="寄出", expected_version=1
    )
    with pytest.raises(ValidationError, match="Someone else changed"):
        services.commitment_keep(
            actor=agent, commitment=commitment, evidence="又寄", expected_version=1
        )
    with pytest.raises(ValidationError, match="already kept"):
        services.commitment_keep(
            actor=agent, commitment=commitment, evidence="又寄", expected_version=2
        )
    assert Commitment.objects.get().evidence == "寄出"
    assert Note.objects.filter(customer=wang).count() == 1


def test_only_the_owner_or_a_supervisor_closes_a_promise(agent, manager, supervisor, wang):
    commitment = promise(agent, wang)
    with pytest.raises(ValidationError, match="Only its owner"):
        services.commitment_keep(
            actor=manager, commitment=commitment, evidence="x", expected_version=1
        )
    services.commitment_keep(
        actor=supervisor, commitment=commitment, evidence="主管代办", expected_version=1
    )


def test_an_analyst_makes_no_promises(analyst, agent, wang):
    with pytest.raises(ValidationError, match="may not change"):
        promise(analyst, wang)
    with pytest.raises(ValidationError, match="may not own"):
        promise(agent, wang, owner=analyst)
    assert not Commitment.objects.exists()


def test_a_done_callback_goes_on_the_timeline_and_cannot_be_done_twice(agent, wang):
    callback = services.follow_up_create(
        actor=agent,
        customer=wang,
        kind="callback",
        due_at=NOW + timedelta(hours=2),
        purpose="回访维修满意度",
        now=NOW,
    )
    services.follow_up_complete(
        actor=agent, follow_up=callback, outcome="很满意", expected_version=1, now=NOW
    )
    note = Note.objects.get(customer=wang)
    assert (note.kind, note.body) == ("call", "回访维修满意度: 很满意")
    with pytest.raises(ValidationError):
        services.follow_up_complete(
            actor=agent, follow_up=callback, outcome="再次", expected_version=2
        )
    assert Note.objects.filter(customer=wang).count() == 1


def test_someone_elses_follow_up_needs_the_right(agent, manager, wang):
    callback = services.follow_up_create(
        actor=agent,
        customer=wang,
        kind="phone",
        due_at=NOW + timedelta(hours=2),
        purpose="确认地址",
        now=NOW,
    )
    with pytest.raises(ValidationError, match="Only its owner"):
        services.follow_up_complete(
            actor=manager, follow_up=callback, outcome="x", expected_version=1
        )
    assert FollowUp.objects.get().status == "open"


def test_a_visit_is_prepared_confirmed_and_written_up(agent, manager):
    org = customer_services.customer_create(actor=agent, kind="organisation", name="海尔集团")
    boss = customer_services.contact_create(
        actor=agent, organisation=org, name="周总", decision_role="decision"
    )
    other = customer_services.contact_create(
        actor=agent,
        organisation=customer_services.customer_create(
            actor=agent, kind="organisation", name="别家"
        ),
        name="外人",
    )
    booked = services.follow_up_create(
        actor=manager,
        customer=org,
        kind="visit",
        due_at=NOW + timedelta(days=2),
        purpose="季度拜访",
        place="青岛总部",
        now=NOW,
    )
    visit = Visit.objects.get(follow_up=booked)
    assert visit.stage == "booked" and len(visit.checklist) == 4
    visit = services.visit_prepare(
        actor=manager, visit=visit, done_items=[0, 1, 2, 3], expected_version=1
    )
    assert visit.stage == "prepared"
    visit = services.visit_confirm(actor=manager, visit=visit, expected_version=2, now=NOW)
    assert visit.stage == "confirmed" and visit.confirmed_at == NOW
    with pytest.raises(ValidationError, match="contacts of this customer"):
        services.visit_record(
            actor=manager,
            visit=visit,
            situation="x",
            problems="",
            implied_needs="",
            explicit_needs="",
            next_step="",
            decision_makers=[other],
            expected_version=3,
        )
    services.visit_record(
        actor=manager,
        visit=visit,
        situation="三个厂区，800 部手机",
        problems="高峰期信号差",
        implied_needs="担心生产调度受影响",
        explicit_needs="要专线和集团短信",
        next_step="下周报方案",
        decision_makers=[boss],
        expected_version=3,
        now=NOW,
    )
    visit.refresh_from_db()
    assert visit.stage == "done" and list(visit.decision_makers.all()) == [boss]
    assert FollowUp.objects.get().status == "done"
    assert Note.objects.get(customer=org).kind == "visit"


def test_my_day_lists_overdue_first_then_today_and_nothing_later(agent, wang):
    later = NOW + timedelta(minutes=1)
    overdue = promise(agent, wang, hours=1, promise="上午回电")
    today = services.follow_up_create(
        actor=agent,
        customer=wang,
        kind="callback",
        due_at=NOW + timedelta(hours=6),
        purpose="下午回访",
        now=NOW,
    )
    services.follow_up_create(
        actor=agent,
        customer=wang,
        kind="callback",
        due_at=NOW + timedelta(days=2),
        purpose="后天",
        now=NOW,
    )
    items = selectors.my_day(users=[agent], now=NOW + timedelta(hours=2))
    assert [item.obj for item in items] == [overdue, today]
    assert selectors.my_day(users=[agent], now=later)[0].obj == overdue


def test_the_report_counts_on_time_late_broken_and_overdue_per_person_and_team(
    agent, manager, wang
):
    from kehu.users.models import User

    User.objects.filter(pk__in=[agent.pk, manager.pk]).update(team="华东组")
    on_time = promise(agent, wang, hours=5)
    services.commitment_keep(
        actor=agent,
        commitment=on_time,
        evidence="ok",
        expected_version=1,
        now=NOW + timedelta(hours=4),
    )
    late = promise(agent, wang, hours=5)
    services.commitment_keep(
        actor=agent,
        commitment=late,
        evidence="晚了",
        expected_version=1,
        now=NOW + timedelta(hours=6),
    )
    broken = promise(manager, wang, hours=5)
    services.commitment_break(actor=manager, commitment=broken, reason="缺货", expected_version=1)
    promise(manager, wang, hours=5)  # still open, past due at the report's now
    promise(agent, wang, hours=24 * 40)  # due outside the period
    start, end, now = NOW, NOW + timedelta(days=7), NOW + timedelta(days=1)
    people = {
        str(r.owner): (r.due, r.kept_on_time, r.kept_late, r.broken, r.open_overdue)
        for r in selectors.promise_report(start=start, end=end, now=now)
    }
    assert people == {"agent": (2, 1, 1, 0, 0), "manager": (2, 0, 0, 1, 1)}
    (team,) = selectors.promise_report(start=start, end=end, now=now, by="team")
    assert (team.owner, team.due, team.kept_on_time, team.on_time_rate) == ("华东组", 4, 1, 0.25)


def test_a_supervisor_sees_the_whole_teams_day(agent, manager, supervisor, wang):
    from django.urls import reverse

    from kehu.users.models import User

    from ..conftest import logged_in

    User.objects.filter(pk__in=[agent.pk, supervisor.pk]).update(team="华东组")
    promise(agent, wang, promise="组员的承诺", hours=1)
    promise(manager, wang, promise="别组的承诺", hours=1)
    page = (
        logged_in(User.objects.get(pk=supervisor.pk))
        .get(reverse("promises:my_day") + "?user=team")
        .content.decode()
    )
    assert "组员的承诺" in page and "别组的承诺" not in page
