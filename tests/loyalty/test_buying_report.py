"""Repeat-purchase and cross-buying rates of members against non-members (runs on SQLite and,
with KEHU_DATABASE_URL, on PostgreSQL: the report is one SQL statement)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.customers.services import customer_create
from kehu.loyalty import selectors, services
from kehu.sales import services as sales_services
from tests.conftest import bearer, logged_in


@pytest.fixture
def shoppers(supervisor):
    now = timezone.now()

    def customer(name, purchases, *, member=False):
        person = customer_create(actor=supervisor, kind="individual", name=name)
        if member:
            services.member_enrol(actor=supervisor, customer=person, now=now - timedelta(800))
        for days_ago, category in purchases:
            bought = sales_services.transaction_record(
                actor=supervisor, customer=person, amount=Decimal(10), category=category,
                occurred_at=now - timedelta(days=days_ago))
        return person, bought

    customer("会员甲", [(1, "茶"), (2, "点心")], member=True)  # repeat and cross
    customer("会员乙", [(3, "茶"), (4, "茶"), (5, "")], member=True)  # repeat only
    customer("会员丙", [(6, "茶")], member=True)
    customer("会员丁", [(500, "茶"), (501, "点心")], member=True)  # long ago: not a buyer
    customer("散客甲", [(1, "茶"), (2, "茶")])  # repeat only
    customer("散客乙", [(1, "茶")])
    person, bought = customer("散客丙", [(2, "点心")])
    # A refund is not a second purchase.
    sales_services.transaction_record(actor=supervisor, customer=person, amount=Decimal(5),
                                      kind="refund", refund_of=bought)


def test_rates_of_members_and_others(shoppers):
    report = selectors.report_repeat_and_cross()
    assert report["members"] == {"buyers": 3, "repeat": 2, "cross": 1,
                                 "repeat_rate": 2 / 3, "cross_rate": 1 / 3}
    assert report["others"] == {"buyers": 3, "repeat": 1, "cross": 0,
                                "repeat_rate": 1 / 3, "cross_rate": 0.0}


def test_no_buyers_gives_no_rate(db):
    report = selectors.report_repeat_and_cross()
    assert report["members"]["repeat_rate"] is None and report["others"]["buyers"] == 0


def test_report_page_and_api_show_the_rates(supervisor, shoppers, agent):
    page = logged_in(supervisor).get(reverse("loyalty:report")).content.decode()
    assert "Repeat purchase" in page and "67%" in page and "33%" in page
    assert page.count("Members and other customers") == 1  # once, not in the <title> too
    assert re.search(r"<title>Loyalty report · [^<]*</title>", page)
    body = Client().get("/api/loyalty/report", **bearer(supervisor)).json()
    assert body["buying"]["members"]["repeat"] == 2 and body["buying"]["others"]["buyers"] == 3
    assert logged_in(agent).get(reverse("loyalty:report")).status_code == 403
