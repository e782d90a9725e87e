"""Earning chunk by chunk on SQLite, each chunk's earnings computed ahead by a thread into a
file of its own (services._EarningsAhead): the same ledger as earning in one go, and
nothing half-written or left behind when that thread fails.

The test database is in memory, where no other connection could read it: each test runs
on file copies of it, as the earning job runs on kehu's database file."""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, connections

from kehu.loyalty import services
from kehu.loyalty.models import Campaign, CategoryRate, Member, PointsEntry, Programme, Tier
from kehu.sales import services as sales_services
from tests.concurrency import sqlite_file_copy
from tests.loyalty.factories import day, member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def purchases(supervisor):
    """Two members, purchases under a tier bonus, a category rate and a campaign, one
    before joining, refunds in part; none earned yet."""
    if connection.vendor != "sqlite":
        pytest.skip("computing ahead is for SQLite's single writer")
    gold = Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=0,
                               bonus_percent=25)
    CategoryRate.objects.create(category="tea", multiplier=Decimal("1.5"))
    Campaign.objects.create(name="Spring", starts_at=day(2024, 3, 1), ends_at=day(2024, 4, 1),
                            multiplier=Decimal(2), category="")
    wang, li = member(supervisor), member(supervisor, name="李娜", joined=day(2024, 2, 15))
    Member.objects.filter(pk=wang.pk).update(tier=gold)

    def record(who, amount, at, *, category="", refund_of=None):
        return sales_services.transaction_record(
            actor=supervisor, customer=who.customer, amount=Decimal(amount), occurred_at=at,
            category=category, kind="refund" if refund_of else "purchase",
            refund_of=refund_of, now=at)

    big = record(wang, "200", day(2024, 2, 1), category="tea")
    record(li, "80", day(2024, 2, 2))                       # before she joined
    record(li, "33.33", day(2024, 3, 5), category="tea")
    record(wang, "0.29", day(2024, 2, 20))
    record(wang, "50", day(2024, 2, 21), refund_of=big)
    record(li, "120", day(2024, 5, 1))
    record(wang, "50", day(2024, 5, 2), refund_of=big)
    # Ids go on from earlier tests (a transactional test empties the tables, no more):
    # the job starts at this test's first transaction.
    services.programme_get()
    Programme.objects.update(earned_through=big.pk - 1)
    return wang, li, big.pk


@contextmanager
def on_copy(path):
    """Django's default connection, on a file copy of the database as it is now."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = sqlite_file_copy(path)
    main = connections["default"]
    connections["default"] = DatabaseWrapper(dict(settings_dict), "default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = main


def ledger() -> list[tuple]:
    return list(PointsEntry.objects.order_by("transaction_id", "kind").values_list(
        "transaction_id", "kind", "points", "member_id", "at", "lot_at"))


def balances() -> dict[int, int]:
    return dict(Member.objects.values_list("pk", "balance"))


def scratch_left() -> list:
    return sorted(settings.DATA_DIR.glob("earning-*"))


def test_chunks_computed_ahead_give_the_ledger_earning_in_one_go_gives(purchases, tmp_path,
                                                                       monkeypatch):
    computed = []
    compute = services._EarningsAhead._compute

    def counted(self, path, first_id, last_id):
        computed.append((first_id, last_id))
        return compute(self, path, first_id, last_id)

    monkeypatch.setattr(services._EarningsAhead, "_compute", counted)
    with on_copy(tmp_path / "at-once.sqlite3"):
        assert services.points_earn_pending() == 7
        at_once, at_once_balances = ledger(), balances()
    assert computed == []  # one chunk: nothing to compute ahead of
    with on_copy(tmp_path / "ahead.sqlite3"):
        assert services.points_earn_pending(chunk=2) == 7
        first = purchases[2]
        assert computed == [(first, first + 1), (first + 2, first + 3), (first + 4, first + 5),
                            (first + 6, first + 6)]
        assert ledger() == at_once and balances() == at_once_balances
        assert Programme.objects.get().earned_through == first + 6
    assert scratch_left() == []
    # The worked figures, both members Gold (+25%; the only tier, from 0): 200 of tea
    # (x1.5) earns 375, refunded in two halves of 93 and 94; Li's purchase before she
    # joined earns nothing, her 33.33 of tea in March (campaign x2) 124 (124.9875), her
    # 120 in May 150; Wang's 0.29 earns no whole point.
    assert [(kind, points) for _t, kind, points, *_ in at_once] == [
        ("earn", 375), ("earn", 124), ("clawback", -93), ("earn", 150), ("clawback", -94)]


def test_a_chunk_that_cannot_be_computed_ahead_stops_the_job_after_the_chunks_before(
        purchases, tmp_path, monkeypatch):
    wang, li, first = purchases
    compute = services._EarningsAhead._compute

    def failing_on_the_second(self, path, first_id, last_id):
        if first_id == first + 2:
            raise OSError("No space left on device")
        return compute(self, path, first_id, last_id)

    with on_copy(tmp_path / "kehu.sqlite3"):
        monkeypatch.setattr(services._EarningsAhead, "_compute", failing_on_the_second)
        with pytest.raises(OSError, match="No space left"):
            services.points_earn_pending(chunk=2)
        assert Programme.objects.get().earned_through == first + 1
        assert balances() == {wang.pk: 375, li.pk: 0}
        assert scratch_left() == []
        monkeypatch.undo()
        assert services.points_earn_pending(chunk=2) == 5
        assert Programme.objects.get().earned_through == first + 6
        assert sum(balances().values()) == sum(p for _t, _k, p, *_ in ledger()) == 462
    assert scratch_left() == []
