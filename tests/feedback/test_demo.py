"""`kehu demo` leaves the satisfaction page with something to show, sends nothing, and a
second run adds nothing."""

from collections import Counter

from django.core import mail
from django.urls import reverse

from kehu.demo import demo_load
from kehu.feedback.models import Invitation, Response, Survey
from tests.conftest import logged_in


def test_demo_surveys_answers_and_a_rerun_that_adds_nothing(db, tmp_path, settings):
    settings.DATA_DIR = tmp_path  # where the SMS log would be, were anything sent
    demo_load(customers=120, seed=5)
    kinds = Counter(Response.objects.values_list("kind", flat=True))
    assert {"csat", "nps", "servqual", "exit"} <= set(kinds), kinds
    assert Invitation.objects.filter(status="sent", answered_at=None).exists()
    assert Response.objects.filter(case__isnull=False).exists()
    assert not mail.outbox and not (tmp_path / "sms.log").exists()
    before = (Survey.objects.count(), Invitation.objects.count(), Response.objects.count())

    demo_load(customers=120, seed=5)
    assert (Survey.objects.count(), Invitation.objects.count(), Response.objects.count()) == (
        before
    )
    from kehu.users.models import User

    page = logged_in(User.objects.get(username="analyst")).get(reverse("feedback:results"))
    body = page.content.decode()
    assert page.status_code == 200 and 'id="nps">—' not in body
    assert "<td>Responsiveness</td>" in body and "<td>Lost</td>" in body
