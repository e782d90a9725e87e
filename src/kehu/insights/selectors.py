"""Reads of customer value: the stored scores, and the transactions as kehu.analytics
reads them."""

from datetime import date, datetime, time

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.insights.models import CustomerValue, Segment, Tier, ValueChange, ValueRefresh
from kehu.sales.models import Transaction

READ_CHUNK = 20_000

# What an SLA policy can ask of a customer's value (SlaPolicy.customer_value).
TOP_TIER = "top_tier"
CHURN_RISK = "churn_risk"


def transactions_arrow(*, start: date | None = None, end: date | None = None) -> pa.Table:
    """The sales transactions, in one bulk read, as an Arrow table in kehu.analytics'
    layout: refunds as negative amounts (and negative cost: the goods came back), times
    in the shop's local time (settings.TIME_ZONE) without a zone, as the analytics expect.
    `start` and `end` are local days, both included. Without external ids: they are
    unique in the table, so the analytics' de-duplication would drop nothing, and
    without them it skips its sort of every row (a fifth of the summary's time on
    10,000,000 rows)."""
    rows = Transaction.objects.all()
    zone = timezone.get_default_timezone()
    if start is not None:
        rows = rows.filter(occurred_at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end is not None:
        rows = rows.filter(occurred_at__lte=datetime.combine(end, time.max, tzinfo=zone))
    columns: dict[str, list] = {
        name: [] for name in ("customer_id", "at", "amount", "cost", "category", "channel")
    }
    refund = Transaction.Kind.REFUND
    for customer_id, at, kind, amount, cost, category, channel in (
        rows.values_list(
            "customer_id", "occurred_at", "kind", "amount", "cost", "category", "channel"
        )
        .order_by()
        .iterator(chunk_size=READ_CHUNK)
    ):
        sign = -1.0 if kind == refund else 1.0
        columns["customer_id"].append(customer_id)
        columns["at"].append(at)
        columns["amount"].append(sign * float(amount))
        columns["cost"].append(None if cost is None else sign * float(cost))
        columns["category"].append(category or None)
        columns["channel"].append(channel or None)
    at = pa.array(columns.pop("at"), type=pa.timestamp("us", tz="UTC"))
    local = pc.local_timestamp(at.cast(pa.timestamp("us", tz=settings.TIME_ZONE)))
    return pa.table(
        {
            "customer_id": pa.array(columns["customer_id"], type=pa.int64()),
            "at": local,
            "amount": pa.array(columns["amount"], type=pa.float64()),
            "cost": pa.array(columns["cost"], type=pa.float64()),
            "category": pa.array(columns["category"], type=pa.string()),
            "channel": pa.array(columns["channel"], type=pa.string()),
        }
    )


def value_refresh_latest() -> ValueRefresh | None:
    return ValueRefresh.objects.order_by("-at", "-pk").first()


def customer_value(*, customer: Customer) -> CustomerValue | None:
    """The customer's latest scores with both refreshes: one query."""
    return (
        CustomerValue.objects.filter(customer=customer)
        .select_related("refresh", "previous_refresh")
        .first()
    )


def customer_value_changes(*, customer: Customer, limit: int = 10) -> list[ValueChange]:
    return list(
        ValueChange.objects.filter(customer=customer)
        .select_related("refresh")
        .order_by("-refresh__at", "-refresh_id")[:limit]
    )


def customer_value_conditions(*, customer: Customer) -> set[str]:
    """The value conditions an SLA policy may ask for that the customer meets."""
    found = CustomerValue.objects.filter(customer=customer).values("tier", "churn_risk").first()
    if found is None:
        return set()
    conditions = set()
    if found["tier"] == Tier.MOST_PROFITABLE:
        conditions.add(TOP_TIER)
    if found["churn_risk"]:
        conditions.add(CHURN_RISK)
    return conditions


def churn_risk_list(*, limit: int = 100) -> QuerySet[CustomerValue]:
    """Customers at churn risk, the most valuable first (by lifetime value, then revenue)."""
    return (
        CustomerValue.objects.filter(churn_risk=True, customer__merged_into=None)
        .select_related("customer", "customer__owner")
        .order_by("-clv", "-revenue", "customer_id")[:limit]
    )


def segment_totals() -> list[dict]:
    """Per RFM segment: customers, revenue and lifetime value, in the segments' order."""
    rows = {
        row["segment"]: row
        for row in CustomerValue.objects.exclude(segment="")
        .values("segment")
        .annotate(customers=Count("pk"), revenue=Sum("revenue"), clv=Sum("clv"))
        .order_by()
    }
    return [
        {
            "segment": segment,
            "label": str(label),
            "customers": rows[segment]["customers"],
            "revenue": rows[segment]["revenue"] or 0,
            "clv": rows[segment]["clv"] or 0,
        }
        for segment, label in Segment.choices
        if segment in rows
    ]


def tier_totals() -> list[dict]:
    rows = {
        row["tier"]: row
        for row in CustomerValue.objects.exclude(tier="")
        .values("tier")
        .annotate(customers=Count("pk"), profit=Sum("profit"))
        .order_by()
    }
    return [
        {
            "tier": tier,
            "label": str(label),
            "customers": rows[tier]["customers"],
            "profit": rows[tier]["profit"] or 0,
        }
        for tier, label in Tier.choices
        if tier in rows
    ]


def clv_values() -> list[float]:
    return [float(v) for v in CustomerValue.objects.exclude(clv=None).values_list("clv", flat=True)]


def value_charts(*, start: date, end: date) -> dict:
    """The curves of the analytics page from the transactions of [start, end], computed
    by kehu.analytics as of `end`: Pareto and Lorenz of revenue, the whale curve of profit
    (empty when no cost is known), and the cohort retention matrix."""
    from kehu import analytics

    con = analytics.connect()
    table = analytics.transactions_table(
        table=con.create_table("transactions", transactions_arrow(start=start, end=end))
    )
    summary = con.create_table("summary", analytics.customer_summary(transactions=table, now=end))
    charts: dict = {"pareto": [], "lorenz": [], "whale": [], "gini": None}
    try:
        pareto = analytics.pareto_curve(summary=summary, measure="revenue", points=50)
    except ValueError:
        pareto = []
    if pareto:
        lorenz = analytics.lorenz_curve(summary=summary, measure="revenue", points=50)
        charts["pareto"] = [[p.customers, p.value] for p in pareto]
        charts["lorenz"] = [[p.customers, p.value] for p in lorenz]
        charts["gini"] = analytics.gini(curve=lorenz)
    try:
        whale = analytics.pareto_curve(summary=summary, measure="profit", points=50)
        charts["whale"] = [[p.customers, p.value] for p in whale]
    except ValueError:
        pass
    cohorts = analytics.cohort_retention(transactions=table, now=end).to_pyarrow().to_pylist()
    months = sorted({row["cohort"] for row in cohorts})
    charts["cohorts"] = {
        "cohorts": [month.strftime("%Y-%m") for month in months],
        "cells": [
            [row["months_since"], months.index(row["cohort"]), round(row["retention"], 4)]
            for row in cohorts
        ],
        "sizes": {
            row["cohort"].strftime("%Y-%m"): row["size"]
            for row in cohorts
            if row["months_since"] == 0
        },
    }
    return charts


def clv_histogram(*, bins: int = 12) -> dict:
    """Customers per band of lifetime value, for the distribution chart."""
    import numpy as np

    values = clv_values()
    if not values:
        return {"bands": [], "customers": []}
    counts, edges = np.histogram(values, bins=bins)
    return {
        "bands": [f"{edges[i]:,.0f}–{edges[i + 1]:,.0f}" for i in range(len(counts))],
        "customers": counts.tolist(),
    }
