"""Cohort retention: of the customers who first bought in a month, how many bought again
1, 2, 3… months later.

A customer's cohort is the calendar month of her first purchase day (refunds are not
purchases; a zero-amount order is, as in `customer_summary`). She is *retained* in month
k of her cohort when she has a purchase day in the k-th calendar month after it; month 0
is the cohort month itself, so its retention is always 1. Rows are cleaned as everywhere
(`transactions_clean`: nothing after `now`, one row per external id). Only the cells with
someone in them are returned: a missing (cohort, months_since) means nobody came back.
"""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir

from kehu.analytics.transactions import transactions_clean


def cohort_retention(*, transactions: ir.Table, now: dt.date | dt.datetime) -> ir.Table:
    """cohort (first day of the month), months_since (0, 1, …), customers (who bought in
    that month), size (the cohort's customers) and retention (customers / size), as an
    Ibis expression run by the table's engine, ordered by cohort and months_since."""
    t = transactions_clean(table=transactions, now=now)
    t = t.filter(t.amount >= 0)
    active = t.select(customer_id=t.customer_id, month=t.at.truncate("M").cast("date")).distinct()
    first = active.group_by("customer_id").aggregate(cohort=active.month.min())
    joined = active.join(first, "customer_id")
    months_since = (joined.month.year() - joined.cohort.year()) * 12 + (
        joined.month.month() - joined.cohort.month()
    )
    # (customer, month) is distinct above, so a count is a count of customers.
    cells = joined.group_by(
        cohort=joined.cohort, months_since=months_since.cast("int64")
    ).aggregate(customers=joined.count())
    sizes = cells.filter(cells.months_since == 0).select(
        size_cohort=cells.cohort, size=cells.customers
    )
    matrix = cells.join(sizes, cells.cohort == sizes.size_cohort)
    return matrix.select(
        "cohort",
        "months_since",
        "customers",
        "size",
        # As a float: PostgreSQL divides two integers into an integer.
        retention=matrix.customers.cast("float64") / matrix.size,
    ).order_by(["cohort", "months_since"])
