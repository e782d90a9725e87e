"""The loyalty API beyond members and points: the programme's settings, tiers, rewards and
offers (changed by the programme's managers only), the notice log (and its page, which
filters through the same selector) and tier history."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.api.api import api
from kehu.customers.models import Tag
from kehu.loyalty import services
from kehu.loyalty.models import Notice, Offer, Reward, Tier, TierChange
from tests.conftest import logged_in
from tests.loyalty.factories import member
from tests.loyalty.test_api import _call


def _local(y, m, d, h=12):
    return timezone.make_aware(datetime(y, m, d, h, 0))


@pytest.fixture
def gold(db):
    return Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=5000,
                               bonus_percent=10)


@pytest.fixture
def notices(supervisor, gold):
    """Two members: a birthday greeting and an upgrade notice for one, an anniversary for the
    other; Shanghai time."""
    li, wang = member(supervisor, name="李娜"), member(supervisor, name="王芳")
    change = TierChange.objects.create(member=li, kind="upgrade", to_tier=gold,
                                       at=_local(2026, 5, 2, 2))
    return {
        "li": li, "wang": wang, "change": change,
        "birthday": Notice.objects.create(member=li, kind="birthday", year=2026, body="生日快乐",
                                          channel="sms", address="+8613800138000",
                                          at=_local(2026, 5, 1, 9)),
        # 00:30 on 3 May in Shanghai is still 2 May in UTC.
        "upgrade": Notice.objects.create(member=li, kind="upgrade", tier_change=change,
                                         body="升级", at=_local(2026, 5, 3, 0)
                                         + timedelta(minutes=30)),
        "anniversary": Notice.objects.create(member=wang, kind="anniversary", year=2026,
                                             body="周年", status="no_address",
                                             at=_local(2026, 5, 4, 10)),
    }


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


# --- Refusals ---------------------------------------------------------------------------------

CALLS = [
    ("get", "/loyalty/programme", None, []),
    ("patch", "/loyalty/programme", {"points_per_unit": "9"}, ["agent", "manager", "analyst"]),
    ("get", "/loyalty/programme/changes", None, ["agent", "manager", "analyst"]),
    ("get", "/loyalty/tiers", None, []),
    ("post", "/loyalty/tiers", {"name": "Jade", "rank": 9, "metric": "spend"},
     ["agent", "manager", "analyst"]),
    ("patch", "/loyalty/tiers/{t}", {"bonus_percent": 50}, ["agent", "manager", "analyst"]),
    ("get", "/loyalty/rewards?include_inactive=true", None, ["agent", "manager", "analyst"]),
    ("post", "/loyalty/rewards", {"name": "Cup", "points": 10},
     ["agent", "manager", "analyst"]),
    ("patch", "/loyalty/rewards/{r}", {"points": 1}, ["agent", "manager", "analyst"]),
    ("get", "/loyalty/offers", None, ["agent", "manager", "analyst"]),
    ("post", "/loyalty/offers", {"name": "Tea", "starts_at": "2026-01-01T00:00:00Z",
                                 "ends_at": "2026-02-01T00:00:00Z"},
     ["agent", "manager", "analyst"]),
    ("patch", "/loyalty/offers/{o}", {"name": "Mine"}, ["agent", "manager", "analyst"]),
    ("get", "/loyalty/notices", None, []),
    ("get", "/loyalty/members/{m}/notices", None, []),
    ("get", "/loyalty/members/{m}/tier-history", None, []),
]


@pytest.mark.parametrize("method,url,body,refused", CALLS)
def test_refused_to_anonymous_and_wrong_roles(method, url, body, refused, supervisor, agent,
                                              manager, analyst, gold):
    m = member(supervisor)
    reward = Reward.objects.create(name="Pot", points=500)
    now = timezone.now()
    offer = Offer.objects.create(name="Spring", starts_at=now, ends_at=now + timedelta(9))
    url = url.format(m=m.pk, t=gold.pk, r=reward.pk, o=offer.pk)
    before = (services.programme_get().points_per_unit, list(Tier.objects.values()),
              list(Reward.objects.values()), list(Offer.objects.values()))
    assert _call(None, method, url, body).status_code == 401
    users = {"agent": agent, "manager": manager, "analyst": analyst}
    for name in refused:
        assert _call(users[name], method, url, body).status_code == 403, name
    assert (services.programme_get().points_per_unit, list(Tier.objects.values()),
            list(Reward.objects.values()), list(Offer.objects.values())) == before


def test_in_the_openapi_schema():
    paths = api.get_openapi_schema()["paths"]
    for path, method in (("/api/loyalty/programme", "patch"), ("/api/loyalty/tiers", "post"),
                         ("/api/loyalty/tiers/{tier_id}", "patch"),
                         ("/api/loyalty/rewards", "post"),
                         ("/api/loyalty/rewards/{reward_id}", "patch"),
                         ("/api/loyalty/offers", "get"), ("/api/loyalty/offers", "post"),
                         ("/api/loyalty/offers/{offer_id}", "patch"),
                         ("/api/loyalty/notices", "get"),
                         ("/api/loyalty/members/{member_id}/notices", "get"),
                         ("/api/loyalty/members/{member_id}/tier-history", "get")):
        assert method in paths.get(path, {}), (path, method)


# --- The programme ------------------------------------------------------------------------------


def test_programme_read_by_anyone_signed_in_and_changed_in_part(agent, supervisor):
    read = _call(agent, "get", "/loyalty/programme").json()
    assert Decimal(read.pop("points_per_unit")) == 1
    assert read == {"name": "kehu", "expiry_days": 365, "window_days": 365, "grace_days": 30}
    changed = _call(supervisor, "patch", "/loyalty/programme",
                    {"points_per_unit": "1.5", "grace_days": 14})
    assert changed.status_code == 200, changed.content
    assert changed.json()["grace_days"] == 14 and changed.json()["expiry_days"] == 365
    programme = services.programme_get()
    assert (programme.points_per_unit, programme.grace_days, programme.window_days) == (
        Decimal("1.5"), 14, 365)


@pytest.mark.parametrize("body,field,message", [
    ({"expiry_days": -1}, "expiry_days", "greater than or equal to 0"),
    ({"points_per_unit": "2000"}, "points_per_unit", "At most 1000"),
    ({"window_days": 0, "name": "新"}, "window_days", "at least one day"),
    ({"grace_days": 400}, "grace_days", "longer than the tier window"),
    ({"name": None}, "name", "cannot be null"),
])
def test_bad_programme_values_change_nothing(supervisor, body, field, message):
    response = _call(supervisor, "patch", "/loyalty/programme", body)
    assert response.status_code == 422
    assert message in " ".join(response.json()["detail"][field])
    programme = services.programme_get()
    assert (programme.name, programme.expiry_days, programme.window_days,
            programme.grace_days, programme.points_per_unit) == ("kehu", 365, 365, 30, 1)


# --- Tiers, rewards, offers ---------------------------------------------------------------------


def test_tiers_listed_created_and_changed(agent, supervisor, gold):
    member(supervisor)
    created = _call(supervisor, "post", "/loyalty/tiers",
                    {"name": "Jade", "rank": 3, "metric": "points", "threshold": "8000"})
    assert created.status_code == 201 and created.json()["members"] == 0
    jade = created.json()["id"]
    duplicate = _call(supervisor, "post", "/loyalty/tiers",
                      {"name": "Other", "rank": 3, "metric": "spend"})
    assert duplicate.status_code == 422 and "rank" in duplicate.json()["detail"]
    negative = _call(supervisor, "patch", f"/loyalty/tiers/{jade}", {"threshold": "-1"})
    assert negative.status_code == 422
    assert _call(supervisor, "patch", f"/loyalty/tiers/{jade}",
                 {"bonus_percent": 20}).json()["bonus_percent"] == 20
    rows = _call(agent, "get", "/loyalty/tiers").json()
    assert [(r["name"], r["threshold"], r["bonus_percent"]) for r in rows] == [
        ("Gold", "5000.00", 10), ("Jade", "8000.00", 20)]
    assert _call(supervisor, "patch", "/loyalty/tiers/999", {"rank": 1}).status_code == 404


def test_rewards_created_changed_and_hidden_when_inactive(agent, supervisor, gold):
    unknown_tier = _call(supervisor, "post", "/loyalty/rewards",
                         {"name": "Pot", "points": 500, "min_tier_id": 999})
    assert unknown_tier.status_code == 422 and "min_tier_id" in unknown_tier.json()["detail"]
    zero = _call(supervisor, "post", "/loyalty/rewards", {"name": "Pot", "points": 0})
    assert zero.status_code == 422 and not Reward.objects.exists()
    created = _call(supervisor, "post", "/loyalty/rewards",
                    {"name": "Pot", "points": 500, "stock": 3, "min_tier_id": gold.pk})
    assert created.status_code == 201
    assert (created.json()["min_tier"], created.json()["stock"]) == ("Gold", 3)
    pot = created.json()["id"]
    assert _ids(_call(agent, "get", "/loyalty/rewards")) == [pot]
    changed = _call(supervisor, "patch", f"/loyalty/rewards/{pot}",
                    {"is_active": False, "min_tier_id": None})
    assert changed.json()["is_active"] is False and changed.json()["min_tier_id"] is None
    assert _ids(_call(agent, "get", "/loyalty/rewards")) == []
    assert _ids(_call(supervisor, "get", "/loyalty/rewards?include_inactive=true")) == [pot]


def test_offers_created_listed_and_changed_in_part(supervisor, gold):
    Tag.objects.create(name="VIP")
    listed = member(supervisor, name="名单上").customer
    body = {"name": "Spring tea", "starts_at": "2026-04-01T00:00:00+08:00",
            "ends_at": "2026-05-01T00:00:00+08:00", "min_tier_id": gold.pk,
            "tags": ["VIP"], "customer_ids": [listed.pk], "per_customer_limit": 2}
    unknown = _call(supervisor, "post", "/loyalty/offers", body | {"tags": ["VIP", "Nope"]})
    assert unknown.status_code == 422 and "Nope" in unknown.json()["detail"]["tags"][0]
    missing = _call(supervisor, "post", "/loyalty/offers", body | {"customer_ids": [999999]})
    assert missing.status_code == 422 and "999999" in missing.json()["detail"]["customer_ids"][0]
    backwards = _call(supervisor, "post", "/loyalty/offers",
                      body | {"ends_at": "2026-03-01T00:00:00+08:00"})
    assert backwards.status_code == 422 and "end after it starts" in str(backwards.json())
    bad_segment = _call(supervisor, "post", "/loyalty/offers", body | {"segment": "rich"})
    assert bad_segment.status_code == 422 and "segment" in bad_segment.json()["detail"]
    assert not Offer.objects.exists()

    created = _call(supervisor, "post", "/loyalty/offers", body)
    assert created.status_code == 201, created.content
    offer = created.json()
    assert (offer["tags"], offer["customer_ids"], offer["min_tier_id"]) == (
        ["VIP"], [listed.pk], gold.pk)
    # Changing the name keeps who may have it; an empty list clears the listed customers.
    renamed = _call(supervisor, "patch", f"/loyalty/offers/{offer['id']}",
                    {"name": "Spring oolong"}).json()
    assert (renamed["name"], renamed["tags"], renamed["customer_ids"]) == (
        "Spring oolong", ["VIP"], [listed.pk])
    cleared = _call(supervisor, "patch", f"/loyalty/offers/{offer['id']}",
                    {"customer_ids": [], "is_active": False}).json()
    assert (cleared["tags"], cleared["customer_ids"], cleared["is_active"]) == (
        ["VIP"], [], False)
    assert _ids(_call(supervisor, "get", "/loyalty/offers?active=false")) == [offer["id"]]
    assert _ids(_call(supervisor, "get", "/loyalty/offers?active=true")) == []


def _queries(user, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert _call(user, "get", url).status_code == 200
    return len(context)


def test_offer_list_query_count(supervisor):
    customers = [member(supervisor, name=f"客户{i}").customer for i in range(5)]
    now = timezone.now()

    def offers(n):
        for i in range(n):
            offer = Offer.objects.create(name=f"O{i}", starts_at=now, ends_at=now + timedelta(9))
            offer.customers.set(customers)
            offer.tags.set([Tag.objects.get_or_create(name=f"T{i}")[0]])

    offers(1)
    few = _queries(supervisor, "/loyalty/offers")
    offers(5)
    assert _queries(supervisor, "/loyalty/offers") == few


# --- Notices and tier history -------------------------------------------------------------------


def test_notice_log_with_filters(agent, notices):
    url = "/loyalty/notices"
    n = notices
    assert _ids(_call(agent, "get", url)) == [
        n["anniversary"].pk, n["upgrade"].pk, n["birthday"].pk]
    assert _ids(_call(agent, "get", f"{url}?member_id={n['li'].pk}")) == [
        n["upgrade"].pk, n["birthday"].pk]
    assert _ids(_call(agent, "get", f"{url}?kind=upgrade")) == [n["upgrade"].pk]
    # Days are Shanghai days, both ends included.
    assert _ids(_call(agent, "get", f"{url}?since=2026-05-03&until=2026-05-03")) == [
        n["upgrade"].pk]
    assert _ids(_call(agent, "get", f"{url}?until=2026-05-02")) == [n["birthday"].pk]
    assert _ids(_call(agent, "get", f"{url}?since=2026-05-02&kind=birthday")) == []
    row = _call(agent, "get", f"{url}?kind=anniversary").json()[0]
    assert (row["member_number"], row["status"], row["year"]) == (
        n["wang"].number, "no_address", 2026)
    assert _call(agent, "get", f"{url}?kind=spam").status_code == 422
    assert _call(agent, "get", f"{url}?since=May").status_code == 422
    assert _call(agent, "get", f"{url}?member_id=999999").status_code == 404


def test_the_notice_log_page_filters_by_the_same_days(agent, notices):
    url = reverse("loyalty:notices")
    page = logged_in(agent).get(url + "?from=2026-05-03&to=2026-05-03").content.decode()
    assert "升级" in page and "生日快乐" not in page and "周年" not in page
    assert 'value="2026-05-03"' in page
    page = logged_in(agent).get(url + "?kind=birthday&from=soon").content.decode()
    assert "生日快乐" in page and "升级" not in page and "周年" not in page


def test_a_members_notices_and_tier_history(agent, notices, gold):
    li = notices["li"]
    rows = _call(agent, "get", f"/loyalty/members/{li.pk}/notices").json()
    assert [(r["kind"], r["tier_change_id"]) for r in rows] == [
        ("upgrade", notices["change"].pk), ("birthday", None)]
    history = _call(agent, "get", f"/loyalty/members/{li.pk}/tier-history").json()
    assert [(h["kind"], h["from_tier"], h["to_tier"]) for h in history] == [
        ("upgrade", None, "Gold")]
    assert _call(agent, "get", f"/loyalty/members/{notices['wang'].pk}/tier-history"
                 ).json() == []
    assert _call(agent, "get", "/loyalty/members/999999/notices").status_code == 404


def test_notice_log_query_count(agent, supervisor, notices):
    few = _queries(agent, "/loyalty/notices")
    for i in range(5):
        Notice.objects.create(member=member(supervisor, name=f"客户{i}"), kind="birthday",
                              year=2026, body="生日快乐", at=_local(2026, 6, 1))
    assert _queries(agent, "/loyalty/notices") == few
