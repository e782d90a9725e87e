"""Triggers, throttling, one-time links, and the detractor-to-recovery-case loop."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, TestCase

from kehu.customers import services as customer_services
from kehu.customers.models import Customer, Tag
from kehu.feedback import services
from kehu.feedback.models import Invitation, Response, ServqualItem, Survey
from kehu.service import services as case_services
from kehu.service.models import Case
from kehu.webform.models import SubmissionWindow
from tests.feedback.conftest import LINK, NOW, invite, make_survey


def _run_jobs(now):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.surveys_trigger(now=now)


def _resolved_case(customer, owner, *, at):
    case = case_services.case_create(
        actor=owner, customer=customer, kind="request", channel="phone", subject="换货", now=at
    )
    Case.objects.filter(pk=case.pk).update(status="resolved", resolved_at=at)
    return case


def test_detractor_opens_a_recovery_case_for_the_owner_end_to_end(
    supervisor, agent, manager, customer
):
    make_survey(supervisor, Survey.Kind.NPS, trigger=Survey.Trigger.AFTER_RESOLVED, delay=24)
    case = _resolved_case(customer, agent, at=NOW - timedelta(hours=30))
    assert _run_jobs(NOW) == 1
    message = mail.outbox[-1]
    assert message.to == ["li.na@example.com"]
    token = LINK.search(message.body).group(1)
    # Only the hash of the link is stored.
    invitation = Invitation.objects.get()
    assert invitation.case == case and token not in invitation.token_hash

    client = Client()
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "李女士" in body and "李娜" not in body and "li.na@example.com" not in body
    answered = client.post(f"/s/{token}", {"score": "3", "comment": "等了三天才有人回复，太慢了"})
    assert answered.status_code == 302
    assert "Thank you" in client.get(answered["Location"]).content.decode()

    response = Response.objects.get()
    assert response.score == 3 and response.case == case
    recovery = response.recovery_case
    assert recovery.kind == "complaint" and recovery.owner == manager
    assert recovery.customer == customer and recovery.priority == "high"
    assert "3" in recovery.subject and "太慢了" in recovery.description
    assert case.reference in recovery.description


def test_a_promoter_opens_no_case(supervisor, customer):
    survey = make_survey(supervisor, Survey.Kind.NPS)
    _inv, token = invite(survey, customer)
    response = services.response_submit(token=token, score=9, now=NOW)
    assert response.recovery_case is None and Case.objects.count() == 0


def test_unacceptable_servqual_opens_a_recovery_case(supervisor, customer, manager):
    survey = make_survey(supervisor, Survey.Kind.SERVQUAL)
    _inv, token = invite(survey, customer)
    pairs = {i.pk: (7, 3) for i in ServqualItem.objects.all()}
    response = services.response_submit(token=token, servqual=pairs, now=NOW)
    assert response.reading == "unacceptable"
    assert response.recovery_case.owner == manager
    assert "SERVQUAL" in response.recovery_case.subject


def test_jobs_are_idempotent_and_cover_every_trigger(supervisor, agent, manager, customer):
    make_survey(supervisor, Survey.Kind.CSAT, trigger=Survey.Trigger.AFTER_RESOLVED, delay=24)
    make_survey(
        supervisor, Survey.Kind.SERVQUAL, trigger=Survey.Trigger.KEY_ACCOUNT_EVERY, delay=90
    )
    make_survey(supervisor, Survey.Kind.EXIT, trigger=Survey.Trigger.LOST_CUSTOMER)
    vip = customer_services.customer_create(
        actor=agent, kind="organisation", name="海尔", emails=["vip@example.com"]
    )
    vip.tags.add(Tag.objects.get_or_create(name="大客户")[0])
    lost = customer_services.customer_create(
        actor=agent,
        kind="individual",
        name="王五",
        status="lost",
        lost_reason="price",
        phones=["139 0000 1111"],
    )
    Customer.objects.filter(pk=lost.pk).update(lost_at=NOW - timedelta(days=2))
    _resolved_case(customer, agent, at=NOW - timedelta(hours=30))
    _resolved_case(customer, agent, at=NOW - timedelta(hours=31))
    _resolved_case(customer, agent, at=NOW - timedelta(hours=2))  # not yet 24 hours
    now = NOW
    sent = _run_jobs(now)
    # The customer gets one survey however many cases (throttle), the VIP one, the lost
    # customer the exit survey by SMS (no email address).
    assert sent == 3
    assert len(mail.outbox) == 2
    assert Invitation.objects.get(customer=lost).channel == "sms"
    assert Invitation.objects.filter(status="throttled").count() == 1
    # Running again sends nothing new.
    assert _run_jobs(now) == 0
    assert len(mail.outbox) == 2
    assert Invitation.objects.filter(status="sent").count() == 3


def test_the_exit_survey_follows_the_moment_a_customer_is_marked_lost(supervisor, agent, customer):
    make_survey(supervisor, Survey.Kind.EXIT, trigger=Survey.Trigger.LOST_CUSTOMER)
    lost = customer_services.customer_update(
        actor=agent, customer=customer, status="lost", lost_reason="price"
    )
    # Lost long ago (an edit today does not make it recent): nobody is asked.
    Customer.objects.filter(pk=lost.pk).update(lost_at=NOW - timedelta(days=40))
    customer_services.customer_update(actor=agent, customer=lost, needs="价格敏感")
    assert _run_jobs(NOW) == 0
    # Lost yesterday: asked once, however often the job runs.
    Customer.objects.filter(pk=lost.pk).update(lost_at=NOW - timedelta(days=1))
    assert _run_jobs(NOW) == 1 and _run_jobs(NOW + timedelta(hours=1)) == 0
    # Won back, then lost again two months later: a new occasion, asked again.
    back = customer_services.customer_update(actor=agent, customer=lost, status="active")
    assert _run_jobs(NOW) == 0
    again = customer_services.customer_update(
        actor=agent, customer=back, status="lost", lost_reason="competitor"
    )
    Customer.objects.filter(pk=again.pk).update(lost_at=NOW + timedelta(days=60))
    assert _run_jobs(NOW + timedelta(days=61)) == 1
    assert Invitation.objects.filter(customer=customer, status="sent").count() == 2


def test_throttle_across_surveys(supervisor, customer, settings):
    settings.KEHU_SURVEY_THROTTLE_DAYS = 30
    first = make_survey(supervisor, Survey.Kind.CSAT)
    second = make_survey(supervisor, Survey.Kind.NPS)
    invite(first, customer)
    again = services.invitation_send(
        survey=second, customer=customer, occasion="x", now=NOW + timedelta(days=29)
    )
    assert again.status == "throttled" and again.token_hash is None
    later = services.invitation_send(
        survey=second, customer=customer, occasion="y", now=NOW + timedelta(days=31)
    )
    assert later.status == "sent"


def test_replayed_expired_forged_and_double_submissions_are_refused(supervisor, customer, settings):
    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    survey = make_survey(supervisor, Survey.Kind.CSAT)
    _inv, token = invite(survey, customer)
    client = Client()
    assert client.post(f"/s/{token}", {"score": "5"}).status_code == 302
    # Replay from another browser: a clear page, nothing counted twice.
    replay = Client().post(f"/s/{token}", {"score": "1"})
    assert replay.status_code == 410 and "already been answered" in replay.content.decode()
    assert Response.objects.count() == 1 and Response.objects.get().score == 5
    with pytest.raises(services.InvitationUnusable) as error:
        services.response_submit(token=token, score=1, now=NOW)
    assert error.value.reason == "answered"

    # Forged: a made-up token, and a real one altered by a character.
    assert Client().get("/s/not-a-real-token-at-all-xxxxxxxx").status_code == 404
    forged = Client().get(f"/s/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}")
    assert forged.status_code == 404 and "not valid" in forged.content.decode()

    # Expired.
    old, old_token = invite(survey, customer, occasion="old")
    Invitation.objects.filter(pk=old.pk).update(expires_at=NOW - timedelta(seconds=1))
    expired = Client().post(f"/s/{old_token}", {"score": "4"})
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert Response.objects.count() == 1

    # Out of range: refused on the page and by the service; nothing stored.
    _inv, fresh = invite(survey, customer, occasion="fresh")
    bad = Client().post(f"/s/{fresh}", {"score": "9"})
    assert bad.status_code == 200 and "Please answer the marked questions" in bad.content.decode()
    from django.core.exceptions import ValidationError

    for score in (0, 6, None, True):
        with pytest.raises(ValidationError):
            services.response_submit(token=fresh, score=score, now=NOW)
    assert Response.objects.count() == 1


def test_the_database_refuses_a_second_response(supervisor, customer):
    """Two submissions at once: the one-to-one invitation is the last word."""
    from django.db import IntegrityError, transaction

    survey = make_survey(supervisor, Survey.Kind.CSAT)
    invitation, token = invite(survey, customer)
    first = services.response_submit(token=token, score=4, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            invitation=invitation,
            survey=survey,
            customer=customer,
            kind="csat",
            score=2,
            submitted_at=NOW,
        )
    assert Response.objects.get() == first


def test_the_answer_page_is_rate_limited_per_address(supervisor, customer, settings):
    settings.KEHU_SURVEY_LIMIT = 3
    client = Client()
    codes = [client.get(f"/s/forged-token-number-{n}-xxxxxxxxxx").status_code for n in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    assert SubmissionWindow.objects.filter(client="survey:127.0.0.1").exists()


def test_sms_invitations_go_through_the_configured_sender(supervisor, customer, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    survey = make_survey(supervisor, Survey.Kind.CSAT, channel="sms")
    with TestCase.captureOnCommitCallbacks(execute=True):
        invitation = services.invitation_send(
            survey=survey, customer=customer, occasion="s", now=NOW, language="zh-hans"
        )
    assert invitation.channel == "sms" and invitation.address == "+8613800138000"
    line = (tmp_path / "sms.log").read_text()
    assert (
        "+8613800138000" in line and "/s/" in line and "李女士" in line and "服务做得如何" in line
    )


def test_a_visit_is_followed_by_a_survey_n_hours_later(supervisor, agent, customer):
    from kehu.promises.models import FollowUp, Visit

    make_survey(supervisor, Survey.Kind.CSAT, trigger=Survey.Trigger.AFTER_VISIT, delay=4)
    done = NOW - timedelta(hours=3)
    follow_up = FollowUp.objects.create(
        customer=customer,
        kind="visit",
        owner=agent,
        due_at=done,
        purpose="拜访",
        status="done",
        done_at=done,
        created_at=done,
    )
    Visit.objects.create(follow_up=follow_up, stage=Visit.Stage.DONE)
    assert _run_jobs(NOW) == 0  # three hours after: not yet
    assert _run_jobs(NOW + timedelta(hours=1)) == 1
    assert Invitation.objects.get().occasion == f"visit-{follow_up.pk}"
    assert _run_jobs(NOW + timedelta(hours=2)) == 0


def test_custom_questions_and_the_exit_survey_on_the_page(supervisor, customer, settings):
    from kehu.feedback.models import QuestionAnswer

    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    custom = make_survey(supervisor, Survey.Kind.CUSTOM)
    rating = services.question_add(
        actor=supervisor,
        survey=custom,
        kind="rating",
        text_en="Was the invoice clear?",
        text_zh="发票清楚吗？",
    )
    text = services.question_add(
        actor=supervisor,
        survey=custom,
        kind="text",
        text_en="What should we change?",
        text_zh="我们应该改进什么？",
    )
    _inv, token = invite(custom, customer, language="zh-hans")
    page = Client().get(f"/s/{token}")
    assert "发票清楚吗？" in page.content.decode()
    refused = Client().post(f"/s/{token}", {f"q{rating.pk}": "6"})
    assert refused.status_code == 200 and Response.objects.count() == 0
    assert (
        Client()
        .post(f"/s/{token}", {f"q{rating.pk}": "4", f"q{text.pk}": "开电子发票"})
        .status_code
        == 302
    )
    answers = {a.question_id: a for a in QuestionAnswer.objects.all()}
    assert answers[rating.pk].value == 4 and answers[text.pk].text == "开电子发票"

    exit_survey = make_survey(supervisor, Survey.Kind.EXIT)
    _inv, token = invite(exit_survey, customer, occasion="exit")
    assert Client().post(f"/s/{token}", {"exit_reason": "moved-away"}).status_code == 200
    done = Client().post(f"/s/{token}", {"exit_reason": "price", "comment": "太贵了"})
    assert done.status_code == 302
    response = Response.objects.get(kind="exit")
    assert response.exit_reason == "price" and response.comment == "太贵了"
    assert response.recovery_case is None
