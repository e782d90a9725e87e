"""Relationship types, key-account movement and retention economics (domain §6).

Relationship type (seed 001), purchase volume × loyalty:
- partner: high volume, loyal; functional: high volume, not loyal (buys a lot, no
  trust); emotional: low volume, loyal; drifting: low volume, not loyal (most fragile).
- Volume is revenue (refunds deducted): high for the top `volume_top` share of the
  customers who bought, ranked as in `kehu.analytics.value` (ties by customer_id).
- Loyalty is repeat purchase and buying across product lines (seed 001): a loyal
  customer bought on at least `repeat_purchases` days and in at least `categories`
  categories. Categories are counted over purchases (refunds and rows without a
  category left out); where no row of a customer names a category, breadth is not
  asked for and repeat purchase alone decides.
- Only customers who bought (purchases > 0) get a type; refund-only customers have none.

Key-account movement compares the summaries of two periods: each customer's rank by the
measure in each, whether she was in the top share, and what happened: `entered` the top,
`left` it (including customers who stopped buying), `rose` or `fell` in rank, `same`,
`new` (no purchase before), `gone` (none after).

Retention economics (seed 001, 顾客管理的成本和利益) are plain arithmetic on the
assumptions given, every one a parameter with the seed's figure as default.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import ibis
import ibis.expr.types as ir

from kehu.analytics.transactions import transactions_clean
from kehu.analytics.value import Measure, _measured, _top_count


class Relationship(StrEnum):
    PARTNER = "partner"
    FUNCTIONAL = "functional"
    EMOTIONAL = "emotional"
    DRIFTING = "drifting"


def relationship_types(
    *,
    summary: ir.Table,
    transactions: ir.Table,
    now,
    volume_top: float = 0.2,
    repeat_purchases: int = 3,
    categories: int = 2,
) -> ir.Table:
    """customer_id, revenue, purchases, categories, high_volume, loyal, relationship
    (a `Relationship` value) for the customers who bought (see module doc)."""
    if repeat_purchases < 1 or categories < 1:
        raise ValueError("repeat_purchases and categories must be at least 1")
    buyers = summary.filter(summary.purchases > 0)
    n = int(buyers.count().execute())
    k = _top_count(n, volume_top)
    t = transactions_clean(table=transactions, now=now)
    bought = t.filter((t.amount >= 0) & t.category.notnull())
    breadth = bought.group_by("customer_id").aggregate(categories=bought.category.nunique())
    joined = buyers.left_join(breadth, "customer_id").select(buyers, breadth.categories)
    rank = ibis.row_number().over(order_by=[joined.revenue.desc(), joined.customer_id]) + 1
    high = rank <= k
    loyal = (joined.purchases >= repeat_purchases) & (
        joined.categories.isnull() | (joined.categories >= categories)
    )
    return joined.select(
        "customer_id",
        "revenue",
        "purchases",
        categories=joined.categories.fill_null(0),
        high_volume=high,
        loyal=loyal,
        relationship=ibis.cases(
            (high & loyal, Relationship.PARTNER.value),
            (high, Relationship.FUNCTIONAL.value),
            (loyal, Relationship.EMOTIONAL.value),
            else_=Relationship.DRIFTING.value,
        ),
    )


def _ranks(summary: ir.Table, measure: Measure, top: float, suffix: str) -> ir.Table:
    s = _measured(summary, measure)
    s = s.filter(s.purchases > 0) if "purchases" in s.columns else s
    n = int(s.count().execute())
    k = _top_count(n, top)
    rank = ibis.row_number().over(order_by=[s[measure].desc(), s.customer_id]) + 1
    ranked = s.select("customer_id", value=s[measure], rank=rank)
    return ranked.select(
        "customer_id",
        **{f"value_{suffix}": ranked.value, f"rank_{suffix}": ranked["rank"]},
        **{f"top_{suffix}": ranked["rank"] <= k},
    )


def key_account_movement(
    *, before: ir.Table, after: ir.Table, top: float = 0.2, measure: Measure = "revenue"
) -> ir.Table:
    """customer_id, value, rank and top flag in each period, and `movement` (see module
    doc), for every customer in either period's summary; both on the same engine."""
    a = _ranks(before, measure, top, "before")
    b = _ranks(after, measure, top, "after")
    joined = a.outer_join(b, a.customer_id == b.customer_id)
    joined = joined.select(
        customer_id=ibis.coalesce(joined.customer_id, joined.customer_id_right),
        value_before=joined.value_before,
        rank_before=joined.rank_before,
        top_before=joined.top_before.fill_null(False),
        value_after=joined.value_after,
        rank_after=joined.rank_after,
        top_after=joined.top_after.fill_null(False),
    )
    movement = ibis.cases(
        (joined.top_before & ~joined.top_after, "left"),
        (~joined.top_before & joined.top_after, "entered"),
        (joined.rank_before.isnull(), "new"),
        (joined.rank_after.isnull(), "gone"),
        (joined.rank_after < joined.rank_before, "rose"),
        (joined.rank_after > joined.rank_before, "fell"),
        else_="same",
    )
    return joined.mutate(movement=movement)


@dataclass(frozen=True)
class KeepingProfit:
    """Profit of keeping a relationship (seed 001) and its parts."""

    long_term_profit: float
    word_of_mouth: float
    rebuilding_saved: float
    keeping_cost: float

    @property
    def total(self) -> float:
        return (
            self.long_term_profit + self.word_of_mouth + self.rebuilding_saved - self.keeping_cost
        )


def relationship_keeping_profit(
    *,
    long_term_profit: float,
    keeping_cost: float,
    value_per_friend: float,
    friends: int = 10,
    acquisition_cost_ratio: float = 5.0,
) -> KeepingProfit:
    """= the customer's long-term profit (her CLV, say) + the benefit of word of mouth
    to `friends` friends (`value_per_friend` each) + the saving of not rebuilding the
    relationship (winning a customer costs `acquisition_cost_ratio` × keeping one, seed
    001's 5×) − the cost of keeping the relationship."""
    if keeping_cost < 0 or value_per_friend < 0 or friends < 0 or acquisition_cost_ratio < 0:
        raise ValueError("costs, friends and values per friend cannot be negative")
    return KeepingProfit(
        long_term_profit=long_term_profit,
        word_of_mouth=friends * value_per_friend,
        rebuilding_saved=acquisition_cost_ratio * keeping_cost,
        keeping_cost=keeping_cost,
    )


@dataclass(frozen=True)
class LostCustomersLoss:
    """Loss from losing customers (seed 001) and its parts."""

    customers_lost: int
    direct: float
    friends_business: float

    @property
    def total(self) -> float:
        return self.direct + self.friends_business


def lost_customers_loss(
    *,
    average_value: float,
    customers_lost: int,
    potential_per_friend: float,
    friends: int = 10,
) -> LostCustomersLoss:
    """= average value per customer × customers lost + the potential business of each
    lost customer's `friends` friends (`potential_per_friend` each)."""
    if customers_lost < 0 or friends < 0 or potential_per_friend < 0 or average_value < 0:
        raise ValueError("customers lost, friends, values cannot be negative")
    return LostCustomersLoss(
        customers_lost=customers_lost,
        direct=average_value * customers_lost,
        friends_business=customers_lost * friends * potential_per_friend,
    )
