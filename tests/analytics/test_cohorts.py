"""Cohort retention matrix."""

import datetime as dt

import pandas as pd

from kehu.analytics import cohort_retention

# Checked by hand. January cohort: 1, 2, 3 (3 customers); 1 is back in February and
# April, 2 in February (twice: one customer), 3 never. February cohort: 4 (5 only got a
# refund, so is in no cohort). A row after `now` and a duplicate external id are dropped.
ROWS = pd.DataFrame(
    [
        (1, "2026-01-05 10:00", 100.0, "a"),
        (1, "2026-02-01 09:00", 50.0, "b"),
        (1, "2026-04-30 23:00", 20.0, "c"),
        (2, "2026-01-31 12:00", 10.0, "d"),
        (2, "2026-02-02 12:00", 0.0, "e"),  # a zero-amount order is a purchase
        (2, "2026-02-20 12:00", 30.0, "f"),
        (3, "2026-01-10 12:00", 80.0, "g"),
        (3, "2026-03-10 12:00", -80.0, "h"),  # a refund is not a purchase
        (4, "2026-02-14 12:00", 60.0, "i"),
        (4, "2026-02-14 12:00", 60.0, "i"),  # the same transaction imported twice
        (4, "2026-06-01 12:00", 60.0, "j"),  # after now
        (5, "2026-02-03 12:00", -5.0, "k"),
    ],
    columns=["customer_id", "at", "amount", "external_id"],
).assign(at=lambda f: pd.to_datetime(f["at"]))


def test_retention_by_first_purchase_month(load):
    rows = cohort_retention(transactions=load(ROWS), now=dt.date(2026, 5, 31)).to_pyarrow()
    found = [
        (row["cohort"], row["months_since"], row["customers"], row["size"], row["retention"])
        for row in rows.to_pylist()
    ]
    jan, feb = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    assert found == [
        (jan, 0, 3, 3, 1.0),
        (jan, 1, 2, 3, 2 / 3),
        (jan, 3, 1, 3, 1 / 3),
        (feb, 0, 1, 1, 1.0),
    ]


def test_no_purchases_no_cohorts(load):
    refunds = ROWS[ROWS["amount"] < 0]
    assert (
        cohort_retention(transactions=load(refunds), now=dt.date(2026, 5, 31)).count().execute()
        == 0
    )
