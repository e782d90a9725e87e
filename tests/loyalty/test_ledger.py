"""The points ledger on worked examples: balance = sum of entries, FIFO expiry, claw-back."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from kehu.loyalty import selectors, services
from kehu.loyalty.models import Campaign, CategoryRate, Member, PointsEntry, Reward, Tier
from tests.loyalty.factories import buy, day, member


def balanced():
    """Every member's balance equals the sum of their entries."""
    sums = dict(PointsEntry.objects.values("member").annotate(s=Sum("points"))
                .values_list("member", "s"))
    return all(m.balance == sums.get(m.pk, 0) for m in Member.objects.all())


@pytest.fixture
def m(supervisor):
    return member(supervisor)


def test_enrol_gives_a_member_number_once(supervisor, m):
    assert m.number == f"M{m.pk:08d}"
    assert services.member_enrol(actor=supervisor, customer=m.customer).pk == m.pk


def test_earn_base_rate_categories_tier_bonus_and_campaigns(supervisor, m):
    gold = Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=1000,
                               bonus_percent=50)
    CategoryRate.objects.create(category="tea", multiplier=Decimal(2))
    Campaign.objects.create(name="Spring", starts_at=day(2024, 3, 1), ends_at=day(2024, 4, 1),
                            multiplier=Decimal(3), category="")
    buy(supervisor, m, "99.90", at=day(2024, 2, 1))                    # 99
    buy(supervisor, m, "10", at=day(2024, 2, 2), category="tea")       # 20
    buy(supervisor, m, "10", at=day(2024, 3, 2), category="tea")       # 60
    Member.objects.filter(pk=m.pk).update(tier=gold)
    buy(supervisor, m, "10", at=day(2024, 5, 2))                       # 15
    m.refresh_from_db()
    assert list(PointsEntry.objects.filter(member=m).values_list("points", flat=True)) == [
        99, 20, 60, 15]
    assert m.balance == 194 and balanced()


@pytest.mark.parametrize("amount,per_unit,category_rate,bonus,points", [
    ("0.29", "100", None, 0, 29),           # 0.29 * 100 is 28.999… in floating point
    ("33.33", "1", "1.5", 10, 54),          # 54.9945
    ("99.99", "1.0001", None, 0, 99),       # 99.999999: a millionth short of 100
    ("0.99", "1", None, 0, 0),
])
def test_points_are_the_whole_part_of_what_the_rules_give(supervisor, m, amount, per_unit,
                                                          category_rate, bonus, points):
    from kehu.loyalty.models import Programme

    services.programme_get()
    Programme.objects.update(points_per_unit=Decimal(per_unit))
    if category_rate:
        CategoryRate.objects.create(category="tea", multiplier=Decimal(category_rate))
    if bonus:
        tier = Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=0,
                                   bonus_percent=bonus)
        Member.objects.filter(pk=m.pk).update(tier=tier)
    buy(supervisor, m, amount, at=day(2024, 2, 1), category="tea")
    assert Member.objects.get(pk=m.pk).balance == points
    assert list(PointsEntry.objects.values_list("points", flat=True)) == ([points] if points
                                                                          else [])


def test_the_same_transaction_earns_once(supervisor, m):
    purchase = buy(supervisor, m, 50, at=day(2024, 2, 1), external_id="T1")
    services.points_earn(transaction_=purchase)
    services.points_earn_pending()
    Member.objects.get(pk=m.pk)
    assert PointsEntry.objects.filter(transaction=purchase).count() == 1
    assert Member.objects.get(pk=m.pk).balance == 50


def test_earning_twice_earns_once(supervisor, m):
    """The job skips its per-row check where no transaction of the range has an entry yet:
    one earned on its own in the range, and a run over a range again, still earn once."""
    from kehu.loyalty.models import Programme
    from kehu.sales import services as sales_services

    def record(amount, at, refund_of=None):
        return sales_services.transaction_record(
            actor=supervisor, customer=m.customer, amount=Decimal(amount), occurred_at=at,
            kind="refund" if refund_of else "purchase", refund_of=refund_of, now=at)

    first = record("100", day(2024, 2, 1))
    alone = record("40", day(2024, 2, 2))
    refund = record("50", day(2024, 2, 3), refund_of=first)
    record("10", day(2024, 2, 4))
    services.points_earn(transaction_=alone)
    services.points_earn(transaction_=first)
    services.points_earn(transaction_=refund)
    assert Member.objects.get(pk=m.pk).balance == 90
    services.points_earn_pending()
    assert Member.objects.get(pk=m.pk).balance == 100
    Programme.objects.update(earned_through=0)  # the whole range once more
    services.points_earn_pending()
    services.points_earn(transaction_=refund)
    assert PointsEntry.objects.filter(kind="earn").count() == 3
    assert PointsEntry.objects.filter(kind="clawback").count() == 1
    assert Member.objects.get(pk=m.pk).balance == 100 and balanced()


