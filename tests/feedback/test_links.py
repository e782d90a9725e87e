"""Re-sending and revoking a survey link: the old link stops working with a clear page,
the throttle holds unless a supervisor overrides it, and the wrong roles are refused."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, TestCase
from django.urls import reverse

from kehu.customers import services as customer_services
from kehu.feedback import services
from kehu.feedback.models import Invitation, Response, RetiredLink, Survey
from tests.conftest import bearer, logged_in
from tests.feedback.conftest import LINK, NOW, invite, make_survey

LATER = NOW + timedelta(days=2)


@pytest.fixture
def sent(supervisor, customer, settings):
    settings.KEHU_SURVEY_THROTTLE_DAYS = 30
    return invite(make_survey(supervisor, Survey.Kind.CSAT), customer)


def _resend(actor, invitation, **kwargs) -> str:
    """Re-sends through the service and returns the new link's token from the message."""
    before = len(mail.outbox)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.invitation_resend(actor=actor, invitation=invitation, now=LATER, **kwargs)
    assert len(mail.outbox) == before + 1
    return LINK.search(mail.outbox[-1].body).group(1)


def test_resend_respects_the_throttle_unless_a_supervisor_overrides_it(
    sent, agent, supervisor, analyst
):
    invitation, old = sent
    with pytest.raises(ValidationError, match="within the last 30 days"):
        services.invitation_resend(actor=agent, invitation=invitation, now=LATER)
    with pytest.raises(ValidationError, match="Only a supervisor"):
        services.invitation_resend(
            actor=agent, invitation=invitation, override_throttle=True, now=LATER
        )
    with pytest.raises(ValidationError, match="may not"):
        services.invitation_resend(actor=analyst, invitation=invitation, now=LATER)
    # Nothing changed: the first link still works, no message went out.
    assert len(mail.outbox) == 1 and Client().get(f"/s/{old}").status_code == 200

    new = _resend(supervisor, invitation, override_throttle=True)
    invitation.refresh_from_db()
    assert new != old and invitation.times_sent == 2 and invitation.sent_at == LATER
    assert invitation.expires_at == LATER + timedelta(days=14)
    gone = Client().get(f"/s/{old}")
    assert gone.status_code == 410 and "no longer valid" in gone.content.decode()
    assert Client().post(f"/s/{old}", {"score": "1"}).status_code == 410
    assert Client().post(f"/s/{new}", {"score": "4"}).status_code == 302
    assert Response.objects.get().score == 4


def test_after_the_throttle_period_an_agent_may_resend(sent, agent, settings):
    invitation, old = sent
    settings.KEHU_SURVEY_THROTTLE_DAYS = 1
    new = _resend(agent, invitation)
    assert Client().get(f"/s/{new}").status_code == 200
    assert Client().get(f"/s/{old}").status_code == 410
    # The re-send is itself a message: a second one right after is throttled again.
    with pytest.raises(ValidationError):
        services.invitation_resend(actor=agent, invitation=invitation, now=LATER)


def test_revoke_then_resend_to_the_corrected_address(sent, agent, customer, settings):
    invitation, old = sent
    services.invitation_revoke(actor=agent, invitation=invitation, now=LATER)
    page = Client().get(f"/s/{old}?lang=zh-hans")
    assert page.status_code == 410 and "链接已失效" in page.content.decode()
    with pytest.raises(ValidationError, match="already revoked"):
        services.invitation_revoke(actor=agent, invitation=invitation, now=LATER)
    customer_services.customer_update(actor=agent, customer=customer, emails=["li.na@new.cn"])
    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    new = _resend(agent, invitation)
    assert mail.outbox[-1].to == ["li.na@new.cn"]
    assert Invitation.objects.get().status == "sent" and RetiredLink.objects.count() == 1
    assert Client().get(f"/s/{new}").status_code == 200


def test_an_answered_link_cannot_be_resent_or_revoked(sent, supervisor):
    invitation, token = sent
    services.response_submit(token=token, score=5, now=NOW)
    for write in (services.invitation_resend, services.invitation_revoke):
        with pytest.raises(ValidationError, match="answered"):
            write(actor=supervisor, invitation=invitation, now=LATER)
    assert RetiredLink.objects.count() == 0


