"""The programme's admin pages: tiers, rewards and offers, for LOYALTY_MANAGE only; bad
input is shown on the form and nothing is saved."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kehu.customers.services import customer_create
from kehu.loyalty import catalogue, selectors
from kehu.loyalty.models import Offer, Reward, Tier
from tests.conftest import logged_in

PAGES = ["manage", "tier_new", "reward_new", "offer_new"]


@pytest.mark.parametrize("page", PAGES)
def test_agents_and_anonymous_are_refused(page, agent, manager, analyst, client):
    url = reverse(f"loyalty:{page}")
    assert client.get(url).status_code == 302
    for user in (agent, manager, analyst):
        assert logged_in(user).get(url).status_code == 403
        assert logged_in(user).post(url, {"name": "x"}).status_code == 403
    assert not (Tier.objects.exists() or Reward.objects.exists() or Offer.objects.exists())


def test_a_refused_actor_cannot_save_through_the_service(agent):
    with pytest.raises(ValidationError):
        catalogue.tier_save(actor=agent, name="Gold", rank=1, metric="spend", threshold=0)
    assert not Tier.objects.exists()


def test_tiers_created_and_changed(supervisor_client):
    response = supervisor_client.post(reverse("loyalty:tier_new"), {
        "name": "Gold", "rank": 2, "metric": "spend", "threshold": "5000", "bonus_percent": 10})
    assert response.status_code == 302
    gold = Tier.objects.get()
    response = supervisor_client.post(reverse("loyalty:tier_edit", args=[gold.pk]), {
        "name": "Gold", "rank": 2, "metric": "visits", "threshold": "12", "bonus_percent": 15})
    gold.refresh_from_db()
    assert (gold.metric, gold.threshold, gold.bonus_percent) == ("visits", 12, 15)
    page = supervisor_client.get(reverse("loyalty:manage")).content.decode()
    assert "Gold" in page and "15%" in page


@pytest.mark.parametrize("data,field_error", [
    ({"name": "Silver", "rank": 2, "metric": "spend", "threshold": "1"}, "rank already exists"),
    ({"name": "Gold", "rank": 3, "metric": "spend", "threshold": "1"}, "name already exists"),
    ({"name": "Neg", "rank": 3, "metric": "spend", "threshold": "-5"}, "may not be negative"),
    ({"name": "Big", "rank": 3, "metric": "spend", "threshold": "1", "bonus_percent": 5000},
     "at most 1000%"),
    ({"name": "Odd", "rank": 3, "metric": "mood", "threshold": "1"}, "valid choice"),
])
def test_bad_tiers_are_refused_with_a_reason(supervisor_client, data, field_error):
    Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=100)
    response = supervisor_client.post(reverse("loyalty:tier_new"), {"bonus_percent": 0} | data)
    assert response.status_code == 200
    assert field_error in response.content.decode().lower()
    assert Tier.objects.count() == 1


def test_rewards_with_stock_and_tier_limit(supervisor_client):
    gold = Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=100)
    url = reverse("loyalty:reward_new")
    bad = supervisor_client.post(url, {"name": "Cup", "points": 0, "stock": -1})
    assert bad.status_code == 200 and not Reward.objects.exists()
    supervisor_client.post(url, {"name": "Cup", "points": 300, "stock": 5,
                                 "min_tier": gold.pk, "is_active": "on"})
    cup = Reward.objects.get()
    assert (cup.points, cup.stock, cup.min_tier) == (300, 5, gold)
    assert list(selectors.rewards_available(member=None)) == [cup]


def test_offers_by_tier_tags_and_list_with_validity_and_limit(supervisor_client, supervisor):
    from kehu.customers.models import Tag

    listed = customer_create(actor=supervisor, kind="individual", name="名单上", tags=["VIP"])
    other = customer_create(actor=supervisor, kind="individual", name="不在")
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    data = {"name": "Spring tea", "starts_at": (now - timedelta(1)).strftime(fmt),
            "ends_at": (now + timedelta(9)).strftime(fmt), "per_customer_limit": 2,
            "is_active": "on", "customer_numbers": f"{listed.number}\n",
            "tags": [Tag.objects.get(name="VIP").pk]}
    response = supervisor_client.post(reverse("loyalty:offer_new"), data)
    assert response.status_code == 302, response.content.decode()
    offer = Offer.objects.get()
    assert list(offer.customers.all()) == [listed] and offer.per_customer_limit == 2
    assert selectors.offer_status(offer=offer, customer=listed).eligible
    status = selectors.offer_status(offer=offer, customer=other)
    assert not status.eligible and "chosen customers" in status.reason
    # The edit form shows the list back, and an emptied list is saved as empty.
    url = reverse("loyalty:offer_edit", args=[offer.pk])
    assert listed.number in supervisor_client.get(url).content.decode()
    supervisor_client.post(url, data | {"customer_numbers": "", "tags": []})
    assert not offer.customers.exists() and not offer.tags.exists()


@pytest.mark.parametrize("change,message", [
    ({"customer_numbers": "C-NOPE"}, "No customer with these numbers: C-NOPE"),
    ({"ends_at": "2020-01-01T00:00"}, "must end after it starts"),
    ({"starts_at": "soon"}, "Enter a valid date/time"),
    ({"per_customer_limit": -1}, "greater than or equal to 0"),
])
def test_bad_offers_are_refused_with_a_reason(supervisor_client, change, message):
    data = {"name": "Spring tea", "starts_at": "2026-01-01T00:00",
            "ends_at": "2026-02-01T00:00", "per_customer_limit": 1}
    response = supervisor_client.post(reverse("loyalty:offer_new"), data | change)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Offer.objects.exists()


def test_editing_a_missing_thing_is_not_found(supervisor_client):
    assert supervisor_client.get(reverse("loyalty:reward_edit", args=[999])).status_code == 404
