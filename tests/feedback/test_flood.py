"""A scripted flood of the answer page, sent as real HTTP requests to a server that takes
them concurrently, each on its own database connection: the limiter refuses all but the
allowed number, a forged X-Forwarded-For does not get round it, and one link's answer is
stored once however many copies of it arrive together."""

import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from kehu.feedback.models import Response, Survey
from kehu.webform.models import SubmissionWindow
from tests.concurrency import OwnConnectionServer, sqlite_file_copy
from tests.feedback.conftest import invite, make_survey


@pytest.fixture
def serve(request, tmp_path):
    """start() -> (url, count): a concurrent server over the data made so far, and a row
    count of a table as the server sees it."""
    from django.db import connection

    servers = []

    def start():
        if connection.vendor != "sqlite":
            live = request.getfixturevalue("live_server")

            def count(table: str) -> int:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT count(*) FROM {table}")
                    return cursor.fetchone()[0]

            return live.url, count
        path = tmp_path / "flood.sqlite3"
        servers.append(OwnConnectionServer(sqlite_file_copy(path)))

        def count(table: str) -> int:
            with sqlite3.connect(path) as db:
                return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

        return servers[-1].url, count

    yield start
    for server in servers:
        server.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _fetch(url: str, *, data: dict | None = None, headers: dict | None = None) -> int:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _form_token(url: str) -> tuple[str, str]:
    """(cookie header, CSRF field) from the page, as a browser would get them."""
    with urllib.request.urlopen(url, timeout=60) as page:
        cookie = page.headers["Set-Cookie"].split(";")[0]
        field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    return cookie, field.group(1)


def _flood(calls) -> list[int]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda call: call(), calls))


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_the_answer_page_is_refused_beyond_the_limit(
    supervisor, customer, settings, serve
):
    settings.KEHU_SURVEY_LIMIT = 5
    _invitation, token = invite(make_survey(supervisor, Survey.Kind.CSAT), customer)
    base, count = serve()
    # A script guessing tokens, claiming a new client address with each request.
    codes = _flood(
        lambda n=n: _fetch(
            f"{base}/s/guessed-token-{n:04d}-xxxxxxxxxxxxxxxx",
            headers={"X-Forwarded-For": f"10.0.{n // 250}.{n % 250}"},
        )
        for n in range(40)
    )
    assert sorted(codes) == [404] * 5 + [429] * 35
    # The window is full for this address: even the real link waits.
    assert _fetch(f"{base}/s/{token}") == 429
    assert count(SubmissionWindow._meta.db_table) == 1


@pytest.mark.django_db(transaction=True)
def test_one_answer_however_many_copies_arrive_together(supervisor, customer, settings, serve):
    settings.KEHU_SURVEY_LIMIT = 100
    _invitation, token = invite(make_survey(supervisor, Survey.Kind.CSAT), customer)
    base, count = serve()
    url = f"{base}/s/{token}"
    # Without the form's CSRF token a script is refused outright.
    assert _fetch(url, data={"score": "5"}) == 403
    cookie, csrf = _form_token(url)
    codes = _flood(
        lambda score=score: _fetch(
            url,
            data={"score": str(score), "csrfmiddlewaretoken": csrf},
            headers={"Cookie": cookie, "Referer": url},
        )
        for score in [1, 2, 3, 4, 5] * 4
    )
    # One copy is stored and sent on to the thank-you page; every other one is told the
    # link was answered.
    assert sorted(codes) == [302] + [410] * 19
    assert count(Response._meta.db_table) == 1