def test_an_invitation_never_sent_for_want_of_an_address_is_sent_once_there_is_one(
    supervisor, agent
):
    nobody = customer_services.customer_create(actor=agent, kind="individual", name="赵六")
    survey = make_survey(supervisor, Survey.Kind.NPS)
    invitation = services.invitation_send(survey=survey, customer=nobody, occasion="x", now=NOW)
    assert invitation.status == "no_address" and invitation.token_hash is None
    with pytest.raises(ValidationError, match="no email address or phone"):
        services.invitation_resend(actor=agent, invitation=invitation, now=LATER)
    customer_services.customer_update(actor=agent, customer=nobody, phones=["139 0000 2222"])
    services.invitation_resend(actor=agent, invitation=invitation, now=LATER)
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.channel == "sms"
    assert invitation.address == "+8613900002222" and invitation.times_sent == 1


def test_pages_resend_and_revoke_and_refuse_the_wrong_roles(sent, agent, analyst, supervisor):
    invitation, old = sent
    resend = reverse("feedback:resend", args=[invitation.pk])
    revoke = reverse("feedback:revoke", args=[invitation.pk])
    card = reverse("customers:card", args=[invitation.customer_id])
    fragment = reverse("feedback:customer_invitations", args=[invitation.customer_id])
    for url in (resend, revoke, fragment):
        assert Client().post(url)["Location"].startswith("/accounts/login/")
    assert logged_in(analyst).post(resend).status_code == 403
    assert logged_in(analyst).post(revoke).status_code == 403
    assert logged_in(agent).get(resend).status_code == 405
    # The analyst sees the links, without the buttons; the agent gets the buttons.
    listed = logged_in(analyst).get(fragment).content.decode()
    assert "csat survey" in listed and resend not in listed
    listed = logged_in(agent).get(fragment).content.decode()
    assert resend in listed and revoke in listed and 'name="override"' not in listed
    assert 'name="override"' in logged_in(supervisor).get(fragment).content.decode()

    # Throttled for the agent: told so on the card, nothing changed.
    client = logged_in(agent)
    refused = client.post(resend, {"override": "on", "next": "https://evil.example/"})
    assert refused["Location"] == card
    assert "Only a supervisor" in client.get(card).content.decode()
    assert Client().get(f"/s/{old}").status_code == 200
    assert client.post(revoke, {"next": card}).status_code == 302
    assert Client().get(f"/s/{old}").status_code == 410
    done = logged_in(supervisor).post(resend, {"override": "on"}, follow=True)
    assert "A new link was sent" in done.content.decode()
    assert Invitation.objects.get().status == "sent"


def test_api_lists_resends_and_revokes_and_refuses_the_wrong_roles(
    sent, agent, analyst, supervisor, django_capture_on_commit_callbacks
):
    invitation, old = sent
    resend = f"/api/invitations/{invitation.pk}/resend"
    revoke = f"/api/invitations/{invitation.pk}/revoke"
    listing = f"/api/invitations?customer_id={invitation.customer_id}"

    def post(url, body, headers):
        return Client().post(url, json.dumps(body), content_type="application/json", **headers)

    assert post(resend, {}, {}).status_code == 401
    assert Client().get(listing).status_code == 401
    assert post(resend, {}, bearer(analyst)).status_code == 403
    assert post(revoke, {}, bearer(analyst)).status_code == 403
    assert post(resend, {"override_throttle": True}, bearer(agent)).status_code == 403
    throttled = post(resend, {}, bearer(agent))
    assert throttled.status_code == 422 and "30 days" in json.dumps(throttled.json())
    rows = Client().get(listing, **bearer(analyst)).json()
    assert [r["status"] for r in rows] == ["sent"] and "token" not in json.dumps(rows)

    with django_capture_on_commit_callbacks(execute=True):
        done = post(resend, {"override_throttle": True}, bearer(supervisor))
    assert done.status_code == 200 and done.json()["times_sent"] == 2
    assert Client().get(f"/s/{old}").status_code == 410
    assert post(revoke, {}, bearer(agent)).json()["status"] == "revoked"
    assert post(revoke, {}, bearer(agent)).status_code == 422
    schema = logged_in(supervisor).get("/api/openapi.json").json()
    assert "/api/invitations/{invitation_id}/resend" in schema["paths"]
