"""Two submissions of one link at the same moment, from two connections: one answer.

On PostgreSQL only: the test database of SQLite is in memory, where two connections
lock whole tables (a file database serializes writers with IMMEDIATE transactions)."""

import threading

import pytest
from django.db import connection

from kehu.feedback import services
from kehu.feedback.models import Response, Survey
from tests.feedback.conftest import NOW, invite, make_survey


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_count_once(supervisor, customer):
    survey = make_survey(supervisor, Survey.Kind.CSAT)
    _invitation, token = invite(survey, customer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(score: int) -> None:
        try:
            barrier.wait()
            services.response_submit(token=token, score=score, now=NOW)
            outcomes.append("stored")
        except services.InvitationUnusable as error:
            outcomes.append(error.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(score,)) for score in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["answered", "stored"]
    assert Response.objects.count() == 1