@pytest.mark.django_db(transaction=True)
def test_the_earning_job_leaves_foreign_keys_checked_even_when_a_chunk_fails(supervisor,
                                                                             monkeypatch):
    """On SQLite the job stops checking foreign keys while it writes (its entries come from
    joins on their member and transaction); every later write is checked again, also
    after a chunk that failed, and the chunks before it are kept."""
    from kehu.loyalty.models import Programme
    from kehu.sales import services as sales_services

    m = member(supervisor)
    first, second = (sales_services.transaction_record(
        actor=supervisor, customer=m.customer, amount=Decimal(amount), occurred_at=at,
        kind="purchase", now=at) for amount, at in (("100", day(2024, 2, 1)),
                                                    ("40", day(2024, 2, 2))))
    earn_between = services._earn_between

    def failing_after_first(first_id, last_id, programme, **kwargs):
        if first_id > first.pk:
            raise RuntimeError("disk full")
        earn_between(first_id, last_id, programme, **kwargs)

    monkeypatch.setattr(services, "_earn_between", failing_after_first)
    with pytest.raises(RuntimeError):
        services.points_earn_pending(chunk=1)
    assert Member.objects.get(pk=m.pk).balance == 100
    assert Programme.objects.get().earned_through == first.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(member_id=m.pk + 1000, kind="adjust", points=5,
                                   at=day(2024, 3, 1), reason="nobody's")
    monkeypatch.undo()
    assert services.points_earn_pending(chunk=1) == 1
    assert Member.objects.get(pk=m.pk).balance == 140 and balanced()
    assert PointsEntry.objects.get(transaction=second).points == 40
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(member_id=m.pk + 1000, kind="adjust", points=5,
                                   at=day(2024, 3, 1), reason="nobody's")
    assert PointsEntry.objects.count() == 2


def test_purchases_before_joining_earn_nothing(supervisor):
    late = member(supervisor, joined=day(2024, 6, 1))
    buy(supervisor, late, 50, at=day(2024, 5, 1))
    assert Member.objects.get(pk=late.pk).balance == 0


def test_refunds_claw_back_what_they_earned(supervisor, m):
    CategoryRate.objects.create(category="tea", multiplier=Decimal(3))
    purchase = buy(supervisor, m, 100, at=day(2024, 2, 1), category="tea")   # 300
    buy(supervisor, m, "33.33", at=day(2024, 2, 2), refund_of=purchase)      # -99
    buy(supervisor, m, "33.33", at=day(2024, 2, 3), refund_of=purchase)      # -100
    m.refresh_from_db()
    assert m.balance == 101
    buy(supervisor, m, "33.34", at=day(2024, 2, 4), refund_of=purchase)      # the rest
    m.refresh_from_db()
    assert m.balance == 0 and balanced()
    claws = PointsEntry.objects.filter(kind="clawback")
    assert [e.points for e in claws] == [-99, -100, -101]
    assert all(e.lot_at == day(2024, 2, 1) for e in claws)


def test_fifo_expiry_by_lot(supervisor, m):
    reward = Reward.objects.create(name="Cup", points=120)
    buy(supervisor, m, 100, at=day(2024, 1, 10))          # lot A: 100
    buy(supervisor, m, 50, at=day(2024, 6, 1))            # lot B: 50
    services.reward_redeem(actor=supervisor, member=m, reward=reward, now=day(2024, 7, 1))
    # A year after lot A: it was used up by the redemption (oldest first): nothing expires.
    assert services.points_expire(now=day(2025, 1, 11)) == 0
    # A year after lot B: the 30 left of it expire.
    assert services.points_expire(now=day(2025, 6, 2)) == 30
    assert services.points_expire(now=day(2025, 6, 3)) == 0
    m.refresh_from_db()
    assert m.balance == 0 and balanced()


