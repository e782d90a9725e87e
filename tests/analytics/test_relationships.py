"""Cost to serve, relationship types, key-account movement and retention economics."""

import datetime as dt

import pandas as pd
import pytest

from kehu.analytics import (
    customer_summary,
    key_account_movement,
    lost_customers_loss,
    relationship_keeping_profit,
    relationship_types,
)

NOW = dt.date(2026, 3, 31)


def sale(customer, day, amount, cost=None, category="tea"):
    return {
        "customer_id": customer,
        "at": pd.Timestamp(f"2026-{day}"),
        "amount": amount,
        "cost": cost,
        "category": category,
    }


SALES = pd.DataFrame(
    [
        # 1: big, every month, three categories: partner.
        sale(1, "01-05", 500.0, 300.0, "tea"),
        sale(1, "02-05", 500.0, 300.0, "silk"),
        sale(1, "03-05", 500.0, 300.0, "books"),
        # 2: big, one category only: functional however often she buys.
        sale(2, "01-07", 700.0, 400.0, "tea"),
        sale(2, "02-07", 700.0, 400.0, "tea"),
        sale(2, "03-07", 700.0, 400.0, "tea"),
        # 3: small, often, across categories: emotional.
        sale(3, "01-09", 10.0, 5.0, "tea"),
        sale(3, "02-09", 10.0, 5.0, "silk"),
        sale(3, "03-09", 10.0, 5.0, "gifts"),
        sale(3, "03-19", -10.0, -5.0, "porcelain"),  # a refund: no breadth from it
        # 4: small, once: drifting.
        sale(4, "02-11", 20.0, 10.0, "tea"),
        # 5: small, often, no categories known: repeat purchase alone decides.
        sale(5, "01-12", 5.0, 2.0, None),
        sale(5, "02-12", 5.0, 2.0, None),
        sale(5, "03-12", 5.0, 2.0, None),
        # 6: a refund only: no type.
        sale(6, "03-01", -30.0, None, None),
    ]
)


def records(table) -> dict:
    frame = table.to_pyarrow().to_pandas()
    return {int(r["customer_id"]): r for r in frame.to_dict("records")}


def test_cost_to_serve_lowers_profit(load):
    transactions = load(SALES)
    costs = load(pd.DataFrame({"customer_id": [1, 1, 4, 99], "cost": [50.0, 25.0, 40.0, 7.0]}))
    s = records(customer_summary(transactions=transactions, now=NOW, service_costs=costs))
    assert s[1]["cost_to_serve"] == 75.0
    assert s[1]["profit"] == pytest.approx(1500 - 900 - 75)
    assert s[4]["profit"] == pytest.approx(20 - 10 - 40)  # serving her lost us money
    assert s[2]["cost_to_serve"] == 0.0 and s[2]["profit"] == pytest.approx(900)
    assert pd.isna(s[6]["profit"])  # no cost of goods known: profit unknown
    assert 99 not in s  # costs of someone who never bought are not a customer
    plain = records(customer_summary(transactions=transactions, now=NOW))
    assert "cost_to_serve" not in plain[1]


def test_service_costs_need_their_columns(load):
    with pytest.raises(ValueError, match="customer_id, cost"):
        customer_summary(
            transactions=load(SALES), now=NOW, service_costs=load(pd.DataFrame({"who": [1]}))
        )


def test_relationship_types(load):
    transactions = load(SALES)
    summary = customer_summary(transactions=transactions, now=NOW)
    types = records(
        relationship_types(summary=summary, transactions=transactions, now=NOW, volume_top=0.4)
    )
    assert {c: r["relationship"] for c, r in types.items()} == {
        1: "partner",
        2: "functional",
        3: "emotional",
        4: "drifting",
        5: "emotional",
    }
    assert types[3]["categories"] == 3
    with pytest.raises(ValueError):
        relationship_types(summary=summary, transactions=transactions, now=NOW, categories=0)


def test_key_account_movement(load):
    before = load(
        pd.DataFrame(
            {
                "customer_id": [1, 2, 3, 4, 5],
                "revenue": [100.0, 90, 50, 20, 10],
                "purchases": [5, 4, 3, 2, 1],
            }
        )
    )
    after = load(
        pd.DataFrame(
            {
                "customer_id": [1, 3, 4, 5, 6],
                "revenue": [80.0, 95, 15, 30, 5],
                "purchases": [4, 6, 1, 3, 1],
            }
        )
    )
    moved = records(key_account_movement(before=before, after=after, top=0.4))
    assert {c: r["movement"] for c, r in moved.items()} == {
        1: "fell",  # first, then second: still in the top 2, lower
        2: "left",  # in the top, then gone
        3: "entered",
        4: "same",  # fourth both times
        5: "rose",
        6: "new",
    }
    assert moved[3]["rank_before"] == 3 and moved[3]["rank_after"] == 1
    assert pd.isna(moved[2]["rank_after"])


def test_retention_economics_from_the_seed():
    keep = relationship_keeping_profit(
        long_term_profit=1000.0, keeping_cost=100.0, value_per_friend=20.0
    )
    # 1000 + 10 friends × 20 + 5 × 100 saved − 100
    assert keep.word_of_mouth == 200.0 and keep.rebuilding_saved == 500.0
    assert keep.total == 1600.0
    assert (
        relationship_keeping_profit(
            long_term_profit=1000.0,
            keeping_cost=100.0,
            value_per_friend=20.0,
            friends=3,
            acquisition_cost_ratio=2.0,
        ).total
        == 1000 + 60 + 200 - 100
    )
    loss = lost_customers_loss(average_value=500.0, customers_lost=4, potential_per_friend=30.0)
    assert loss.direct == 2000.0 and loss.friends_business == 4 * 10 * 30.0
    assert loss.total == 3200.0
    with pytest.raises(ValueError):
        lost_customers_loss(average_value=500.0, customers_lost=-1, potential_per_friend=1.0)
    with pytest.raises(ValueError):
        relationship_keeping_profit(long_term_profit=1.0, keeping_cost=-1.0, value_per_friend=0)
