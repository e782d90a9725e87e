"""No double spend: redemptions at once, each on its own database connection, never take
the balance below zero, on SQLite (a file database, as separate processes would use) and
on PostgreSQL."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import Sum

from kehu.loyalty import services
from kehu.loyalty.models import Member, PointsEntry, Redemption, Reward
from tests.concurrency import sqlite_file_copy
from tests.loyalty.factories import member

THREADS = 8


@pytest.fixture
def own_connections(tmp_path):
    """A function giving each thread its own connection to the committed test database."""
    if connection.vendor != "sqlite":
        yield lambda: None  # Django opens one connection per thread to the test database.
        return
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = sqlite_file_copy(tmp_path / "race.sqlite3")
    main = connections["default"]
    connections["default"] = DatabaseWrapper(dict(settings_dict), "default")
    try:
        yield lambda: connections.__setitem__(
            "default", DatabaseWrapper(dict(settings_dict), "default"))
    finally:
        connections["default"].close()
        connections["default"] = main


def _at_once(target, n: int) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as error:  # noqa: BLE001 - the test looks at what each got
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overspend(supervisor, agent, own_connections,
                                                monkeypatch):
    m = member(supervisor)
    services.points_adjust(actor=supervisor, member=m, points=300, reason="start")
    reward = Reward.objects.create(name="Cup", points=100, stock=10)
    own_connections()  # from here on, this thread reads the database the threads write

    # Widen the window between reading the balance and writing it: without the row lock
    # several threads would see 300 points and all redeem.
    locked = services._locked_balance

    def slow_lock(member_):
        found = locked(member_)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(services, "_locked_balance", slow_lock)

    def redeem(_i):
        own_connections()
        return services.reward_redeem(actor=agent, member=m, reward=reward)

    results = _at_once(redeem, THREADS)
    done = [r for r in results if isinstance(r, Redemption)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(done) == 3 and len(refused) == THREADS - 3, results
    assert all("needs 100 points" in str(r) for r in refused)
    m.refresh_from_db()
    reward.refresh_from_db()
    assert m.balance == 0
    assert PointsEntry.objects.filter(member=m).aggregate(s=Sum("points"))["s"] == 0
    assert Member.objects.get(pk=m.pk).balance >= 0
    assert reward.stock == 7
    assert Redemption.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_of_the_last_item(supervisor, agent, own_connections):
    members = [member(supervisor, name=f"客户{i}") for i in range(4)]
    for m in members:
        services.points_adjust(actor=supervisor, member=m, points=100, reason="start")
    reward = Reward.objects.create(name="Last one", points=10, stock=1)
    own_connections()

    def redeem(i):
        own_connections()
        return services.reward_redeem(actor=agent, member=members[i], reward=reward)

    results = _at_once(redeem, len(members))
    assert sum(isinstance(r, Redemption) for r in results) == 1, results
    assert all("Only 0 left" in str(r) for r in results if not isinstance(r, Redemption))
    reward.refresh_from_db()
    assert reward.stock == 0
    assert PointsEntry.objects.aggregate(s=Sum("points"))["s"] == 390
