"""Pages: the card and call panel show membership and offers; every page refuses the
wrong role and anonymous users."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.loyalty import services
from kehu.loyalty.models import Offer, PointsEntry, Reward, Tier
from tests.conftest import logged_in
from tests.loyalty.factories import member


@pytest.fixture
def m(supervisor):
    gold = Tier.objects.create(name="Gold", rank=1, metric="spend", threshold=0)
    member_ = member(supervisor)
    assert member_.tier == gold
    services.points_adjust(actor=supervisor, member=member_, points=250, reason="welcome")
    now = timezone.now()
    listed = Offer.objects.create(name="Spring tea", starts_at=now - timedelta(1),
                                  ends_at=now + timedelta(9))
    listed.customers.add(member_.customer)
    other = Offer.objects.create(name="Chosen few", starts_at=now - timedelta(1),
                                 ends_at=now + timedelta(9))
    other.customers.add(member(supervisor, name="别人").customer)
    return member_


def test_card_shows_tier_balance_and_offers(agent, m):
    client = logged_in(agent)
    card = client.get(reverse("customers:card", args=[m.customer.pk])).content.decode()
    assert "Gold" in card and "250 points" in card and m.number in card
    offers = client.get(reverse("loyalty:customer_offers", args=[m.customer.pk]))
    text = offers.content.decode()
    assert "Spring tea" in text and "Chosen few" in text and "chosen customers" in text


def test_redeem_and_refusal_on_the_member_page(agent, m):
    reward = Reward.objects.create(name="Cup", points=100)
    client = logged_in(agent)
    url = reverse("loyalty:redeem", args=[m.pk])
    response = client.post(url, {"reward": reward.pk, "quantity": 3}, follow=True)
    assert "needs 300 points; the member has 250" in response.content.decode()
    assert PointsEntry.objects.count() == 1
    response = client.post(url, {"reward": reward.pk, "quantity": 2}, follow=True)
    assert "Redeemed Cup for 200 points" in response.content.decode()
    m.refresh_from_db()
    assert m.balance == 50


def test_enrol_from_the_card(agent, supervisor):
    from kehu.customers.services import customer_create

    customer = customer_create(actor=supervisor, kind="individual", name="新客")
    response = logged_in(agent).post(reverse("loyalty:enrol", args=[customer.pk]))
    assert response.status_code == 302 and customer.membership.number.startswith("M")


def _pages(m):
    offer = Offer.objects.first()
    return {
        "member": ("get", reverse("loyalty:member", args=[m.pk])),
        "offers": ("get", reverse("loyalty:customer_offers", args=[m.customer.pk])),
        "report": ("get", reverse("loyalty:report")),
        "redeem": ("post", reverse("loyalty:redeem", args=[m.pk])),
        "adjust": ("post", reverse("loyalty:adjust", args=[m.pk])),
        "enrol": ("post", reverse("loyalty:enrol", args=[m.customer.pk])),
        "use": ("post", reverse("loyalty:offer_use", args=[offer.pk, m.customer.pk])),
    }


REFUSED = {
    "report": ["agent", "manager"],
    "redeem": ["analyst"],
    "adjust": ["agent", "manager", "analyst"],
    "enrol": ["analyst"],
    "use": ["analyst"],
}


@pytest.mark.parametrize("page", ["member", "offers", "report", "redeem", "adjust", "enrol",
                                  "use"])
def test_pages_refuse_anonymous_and_wrong_roles(page, m, agent, manager, analyst, client):
    method, url = _pages(m)[page]
    response = getattr(client, method)(url)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "login" in response["Location"]
    users = {"agent": agent, "manager": manager, "analyst": analyst}
    for name in REFUSED.get(page, []):
        assert getattr(logged_in(users[name]), method)(url).status_code == 403, name
    assert PointsEntry.objects.count() == 1


def test_report(supervisor, m):
    response = logged_in(supervisor).get(reverse("loyalty:report"))
    assert response.status_code == 200 and "250" in response.content.decode()
