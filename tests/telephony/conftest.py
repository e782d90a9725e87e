"""Telephony fixtures: an integration with its token, customers with numbers, and a way
to post call events exactly as a telephony system does (form-encoded `user[]`, or JSON)."""

import json
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from kehu.customers import services as customer_services
from kehu.telephony import services
from kehu.telephony.models import Call, CallAlert, CallEvent
from kehu.telephony.selectors import alerts_open
from tests.concurrency import OwnConnectionServer, sqlite_file_copy

# Events carry explicit timestamps so tests compare exact times: a whole second, ten
# minutes ago, so that the calls are recent enough for the agents' panels.
T0 = int(time.time()) - 600


@pytest.fixture
def events_clock(monkeypatch):
    """Django's clock ten minutes after T0, however long the suite ran before the test (T0
    is set when this module is imported): a panel stays up 15 minutes after its call."""
    from datetime import UTC, datetime

    from django.utils import timezone

    moment = datetime.fromtimestamp(T0 + 600, tz=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


@pytest.fixture
def cti_token(db) -> str:
    _integration, token = services.integration_create(name="PBX")
    return token


@pytest.fixture
def webhook() -> Client:
    """The telephony system: no session, and CSRF enforced as for any outside caller."""
    return Client(enforce_csrf_checks=True)


def post_event(client: Client, token: str, *, as_json: bool = False, **fields):
    """Posts one event. `user` (a list) goes out as Zammad's `user[]` form fields."""
    fields = {k.rstrip("_"): v for k, v in fields.items()}  # from_ → from
    if as_json:
        return client.post(f"/cti/{token}", json.dumps(fields), content_type="application/json")
    users = fields.pop("user", None)
    pairs = list(fields.items())
    if users is not None:
        pairs += [("user[]", u) for u in ([users] if isinstance(users, str) else users)]
    return client.post(
        f"/cti/{token}", urlencode(pairs), content_type="application/x-www-form-urlencoded"
    )


def nothing_written() -> bool:
    return not (Call.objects.exists() or CallEvent.objects.exists() or CallAlert.objects.exists())


@pytest.fixture
def zhang(agent):
    """An individual customer whose number is stored in one written form."""
    return customer_services.customer_create(
        actor=agent,
        kind="individual",
        name="张伟明",
        salutation="张先生",
        usual="高钙牛奶",
        preferences="只接受上午来电",
        phones=["138 0013 8000"],
    )



@pytest.fixture
def agent2(db):
    from kehu.users.services import user_create
    from tests.conftest import PASSWORD

    return user_create(
        username="agent2", password=PASSWORD, role="agent", first_name="agent2", extension="802"
    )


def call_snapshot(call: Call) -> dict:
    """Everything the call log says about a call (not its row id)."""
    call.refresh_from_db()
    return {
        "integration": call.integration_id,
        "call_id": call.call_id,
        "direction": call.direction,
        "state": call.state,
        "number_raw": call.number_raw,
        "number_e164": call.number_e164,
        "our_number": call.our_number,
        "queue": call.queue,
        "agent": call.agent_id,
        "customer": call.customer_id,
        "contact": call.contact_id,
        "match_count": call.match_count,
        "blocked": call.blocked,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "cause": call.cause,
        "note": call.note_id,
        "callback_done_at": call.callback_done_at,
        "duration": call.duration_seconds,
    }


def alerts_snapshot(call: Call | None = None) -> dict:
    """Whose panel for the call (or any call) is open (True) or closed (False)."""
    alerts = CallAlert.objects.select_related("user")
    if call is not None:
        alerts = alerts.filter(call=call)
    open_ids = set(alerts_open().values_list("id", flat=True))
    return {a.user.username: a.pk in open_ids for a in alerts}


@pytest.fixture
def concurrent_server(request, tmp_path):
    """(url, counts): a server that takes requests concurrently on their own database
    connections, and the row counts it wrote. Create the test's data before asking."""
    from django.db import connection

    if connection.vendor != "sqlite":
        server = request.getfixturevalue("live_server")

        def counts() -> dict:
            return {
                "calls": Call.objects.count(),
                "events": CallEvent.objects.count(),
                "alerts": CallAlert.objects.count(),
                "states": sorted(Call.objects.values_list("state", flat=True)),
            }

        yield server.url, counts
        return

    import sqlite3

    path = tmp_path / "concurrent.sqlite3"
    server = OwnConnectionServer(sqlite_file_copy(path))

    def counts() -> dict:
        with sqlite3.connect(path) as db:
            found = {
                name: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for name, table in (
                    ("calls", Call._meta.db_table),
                    ("events", CallEvent._meta.db_table),
                    ("alerts", CallAlert._meta.db_table),
                )
            }
            states = db.execute(f"SELECT state FROM {Call._meta.db_table} ORDER BY state")
            return found | {"states": [state for (state,) in states]}

    try:
        yield server.url, counts
    finally:
        server.stop()
