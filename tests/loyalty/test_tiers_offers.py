"""Tier evaluation over a rolling window with a grace period; offers and how to say no."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kehu.loyalty import selectors, services, tasks
from kehu.loyalty.models import Member, Offer, OfferUse, Programme, Tier, TierChange
from tests.loyalty.factories import buy, day, member


@pytest.fixture
def tiers(db):
    Programme.objects.create(pk=1, window_days=365, grace_days=30)
    return {
        "silver": Tier.objects.create(name="Silver", rank=1, metric="spend", threshold=0),
        "gold": Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=1000),
        "vip": Tier.objects.create(name="VIP", rank=3, metric="visits", threshold=5),
    }


def test_enrol_starts_in_the_base_tier(supervisor, tiers):
    assert member(supervisor).tier == tiers["silver"]


def test_upgrade_grace_then_downgrade_with_history(supervisor, tiers):
    m = member(supervisor)
    buy(supervisor, m, 1200, at=day(2024, 2, 1))
    assert services.tiers_evaluate(now=day(2024, 2, 2))["upgrade"] == 1
    m.refresh_from_db()
    assert m.tier == tiers["gold"] and m.tier_since == day(2024, 2, 2)
    # A year later the spend has left the window: at risk, still gold for 30 days.
    assert services.tiers_evaluate(now=day(2025, 2, 2))["at_risk"] == 1
    m.refresh_from_db()
    assert m.tier == tiers["gold"] and m.grace_until == day(2025, 2, 2) + timedelta(days=30)
    assert services.tiers_evaluate(now=day(2025, 2, 20)) == {
        "upgrade": 0, "downgrade": 0, "at_risk": 0, "kept": 0}
    assert services.tiers_evaluate(now=day(2025, 3, 5))["downgrade"] == 1
    m.refresh_from_db()
    assert m.tier == tiers["silver"] and m.grace_until is None
    assert list(TierChange.objects.order_by("at").values_list("kind", flat=True)) == [
        "upgrade", "at_risk", "downgrade"]


def test_buying_again_in_the_grace_period_keeps_the_tier(supervisor, tiers):
    m = member(supervisor)
    buy(supervisor, m, 1200, at=day(2024, 2, 1))
    services.tiers_evaluate(now=day(2024, 2, 2))
    services.tiers_evaluate(now=day(2025, 2, 2))
    buy(supervisor, m, 1000, at=day(2025, 2, 10))
    assert services.tiers_evaluate(now=day(2025, 2, 11))["kept"] == 1
    m.refresh_from_db()
    assert m.tier == tiers["gold"] and m.grace_until is None


def test_visits_reach_the_top_tier_and_the_job_runs(supervisor, tiers):
    from django.utils import timezone

    m = member(supervisor)
    for i in range(5):
        buy(supervisor, m, 10, at=timezone.now() - timedelta(days=i + 1))
    tasks.loyalty_nightly.call_local()
    m.refresh_from_db()
    assert m.tier == tiers["vip"]


def test_points_tier_counts_claw_backs_and_no_grace_moves_down_at_once(supervisor, db):
    Programme.objects.create(pk=1, window_days=365, grace_days=0, points_per_unit=1)
    base = Tier.objects.create(name="Member", rank=1, metric="points", threshold=0)
    star = Tier.objects.create(name="Star", rank=2, metric="points", threshold=500)
    m, other = member(supervisor), member(supervisor, name="李雷")
    purchase = buy(supervisor, m, 600, at=day(2024, 2, 1))
    buy(supervisor, other, 499, at=day(2024, 2, 1))
    assert services.tiers_evaluate(now=day(2024, 2, 2)) == {
        "upgrade": 1, "downgrade": 0, "at_risk": 0, "kept": 0}
    assert Member.objects.get(pk=other.pk).tier == base
    # Half refunded: 300 points taken back, below the threshold; no grace, so down now.
    buy(supervisor, m, 300, at=day(2024, 2, 3), refund_of=purchase)
    assert services.tiers_evaluate(now=day(2024, 2, 4))["downgrade"] == 1
    m.refresh_from_db()
    assert m.tier == base and m.tier_since == day(2024, 2, 4) and m.grace_until is None
    assert list(TierChange.objects.filter(member=m).order_by("at").values_list(
        "kind", "from_tier", "to_tier")) == [("upgrade", base.pk, star.pk),
                                             ("downgrade", star.pk, base.pk)]
    # Nothing changes, nothing is written.
    assert services.tiers_evaluate(now=day(2024, 2, 5)) == {
        "upgrade": 0, "downgrade": 0, "at_risk": 0, "kept": 0}
    assert TierChange.objects.count() == 2


@pytest.fixture
def offers(supervisor, tiers):
    now = day(2024, 6, 1)
    gold_offer = Offer.objects.create(name="Gold tea", starts_at=now - timedelta(days=1),
                                      ends_at=now + timedelta(days=30), min_tier=tiers["gold"])
    listed = Offer.objects.create(name="For you", starts_at=now - timedelta(days=1),
                                  ends_at=now + timedelta(days=30), per_customer_limit=1)
    everyone = Offer.objects.create(name="Everyone", starts_at=now - timedelta(days=1),
                                    ends_at=now + timedelta(days=30), per_customer_limit=0)
    return {"gold": gold_offer, "listed": listed, "everyone": everyone, "now": now}


def test_offers_by_tier_list_and_limit(supervisor, agent, tiers, offers):
    now = offers["now"]
    chosen = member(supervisor, name="Chosen")
    other = member(supervisor, name="Other")
    offers["listed"].customers.add(chosen.customer)
    statuses = {s.offer.name: s for s in selectors.customer_offers(
        customer=chosen.customer, now=now)}
    assert statuses["For you"].eligible and statuses["For you"].uses_left == 1
    assert statuses["Everyone"].eligible
    gold = statuses["Gold tea"]
    assert not gold.eligible and gold.technique == "example" and "Gold" in gold.reason
    services.offer_use(actor=agent, offer=offers["listed"], customer=chosen.customer, now=now)
    with pytest.raises(ValidationError) as error:
        services.offer_use(actor=agent, offer=offers["listed"], customer=chosen.customer,
                           now=now)
    assert "already used" in str(error.value)
    assert OfferUse.objects.count() == 1
    not_listed = selectors.offer_status(offer=offers["listed"], customer=other.customer, now=now)
    assert not not_listed.eligible and not_listed.technique == "exclusive"
    with translation.override("zh-hans"):
        answer = selectors.offer_status(offer=offers["listed"], customer=other.customer,
                                        now=now).answer
    assert "定期" in answer and "尽快" in answer


def test_offer_by_tag_and_outside_validity(supervisor, agent, tiers, offers):
    now = offers["now"]
    tagged = member(supervisor, name="Tagged", tags=["茶友"])
    offer = Offer.objects.create(name="Tea friends", starts_at=now, ends_at=now + timedelta(1))
    offer.tags.set(tagged.customer.tags.all())
    assert selectors.offer_status(offer=offer, customer=tagged.customer, now=now).eligible
    ended = selectors.offer_status(offer=offer, customer=tagged.customer,
                                   now=now + timedelta(days=2))
    assert not ended.eligible and ended.technique == "publicise"


def test_offers_by_value_segment_and_lifetime_value(supervisor, tiers, offers):
    from tests.insights.conftest import scores_store

    now = offers["now"]
    champion, modest, unscored = (member(supervisor, name=n) for n in ("冠军", "一般", "新人"))
    scores_store(champion.customer, segment="champions", clv=Decimal("5000"))
    scores_store(modest.customer, segment="hibernating", clv=Decimal("80"))
    by_segment = Offer.objects.create(name="For champions", segment="champions",
                                      starts_at=now, ends_at=now + timedelta(1))
    by_value = Offer.objects.create(name="Worth 1000+", min_clv=Decimal("1000"),
                                    starts_at=now, ends_at=now + timedelta(1))
    for offer in (by_segment, by_value):
        assert selectors.offer_status(offer=offer, customer=champion.customer, now=now).eligible
        for other in (modest, unscored):
            refused = selectors.offer_status(offer=offer, customer=other.customer, now=now)
            assert not refused.eligible and refused.technique == "exclusive"
    had = {s.offer.name for s in selectors.customer_offers(customer=champion.customer, now=now)
           if s.eligible}
    assert {"For champions", "Worth 1000+"} <= had


def test_customer_offers_query_count(supervisor, tiers, offers, django_assert_max_num_queries):
    m = member(supervisor)
    for i in range(10):
        Offer.objects.create(name=f"O{i}", starts_at=offers["now"],
                             ends_at=offers["now"] + timedelta(1))
    customer = Member.objects.select_related("customer").get(pk=m.pk).customer
    with django_assert_max_num_queries(5):
        statuses = selectors.customer_offers(customer=customer, now=offers["now"])
    assert len(statuses) == 13
