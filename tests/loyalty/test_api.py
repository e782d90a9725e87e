"""The loyalty API: members, ledger, redemptions, offers, transactions; refusals."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.api.api import api
from kehu.loyalty import services
from kehu.loyalty.models import Offer, PointsEntry, Reward
from tests.conftest import bearer
from tests.loyalty.factories import member


@pytest.fixture
def m(supervisor):
    member_ = member(supervisor)
    services.points_adjust(actor=supervisor, member=member_, points=100, reason="welcome")
    return member_


def _call(user, method, url, body=None):
    headers = bearer(user) if user else {}
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body else {}
    return getattr(Client(), method)(f"/api{url}", **kwargs, **headers)


def test_member_ledger_and_redemption(agent, m):
    reward = Reward.objects.create(name="Cup", points=40, stock=5)
    response = _call(agent, "post", f"/loyalty/members/{m.pk}/redemptions",
                     {"reward_id": reward.pk, "quantity": 2})
    assert response.status_code == 201 and response.json()["points"] == 80
    assert _call(agent, "get", f"/loyalty/members/{m.pk}").json()["balance"] == 20
    ledger = _call(agent, "get", f"/loyalty/members/{m.pk}/ledger").json()
    assert [e["points"] for e in ledger] == [-80, 100]
    again = _call(agent, "post", f"/loyalty/members/{m.pk}/redemptions",
                  {"reward_id": reward.pk})
    assert again.status_code == 422 and "the member has 20" in json.dumps(
        again.json(), ensure_ascii=False)
    bad = _call(agent, "post", f"/loyalty/members/{m.pk}/redemptions",
                {"reward_id": reward.pk, "quantity": -1})
    assert bad.status_code == 422
    assert PointsEntry.objects.count() == 2


def test_transactions_earn_once_by_external_id(supervisor, m):
    body = {"customer_id": m.customer_id, "amount": "30.00", "external_id": "T-9"}
    first = _call(supervisor, "post", "/sales/transactions", body)
    second = _call(supervisor, "post", "/sales/transactions", body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    m.refresh_from_db()
    assert m.balance == 130
    negative = _call(supervisor, "post", "/sales/transactions",
                     {"customer_id": m.customer_id, "amount": "-5"})
    assert negative.status_code == 422


def test_offers_for_a_customer(agent, supervisor, m):
    now = timezone.now()
    offer = Offer.objects.create(name="Chosen", starts_at=now - timedelta(1),
                                 ends_at=now + timedelta(1))
    offer.customers.add(member(supervisor, name="别人").customer)
    rows = _call(agent, "get", f"/loyalty/customers/{m.customer_id}/offers").json()
    assert rows[0]["eligible"] is False and rows[0]["answer"]
    refused = _call(agent, "post", f"/loyalty/offers/{offer.pk}/uses",
                    {"customer_id": m.customer_id})
    assert refused.status_code == 422


def test_in_the_openapi_schema():
    paths = api.get_openapi_schema()["paths"]
    for path in ("/api/loyalty/members", "/api/loyalty/members/{member_id}/ledger",
                 "/api/loyalty/members/{member_id}/redemptions", "/api/loyalty/redemptions",
                 "/api/loyalty/customers/{customer_id}/offers", "/api/sales/transactions"):
        assert path in paths, path


CALLS = [
    ("get", "/loyalty/members", None, []),
    ("post", "/loyalty/members", {"customer_id": 0}, ["analyst"]),
    ("get", "/loyalty/members/{m}", None, []),
    ("get", "/loyalty/members/{m}/ledger", None, []),
    ("post", "/loyalty/members/{m}/adjustments", {"points": 5, "reason": "x"},
     ["agent", "manager", "analyst"]),
    ("get", "/loyalty/rewards", None, []),
    ("post", "/loyalty/members/{m}/redemptions", {"reward_id": 0}, ["analyst"]),
    ("get", "/loyalty/redemptions", None, []),
    ("get", "/loyalty/customers/{c}/offers", None, []),
    ("post", "/loyalty/offers/0/uses", {"customer_id": 0}, ["analyst"]),
    ("get", "/loyalty/report", None, ["agent", "manager"]),
    ("post", "/sales/transactions", {"customer_id": 0, "amount": "1"},
     ["agent", "manager", "analyst"]),
]


@pytest.mark.parametrize("method,url,body,refused", CALLS)
def test_refused_to_anonymous_and_wrong_roles(method, url, body, refused, m, agent, manager,
                                              analyst):
    url = url.format(m=m.pk, c=m.customer_id)
    assert _call(None, method, url, body).status_code == 401
    users = {"agent": agent, "manager": manager, "analyst": analyst}
    for name in refused:
        assert _call(users[name], method, url, body).status_code == 403, name
    assert PointsEntry.objects.count() == 1
