"""The periodic jobs: follow-ups from policies (never twice), reminders and overdue flags
(at the right instant whatever the time zone), and the calendar feed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from kehu.customers import services as customer_services
from kehu.customers.models import Tag
from kehu.promises import services
from kehu.promises.models import FollowUp, FollowUpPolicy
from kehu.service import services as case_services
from kehu.service.models import RootCause
from kehu.telephony.models import Call

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def policy(owner, trigger, *, days=0, kind="callback", purpose="回访"):
    return services.follow_up_policy_save(
        policy=FollowUpPolicy(
            name=trigger, trigger=trigger, days=days, kind=kind, purpose=purpose, owner=owner
        )
    )


def test_policies_make_each_follow_up_once_however_often_the_job_runs(agent, manager, supervisor):
    vip = customer_services.customer_create(
        actor=agent, kind="organisation", name="海尔", owner=manager
    )
    vip.tags.add(Tag.objects.get_or_create(name="大客户")[0])
    lost = customer_services.customer_create(
        actor=agent, kind="individual", name="流失客户", status="lost", lost_reason="price"
    )
    policy(supervisor, "key_account_every", days=30, kind="visit", purpose="定期拜访")
    policy(supervisor, "lost_customer", days=2, purpose="挽回")
    assert services.follow_ups_generate(now=NOW) == 2
    assert services.follow_ups_generate(now=NOW) == 0
    assert services.follow_ups_generate(now=NOW + timedelta(days=1)) == 0
    visit = FollowUp.objects.get(customer=vip)
    # The account manager gets it; the customer without one goes to the policy's person.
    assert (visit.owner, visit.kind, visit.visit.stage) == (manager, "visit", "booked")
    winback = FollowUp.objects.get(customer=lost)
    assert (winback.owner, winback.due_at) == (supervisor, NOW + timedelta(days=2))
    # The next period brings the next routine visit, once.
    assert services.follow_ups_generate(now=NOW + timedelta(days=30)) == 1
    assert services.follow_ups_generate(now=NOW + timedelta(days=30)) == 0


def test_a_resolved_complaint_and_a_missed_call_bring_their_callbacks(agent, supervisor, xihu):
    policy(supervisor, "after_resolved", days=3, purpose="满意度回访")
    policy(supervisor, "missed_call", purpose="回电")
    case = case_services.case_create(
        actor=agent, customer=xihu, kind="complaint", channel="phone", subject="破损", now=NOW
    )
    case_services.case_transition(
        actor=agent,
        case=case,
        to="resolved",
        expected_version=1,
        root_cause=RootCause.objects.get(code="delivery"),
        now=NOW,
    )
    Call.objects.create(
        call_id="m1",
        direction="in",
        number_raw="13910002000",
        number_e164="+8613910002000",
        customer=xihu,
        state="missed",
        started_at=NOW - timedelta(hours=1),
    )
    assert services.follow_ups_generate(now=NOW) == 2
    assert services.follow_ups_generate(now=NOW) == 0
    survey = FollowUp.objects.get(occasion=f"case-{case.pk}")
    assert (survey.owner, survey.due_at) == (agent, NOW + timedelta(days=3))
    assert FollowUp.objects.get(occasion__startswith="call-").purpose == "回电"


def test_a_policy_for_key_accounts_needs_a_period(supervisor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least one day"):
        policy(supervisor, "key_account_every", days=0)
    assert not FollowUpPolicy.objects.exists()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles", "UTC"])
def test_reminders_fire_at_the_same_instant_in_any_time_zone_and_across_midnight(
    settings, agent, supervisor, zone
):
    settings.TIME_ZONE = zone
    settings.KEHU_PROMISE_REMINDER_HOURS = 24
    agent.email, supervisor.email = "agent@example.com", "boss@example.com"
    agent.save()
    supervisor.save()
    customer = customer_services.customer_create(actor=agent, kind="individual", name="李娜")
    # Made late in the evening in Shanghai, due the next morning: the reminder is due at once.
    made = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    due = made + timedelta(hours=9)  # 08:30 the next day in Shanghai
    commitment = services.commitment_create(
        actor=agent, customer=customer, promise="早上回电", due_at=due, now=made
    )
    counts = services.promises_remind(now=made - timedelta(days=2))
    assert counts == {"reminded": 0, "overdue": 0}
    assert services.promises_remind(now=made) == {"reminded": 1, "overdue": 0}
    assert services.promises_remind(now=made + timedelta(hours=1)) == {"reminded": 0, "overdue": 0}
    assert services.promises_remind(now=due) == {"reminded": 0, "overdue": 1}
    assert services.promises_remind(now=due + timedelta(hours=5)) == {"reminded": 0, "overdue": 0}
    commitment.refresh_from_db()
    assert commitment.reminded_at == due and commitment.overdue_flagged_at == due


def test_reminders_are_emailed_after_the_run_commits(
    agent, supervisor, django_capture_on_commit_callbacks
):
    agent.email, supervisor.email = "agent@example.com", "boss@example.com"
    agent.save()
    supervisor.save()
    customer = customer_services.customer_create(actor=agent, kind="individual", name="李娜")
    services.commitment_create(
        actor=agent, customer=customer, promise="寄样品", due_at=NOW + timedelta(hours=2), now=NOW
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.promises_remind(now=NOW)
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert "寄样品" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.promises_remind(now=NOW + timedelta(hours=3))
    assert sorted(mail.outbox[0].to) == ["agent@example.com", "boss@example.com"]
    assert "overdue" in mail.outbox[0].subject


def test_the_calendar_feed_is_secret_revocable_and_lists_what_is_due(agent, xihu):
    from django.utils import timezone

    # Due after the real clock, whatever day the suite runs: the feed is read through it.
    soon = timezone.now() + timedelta(days=2)
    token = services.calendar_feed_create(user=agent)
    services.commitment_create(actor=agent, customer=xihu, promise="周五前报价", due_at=soon)
    services.follow_up_create(
        actor=agent,
        customer=xihu,
        kind="visit",
        purpose="季度拜访",
        place="杭州",
        due_at=soon,
    )
    url = reverse("promises:feed", args=[token])
    response = Client().get(url)  # no login: the address is the key
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == ["Promise: 周五前报价", "Visit: 季度拜访"]
    assert Client().get(url.replace(token[:6], "xxxxxx")).status_code == 404
    services.calendar_feed_create(user=agent)  # a new address revokes the old one
    assert Client().get(url).status_code == 404


def test_a_first_purchase_brings_one_call_n_days_later_and_repeat_purchases_none(
    agent, manager, supervisor
):
    from decimal import Decimal

    from django.utils import timezone

    from kehu.sales.services import transaction_record

    now = timezone.now()
    buyer = customer_services.customer_create(
        actor=agent, kind="individual", name="新买家", owner=manager
    )
    first = now - timedelta(days=2)
    transaction_record(actor=None, customer=buyer, amount=Decimal("88"), occurred_at=first)
    transaction_record(
        actor=None, customer=buyer, amount=Decimal("20"), occurred_at=now - timedelta(days=1)
    )
    old = customer_services.customer_create(actor=agent, kind="individual", name="老客户")
    transaction_record(
        actor=None, customer=old, amount=Decimal("10"), occurred_at=now - timedelta(days=400)
    )
    policy(supervisor, "first_purchase", days=7, purpose="首购回访：使用是否顺手")
    assert services.follow_ups_generate(now=now) == 1
    assert services.follow_ups_generate(now=now) == 0
    call = FollowUp.objects.get()
    assert (call.customer, call.owner, call.due_at) == (buyer, manager, first + timedelta(days=7))


def test_a_customer_won_back_and_lost_again_is_called_again(agent, supervisor):
    policy(supervisor, "lost_customer", days=1, purpose="挽回")
    customer = customer_services.customer_create(
        actor=agent, kind="individual", name="回头客", status="lost", lost_reason="price"
    )
    assert services.follow_ups_generate(now=NOW) == 1
    customer = customer_services.customer_update(actor=agent, customer=customer, status="active")
    assert services.follow_ups_generate(now=NOW) == 0  # not lost now
    customer_services.customer_update(
        actor=agent, customer=customer, status="lost", lost_reason="poor_service"
    )
    assert services.follow_ups_generate(now=NOW) == 1
    assert services.follow_ups_generate(now=NOW) == 0
    assert FollowUp.objects.filter(customer=customer).count() == 2