def test_expiry_report_and_partial_lots(supervisor, m):
    buy(supervisor, m, 100, at=day(2024, 1, 10))
    buy(supervisor, m, 40, at=day(2024, 12, 1))
    services.points_adjust(actor=supervisor, member=m, points=-30, reason="goodwill undone",
                           now=day(2024, 12, 2))
    report = selectors.report_points(now=day(2024, 12, 20), within_days=30)
    assert report["outstanding"] == 110 and report["expiring"] == 70
    assert services.points_expire(now=day(2025, 1, 11)) == 70
    m.refresh_from_db()
    assert m.balance == 40 and balanced()


def test_the_ledger_is_append_only(supervisor, m):
    services.points_adjust(actor=supervisor, member=m, points=10, reason="welcome")
    entry = PointsEntry.objects.get()
    entry.points = 1000
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


@pytest.mark.parametrize("points,reason,field", [(0, "x", "points"), (5, " ", "reason"),
                                                 (-1, "too much", "points")])
def test_bad_adjustments_write_nothing(supervisor, m, points, reason, field):
    with pytest.raises(ValidationError) as error:
        services.points_adjust(actor=supervisor, member=m, points=points, reason=reason)
    assert field in error.value.message_dict
    assert not PointsEntry.objects.exists()


def test_agent_may_not_adjust(agent, m):
    with pytest.raises(ValidationError):
        services.points_adjust(actor=agent, member=m, points=5, reason="nice")


class TestRedeem:
    @pytest.fixture
    def rich(self, supervisor, m):
        services.points_adjust(actor=supervisor, member=m, points=500, reason="start")
        m.refresh_from_db()
        return m

    def test_redeem_takes_points_and_stock_in_one_step(self, agent, rich):
        reward = Reward.objects.create(name="Tea set", points=200, stock=3)
        redemption = services.reward_redeem(actor=agent, member=rich, reward=reward, quantity=2)
        assert redemption.points == 400 and redemption.entry.points == -400
        reward.refresh_from_db()
        rich.refresh_from_db()
        assert reward.stock == 1 and rich.balance == 100 and balanced()

    @pytest.mark.parametrize("setup,message", [
        ({"points": 501}, "needs 501 points; the member has 500"),
        ({"points": 10, "is_active": False}, "no longer available"),
        ({"points": 10, "valid_until": day(2020, 1, 1)}, "no longer available"),
        ({"points": 10, "stock": 0}, "Only 0 left"),
        ({"points": 10, "tier": True}, "for Gold members and above"),
    ])
    def test_refusals_write_nothing(self, agent, rich, setup, message):
        setup = dict(setup)
        if setup.pop("tier", False):
            setup["min_tier"] = Tier.objects.create(name="Gold", rank=3, metric="spend",
                                                    threshold=1)
        reward = Reward.objects.create(name="R", **setup)
        before = PointsEntry.objects.count()
        with pytest.raises(ValidationError) as error:
            services.reward_redeem(actor=agent, member=rich, reward=reward)
        assert message in str(error.value)
        rich.refresh_from_db()
        assert PointsEntry.objects.count() == before and rich.balance == 500
        reward.refresh_from_db()
        assert reward.stock == setup.get("stock")

    @pytest.mark.parametrize("quantity", [0, -1, 101])
    def test_bad_quantity(self, agent, rich, quantity):
        reward = Reward.objects.create(name="R", points=1)
        with pytest.raises(ValidationError) as error:
            services.reward_redeem(actor=agent, member=rich, reward=reward, quantity=quantity)
        assert "quantity" in error.value.message_dict
        assert PointsEntry.objects.count() == 1

    def test_a_reward_removed_meanwhile_is_refused_with_a_message(self, agent, rich):
        reward = Reward.objects.create(name="R", points=1)
        Reward.objects.filter(pk=reward.pk).delete()
        with pytest.raises(ValidationError) as error:
            services.reward_redeem(actor=agent, member=rich, reward=reward)
        assert error.value.message_dict == {"reward": ["This reward no longer exists."]}
        rich.refresh_from_db()
        assert rich.balance == 500 and balanced()

    def test_analyst_may_not_redeem(self, analyst, rich):
        reward = Reward.objects.create(name="R", points=1)
        with pytest.raises(ValidationError):
            services.reward_redeem(actor=analyst, member=rich, reward=reward)
