import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import TestCase

from kehu.customers import services as customer_services
from kehu.feedback import services
from kehu.feedback.models import Invitation, Survey

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LINK = re.compile(r"/s/([A-Za-z0-9_-]{20,})")


@pytest.fixture
def customer(agent, manager):
    return customer_services.customer_create(
        actor=agent,
        kind="individual",
        name="李娜",
        salutation="李女士",
        owner=manager,
        emails=["li.na@example.com"],
        phones=["138 0013 8000"],
    )


def make_survey(actor, kind, **fields):
    return services.survey_create(actor=actor, name=f"{kind} survey", kind=kind, now=NOW, **fields)


def invite(survey, customer, *, occasion="test", now=NOW, language="en") -> tuple[Invitation, str]:
    """Sends an invitation through the real path and reads the token from the message."""
    before = len(mail.outbox)
    with TestCase.captureOnCommitCallbacks(execute=True):
        invitation = services.invitation_send(
            survey=survey, customer=customer, occasion=occasion, language=language, now=now
        )
    assert invitation is not None and invitation.status == Invitation.Status.SENT
    assert len(mail.outbox) == before + 1
    return invitation, LINK.search(mail.outbox[-1].body).group(1)


@pytest.fixture
def nps_survey(supervisor):
    return make_survey(supervisor, Survey.Kind.NPS)


@pytest.fixture(autouse=True)
def _clock_at_now(time_machine):
    """Every request runs at NOW, the moment the tests' invitations are sent: a link sent
    "now" is still valid when the page opens, on whatever day the suite runs."""
    time_machine.move_to(NOW, tick=True)
