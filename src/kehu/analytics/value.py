"""Where the value is: Pareto shares, ABC classes, Lorenz and whale curves, profit tiers.

All take the per-customer summary (`customer_summary`) as an Ibis table and run on its
engine; only the few figures or curve points come back to Python. `measure` is a
summary column: `revenue` (refunds deducted) or `profit` (customers with no known cost
are left out of profit figures). Customers are ranked by the measure, highest first,
ties broken by customer_id so that every engine gives the same answer; "the top 20%" is
the first ceil(0.2 × n) customers of that ranking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import ibis
import ibis.expr.types as ir

Measure = Literal["revenue", "profit"]


def _measured(summary: ir.Table, measure: Measure) -> ir.Table:
    """The customers with a value for the measure."""
    if measure not in ("revenue", "profit"):
        raise ValueError(f"measure must be revenue or profit, not {measure!r}")
    return summary.filter(summary[measure].notnull())


def _order(s: ir.Table, measure: Measure) -> list:
    return [s[measure].desc(), s.customer_id]


def _ranked(summary: ir.Table, measure: Measure) -> ir.Table:
    """Customers with a value for the measure, with their 1-based rank."""
    s = _measured(summary, measure)
    return s.select(
        "customer_id",
        value=s[measure],
        rank=ibis.row_number().over(order_by=_order(s, measure)) + 1,
    )


def _totals(summary: ir.Table, measure: Measure) -> tuple[int, float]:
    s = _measured(summary, measure)
    row = s.aggregate(n=s.count(), total=s[measure].sum()).to_pyarrow().to_pylist()[0]
    return int(row["n"]), float(row["total"] or 0.0)


def _top_total(ranked: ir.Table, k: int) -> float:
    """The total of the first k customers, a sum filtered by rank: a running-total
    window costs three times the ranking on a million customers."""
    if k == 0:
        return 0.0
    row = ranked.aggregate(total=ranked.value.sum(where=ranked["rank"] <= k)).to_pyarrow()
    return float(row["total"][0].as_py() or 0.0)


def _top_count(n: int, fraction: float) -> int:
    if not 0 <= fraction <= 1:
        raise ValueError("a share of customers is between 0 and 1")
    # round() first: 0.3 * 10 is 3.0000000000000004, which is 3 customers, not 4.
    return min(n, math.ceil(round(n * fraction, 9)))


def top_share(*, summary: ir.Table, top: float = 0.2, measure: Measure = "revenue") -> float:
    """Share of the total measure brought by the top `top` fraction of customers
    (0.2: the 20/80 rule's 20%). Can exceed 1 for profit when others lose money."""
    n, total = _totals(summary, measure)
    if n == 0 or total == 0:
        raise ValueError(f"no {measure} to share out")
    return _top_total(_ranked(summary, measure), _top_count(n, top)) / total


@dataclass(frozen=True)
class CurvePoint:
    customers: float  # share of customers, 0 to 1
    value: float  # share of the total measure they bring


def pareto_curve(
    *, summary: ir.Table, measure: Measure = "revenue", points: int = 100
) -> list[CurvePoint]:
    """Cumulative share of the measure against the share of customers, best customers
    first, at `points` + 1 evenly spaced customer shares. On profit this is the whale
    curve: it rises above 1 and falls back to 1 as the loss-making customers come in."""
    if points < 1:
        raise ValueError("points must be at least 1")
    n, total = _totals(summary, measure)
    if n == 0 or total == 0:
        raise ValueError(f"no {measure} to draw")
    ranked = _ranked(summary, measure)
    # Point i takes in the first ceil(n·i / points) customers: the customer ranked r comes
    # in at point floor((r − 1)·points / n) + 1. One sum per point, added up here.
    point = ((ranked["rank"] - 1) * points) // n + 1
    sums = ranked.group_by(point=point).aggregate(value=ranked.value.sum()).to_pyarrow()
    per_point = dict(zip(sums["point"].to_pylist(), sums["value"].to_pylist(), strict=True))
    curve, running = [], 0.0
    for i in range(points + 1):
        running += per_point.get(i, 0.0)
        curve.append(CurvePoint(customers=i / points, value=running / total))
    return curve


def lorenz_curve(
    *, summary: ir.Table, measure: Measure = "revenue", points: int = 100
) -> list[CurvePoint]:
    """The Lorenz curve: smallest customers first, so it runs below the diagonal; the
    share the bottom f brings is 1 − the share the top 1 − f brings."""
    pareto = pareto_curve(summary=summary, measure=measure, points=points)
    return [
        CurvePoint(customers=round(1 - point.customers, 12), value=1 - point.value)
        for point in reversed(pareto)
    ]


def gini(*, curve: list[CurvePoint]) -> float:
    """The Gini coefficient from Lorenz points (trapezoids): 0 all equal, 1 one has all."""
    area = sum(
        (b.customers - a.customers) * (a.value + b.value) / 2
        for a, b in zip(curve, curve[1:], strict=False)
    )
    return 1 - 2 * area


def abc_classes(
    *, summary: ir.Table, measure: Measure = "revenue", a: float = 0.8, b: float = 0.95
) -> ir.Table:
    """customer_id, class: A for the best customers who together bring the first `a` of
    the measure (the customer who crosses the line included), B up to `b`, C the rest."""
    if not 0 < a <= b <= 1:
        raise ValueError("need 0 < a <= b <= 1")
    _n, total = _totals(summary, measure)
    s = _measured(summary, measure)
    # What the better customers bring, the customer's own share left out.
    before = s[measure].sum().over(
        ibis.window(order_by=_order(s, measure), rows=(None, -1))
    ).fill_null(0.0) / (total or 1.0)
    return s.select(
        "customer_id",
        **{"class": ibis.cases((before < a, "A"), (before < b, "B"), else_="C")},
    )


@dataclass(frozen=True)
class WhaleReading:
    """The 80/20/30 reading of the whale curve (Sherden): the top 20% of customers
    bring 80% of profit, and half of that is lost on the bottom 30%."""

    top: float  # share of customers counted as the top (0.2)
    top_profit_share: float  # share of total profit they bring (0.8 in Sherden's case)
    bottom: float  # share of customers counted as the bottom (0.3)
    bottom_profit_share: float  # share of total profit they bring: negative when they lose
    bottom_loss_of_top: float  # share of the top's profit lost on the bottom (0.5)
    peak_share: float  # the whale's hump: highest cumulative profit / total profit
    peak_customers: float  # the share of customers at the hump


def whale_reading(*, summary: ir.Table, top: float = 0.2, bottom: float = 0.3) -> WhaleReading:
    """Reads the whale curve of profit; `top` + `bottom` may not exceed 1."""
    if top + bottom > 1:
        raise ValueError("top and bottom overlap")
    n, total = _totals(summary, "profit")
    if n == 0 or total == 0:
        raise ValueError("no profit to read: costs are unknown or profit is zero")
    ranked = _ranked(summary, "profit")
    k_top, k_rest = _top_count(n, top), n - _top_count(n, bottom)
    rank, value = ranked["rank"], ranked.value
    # The hump is where the last customer who earned us money comes in: the running
    # profit rises over them, stays level over those at 0 and falls after (at the first
    # customer when nobody earned anything).
    row = (
        ranked.aggregate(
            top=value.sum(where=rank <= k_top),
            bottom=value.sum(where=rank > k_rest),
            gains=value.sum(where=value > 0),
            earners=value.count(where=value > 0),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    top_profit, bottom_profit = float(row["top"] or 0.0), float(row["bottom"] or 0.0)
    return WhaleReading(
        top=top,
        top_profit_share=top_profit / total,
        bottom=bottom,
        bottom_profit_share=bottom_profit / total,
        bottom_loss_of_top=max(0.0, -bottom_profit) / top_profit if top_profit > 0 else 0.0,
        peak_share=float(row["gains"] or 0.0) / total,
        peak_customers=max(int(row["earners"]), 1) / n,
    )


class Tier(StrEnum):
    """Profitability tiers and the strategy the seed gives for each (seed 002)."""

    MOST_PROFITABLE = "most_profitable"
    SECOND_TIER = "second_tier"
    UNPROFITABLE = "unprofitable"
    LOSS_MAKING = "loss_making"

    @property
    def label(self) -> str:
        return TIER_TEXT[self][0]

    @property
    def label_zh(self) -> str:
        return TIER_TEXT[self][1]

    @property
    def strategy(self) -> str:
        return TIER_TEXT[self][2]

    @property
    def strategy_zh(self) -> str:
        return TIER_TEXT[self][3]


# The seed's wording (seed 002, 客户区隔的策略), in the simplified characters the UI uses.
TIER_TEXT: dict[Tier, tuple[str, str, str, str]] = {
    Tier.MOST_PROFITABLE: (
        "Most profitable",
        "最赚钱的客户",
        "Keep a good relationship; grow their contribution; lose none of them.",
        "维持良好的客户关系；增加客户的贡献；不许任何客户流失",
    ),
    Tier.SECOND_TIER: (
        "Second tier",
        "次赚钱的客户",
        "Create products and services that meet their needs; actively raise their tier.",
        "创造能满足客户需求的产品与服务；积极提升客户等级",
    ),
    Tier.UNPROFITABLE: (
        "Unprofitable",
        "不赚钱的客户",
        "Lower the cost to serve them; take a passive approach.",
        "降低服务成本；采取被动策略",
    ),
    Tier.LOSS_MAKING: (
        "Loss-making",
        "赔钱的客户",
        "Analyse their potential contribution; consider an exit strategy.",
        "分析客户的潜在贡献；考虑采取退出策略",
    ),
}


def profit_tiers(*, summary: ir.Table, top: float = 0.2, floor: float = 0.0) -> ir.Table:
    """customer_id, profit, tier (a `Tier` value) for customers whose profit is known:
    - most profitable: the top `top` share of customers by profit, if their profit is
      above `floor`;
    - second tier: the other customers with profit above `floor`;
    - unprofitable: profit from 0 to `floor` (money: what a customer must earn us to
      count as profitable; 0 by default, so only those who earned exactly nothing);
    - loss-making: profit below 0.
    """
    if floor < 0:
        raise ValueError("floor is money earned: 0 or more")
    n, _total = _totals(summary, "profit")
    k = _top_count(n, top)
    ranked = _ranked(summary, "profit")
    return ranked.select(
        "customer_id",
        profit=ranked.value,
        tier=ibis.cases(
            (ranked.value < 0, Tier.LOSS_MAKING.value),
            (ranked.value <= floor, Tier.UNPROFITABLE.value),
            (ranked["rank"] <= k, Tier.MOST_PROFITABLE.value),
            else_=Tier.SECOND_TIER.value,
        ),
    )
