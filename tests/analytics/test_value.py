"""Pareto, ABC, Lorenz, whale curve and tiers: a worked example checked by hand."""

import pandas as pd
import pytest

from kehu.analytics import (
    TIER_TEXT,
    Tier,
    abc_classes,
    gini,
    lorenz_curve,
    pareto_curve,
    profit_tiers,
    top_share,
    whale_reading,
)

# Ten customers; revenue totals 200, profit 90 over the nine whose costs are known.
TEN = pd.DataFrame(
    {
        "customer_id": list(range(1, 11)),
        "revenue": [100.0, 50, 20, 10, 8, 5, 4, 2, 1, 0],
        "profit": [60.0, 30, 10, 5, 2, 0, -3, -4, -10, None],
    }
)


def test_top_shares(load):
    s = load(TEN)
    assert top_share(summary=s, top=0.2) == pytest.approx(150 / 200)  # customers 1, 2
    assert top_share(summary=s, top=0.3) == pytest.approx(170 / 200)  # 3, not 4, customers
    assert top_share(summary=s, top=0.25) == pytest.approx(170 / 200)  # ceil(2.5) = 3
    assert top_share(summary=s, top=1.0) == pytest.approx(1.0)
    assert top_share(summary=s, top=0.0) == 0
    # Profit: 9 customers, the top 2 (ceil 1.8) make 90 of 90.
    assert top_share(summary=s, top=0.2, measure="profit") == pytest.approx(1.0)
    with pytest.raises(ValueError):
        top_share(summary=s, top=1.5)


def test_pareto_and_lorenz_curves(load):
    s = load(TEN)
    pareto = pareto_curve(summary=s, points=5)
    assert [p.customers for p in pareto] == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert [p.value for p in pareto] == pytest.approx([0, 0.75, 0.9, 0.965, 0.995, 1.0])
    lorenz = lorenz_curve(summary=s, points=5)
    assert [p.customers for p in lorenz] == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert [p.value for p in lorenz] == pytest.approx([0, 0.005, 0.035, 0.1, 0.25, 1.0])
    # Trapezoids under the Lorenz points: 0.2 × (0.005 + 0.04 + 0.135 + 0.35 + 1.25) / 2
    # = 0.178, so Gini = 1 − 2 × 0.178.
    assert gini(curve=lorenz) == pytest.approx(1 - 2 * 0.178)


def test_equal_customers_have_a_straight_lorenz_curve(load):
    s = load(pd.DataFrame({"customer_id": [1, 2, 3, 4], "revenue": [5.0] * 4, "profit": 1.0}))
    lorenz = lorenz_curve(summary=s, points=4)
    assert [p.value for p in lorenz] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert gini(curve=lorenz) == pytest.approx(0)


def test_abc_classes(load):
    classes = abc_classes(summary=load(TEN)).to_pyarrow().to_pylist()
    found = {row["customer_id"]: row["class"] for row in classes}
    # Shares before each customer: 0, .5, .75 → A; .85, .9, .94 → B; .965 … → C.
    assert found == {1: "A", 2: "A", 3: "A", 4: "B", 5: "B", 6: "B"} | {
        c: "C" for c in (7, 8, 9, 10)
    }


def test_the_whale_curve_and_its_reading(load):
    s = load(TEN)
    whale = pareto_curve(summary=s, measure="profit", points=9)
    # Cumulative profit 0, 60, 90, 100, 105, 107, 107, 104, 100, 90 of 90.
    expected = [0, 60, 90, 100, 105, 107, 107, 104, 100, 90]
    assert [p.value for p in whale] == pytest.approx([v / 90 for v in expected])
    reading = whale_reading(summary=s)
    assert reading.top_profit_share == pytest.approx(90 / 90)  # 2 of 9 customers
    assert reading.bottom_profit_share == pytest.approx(-17 / 90)  # 3 of 9: -3, -4, -10
    assert reading.bottom_loss_of_top == pytest.approx(17 / 90)
    assert reading.peak_share == pytest.approx(107 / 90)
    assert reading.peak_customers == pytest.approx(5 / 9)


def test_sherden_80_20_30(load):
    """Ten customers made so that the top 2 bring 80% of profit and the bottom 3 lose
    half of what the top 2 bring: the reading says 0.8 and 0.5."""
    profit = [50.0, 30, 20, 10, 10, 10, 10, -10, -10, -20]  # total 100
    s = load(pd.DataFrame({"customer_id": range(10), "revenue": 1.0, "profit": profit}))
    reading = whale_reading(summary=s, top=0.2, bottom=0.3)
    assert reading.top_profit_share == pytest.approx(0.8)
    assert reading.bottom_profit_share == pytest.approx(-0.4)
    assert reading.bottom_loss_of_top == pytest.approx(0.5)
    assert reading.peak_share == pytest.approx(1.4)


def test_profit_tiers(load):
    tiers = profit_tiers(summary=load(TEN)).to_pyarrow().to_pylist()
    found = {row["customer_id"]: row["tier"] for row in tiers}
    assert found == {
        1: "most_profitable",
        2: "most_profitable",
        3: "second_tier",
        4: "second_tier",
        5: "second_tier",
        6: "unprofitable",
        7: "loss_making",
        8: "loss_making",
        9: "loss_making",
    }  # customer 10 has no known cost: no tier
    with_floor = profit_tiers(summary=load(TEN), floor=5).to_pyarrow().to_pylist()
    assert {row["customer_id"] for row in with_floor if row["tier"] == "unprofitable"} == {
        4,
        5,
        6,
    }


def test_each_tier_has_the_seeds_strategy():
    assert Tier.MOST_PROFITABLE.label_zh == "最赚钱的客户"
    assert "维持良好的客户关系" in Tier.MOST_PROFITABLE.strategy_zh
    assert "积极提升客户等级" in Tier.SECOND_TIER.strategy_zh
    assert "降低服务成本" in Tier.UNPROFITABLE.strategy_zh
    assert "考虑采取退出策略" in Tier.LOSS_MAKING.strategy_zh
    assert set(TIER_TEXT) == set(Tier)
    assert all(tier.strategy and tier.label for tier in Tier)


def test_no_value_to_share_is_an_error(load):
    s = load(TEN.assign(profit=None).astype({"profit": "float64"}))
    with pytest.raises(ValueError, match="profit"):
        whale_reading(summary=s)
    with pytest.raises(ValueError, match="profit"):
        pareto_curve(summary=s, measure="profit")
    with pytest.raises(ValueError, match="measure"):
        top_share(summary=s, measure="margin")
