"""The per-customer summary and the rows it keeps, on DuckDB and PostgreSQL."""

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kehu.analytics import (
    customer_summary,
    model_inputs,
    transactions_check,
    transactions_read,
)

from .conftest import cdnow_transactions

NOW = dt.date(2026, 3, 31)


def row(customer, at, amount, cost=None, external_id=None):
    return {
        "customer_id": customer,
        "at": pd.Timestamp(at),
        "amount": amount,
        "cost": cost,
        "category": "tea",
        "channel": "shop",
        "external_id": external_id,
    }


# Hand-checked: every awkward case the module documents.
AWKWARD = pd.DataFrame(
    [
        # Customer 1: three purchase days, two buys on 3 Jan (one day), a refund.
        row(1, "2026-01-01 09:00", 100.0, 60.0, "a1"),
        row(1, "2026-01-03 10:00", 30.0, 20.0, "a2"),
        row(1, "2026-01-03 18:00", 20.0, 10.0, "a3"),
        row(1, "2026-01-10 12:00", 50.0, 30.0, "a4"),
        row(1, "2026-01-20 12:00", -50.0, -30.0, "a5"),  # refund of the 10 Jan buy
        row(1, "2026-01-10 12:00", 50.0, 30.0, "a4"),  # the same sale imported twice
        # Customer 2: one purchase, a zero-amount sample later; no costs known.
        row(2, "2026-02-01 08:00", 80.0, None, "b1"),
        row(2, "2026-03-01 08:00", 0.0, None, "b2"),
        # Customer 3: a purchase dated after now (dropped), and one before.
        row(3, "2026-03-31 23:00", 10.0, 4.0, None),
        row(3, "2026-04-02 10:00", 999.0, 1.0, None),
        # Customer 4: only a refund (of something bought before the data starts).
        row(4, "2026-02-10 10:00", -25.0, None, None),
    ]
)


def by_customer(table) -> dict:
    frame = table.to_pyarrow().to_pandas()
    return {int(r["customer_id"]): r for r in frame.to_dict("records")}


def test_the_summary_of_awkward_rows(load):
    s = by_customer(customer_summary(transactions=load(AWKWARD), now=NOW))
    assert set(s) == {1, 2, 3, 4}

    one = s[1]
    assert one["purchases"] == 3  # 1, 3 and 10 Jan; two buys on 3 Jan are one day
    assert one["frequency"] == 2
    assert one["recency"] == 9  # 1 Jan → 10 Jan
    assert one["T"] == 89  # 1 Jan → 31 Mar
    assert one["monetary_value"] == pytest.approx((50 + 50) / 2)  # repeat days, gross
    assert one["revenue"] == pytest.approx(100 + 30 + 20 + 50 - 50)  # duplicate dropped
    assert one["refunds"] == pytest.approx(50)
    assert one["profit"] == pytest.approx(40 + 10 + 10 + 20 - 20)
    assert one["days_since_last"] == 80  # 10 Jan → 31 Mar

    two = s[2]  # the zero-amount sample is a visit with no spend
    assert (two["purchases"], two["frequency"], two["recency"], two["T"]) == (2, 1, 28, 58)
    assert two["monetary_value"] == 0
    assert two["revenue"] == pytest.approx(80)
    assert pd.isna(two["profit"])  # no cost known
    assert two["days_since_last"] == 30

    three = s[3]
    assert (three["purchases"], three["T"], three["revenue"]) == (1, 0, 10)
    assert three["profit"] == pytest.approx(6)

    four = s[4]
    assert four["purchases"] == 0
    assert pd.isna(four["frequency"]) and pd.isna(four["T"])
    assert four["revenue"] == pytest.approx(-25)


def test_the_first_purchase_day_is_the_first_day_with_a_purchase(load):
    """Spend per repeat purchase leaves out the first purchase day, whatever came before
    it (a refund) or happened on it (a refund, several buys), and is exactly 0 when every
    repeat purchase was free."""
    frame = pd.DataFrame(
        [
            row(5, "2026-01-02 10:00", -40.0, 1.0, "f1"),  # a refund before anything was bought
            row(5, "2026-01-05 09:00", 70.0, 1.0, "f2"),  # first purchase day: 70 + 30 − 10
            row(5, "2026-01-05 12:00", 30.0, 1.0, "f3"),
            row(5, "2026-01-05 17:00", -10.0, 1.0, "f4"),
            row(5, "2026-01-09 10:00", 25.0, 1.0, "f5"),
            row(5, "2026-01-12 10:00", 15.0, 1.0, "f6"),
            row(5, "2026-01-12 11:00", -15.0, 1.0, "f7"),  # a repeat day with a refund stays a day
            row(6, "2026-02-01 10:00", 1e9, 1.0, "f8"),  # a huge first purchase, then only samples
            row(6, "2026-02-03 10:00", 0.0, 1.0, "f9"),
            row(6, "2026-02-04 10:00", 0.0, 1.0, "f10"),
        ]
    )
    s = by_customer(customer_summary(transactions=load(frame), now=NOW))
    five = s[5]
    assert (five["purchases"], five["frequency"], five["recency"]) == (3, 2, 7)
    assert five["first_purchase"] == dt.date(2026, 1, 5)
    assert five["monetary_value"] == pytest.approx((25 + 15) / 2)
    assert five["revenue"] == pytest.approx(-40 + 70 + 30 - 10 + 25 + 15 - 15)
    six = s[6]
    assert (six["frequency"], six["monetary_value"]) == (2, 0.0)


def test_rows_differing_only_in_their_ids_are_all_kept(load):
    """Without a repeated id nothing is de-duplicated: rows alike in all but the id, ids
    differing only in case, and rows without an id all count."""
    frame = pd.DataFrame(
        [
            row(7, "2026-01-05 09:00", 10.0, 1.0, "k1"),
            row(7, "2026-01-05 09:00", 10.0, 1.0, "k2"),
            row(7, "2026-01-06 09:00", 20.0, 1.0, "K2"),
            row(7, "2026-01-07 09:00", 30.0, 1.0, None),
            row(7, "2026-01-07 09:00", 30.0, 1.0, None),
        ]
    )
    s = by_customer(customer_summary(transactions=load(frame), now=NOW))
    assert s[7]["revenue"] == pytest.approx(100)
    assert s[7]["purchases"] == 3
    assert transactions_check(table=load(frame), now=NOW).duplicates == 0
    # One repeat among them, of a row dated after now: gone with the future rows.
    later = pd.concat([frame, pd.DataFrame([row(7, "2026-04-05 09:00", 99.0, 1.0, "k1")])])
    counts = transactions_check(table=load(later), now=NOW)
    assert (counts.future, counts.duplicates, counts.kept) == (1, 0, 5)


def test_weeks_are_days_over_seven(load):
    s = by_customer(customer_summary(transactions=load(AWKWARD), now=NOW, unit="weeks"))
    assert s[1]["recency"] == pytest.approx(9 / 7)
    assert s[1]["T"] == pytest.approx(89 / 7)


def test_a_moment_for_now_drops_what_came_later_that_day(load):
    s = by_customer(
        customer_summary(transactions=load(AWKWARD), now=dt.datetime(2026, 3, 31, 12, 0))
    )
    assert 3 not in s


def test_the_counts_of_awkward_rows(load):
    counts = transactions_check(table=load(AWKWARD), now=NOW)
    assert counts.rows == 11
    assert counts.future == 1
    assert counts.duplicates == 1
    assert counts.kept == 9
    assert counts.refunds == 2
    assert counts.zero_amounts == 1
    assert counts.without_cost == 3


def test_an_empty_table_gives_an_empty_summary(load):
    empty = AWKWARD.iloc[:0]
    assert customer_summary(transactions=load(empty), now=NOW).to_pyarrow().num_rows == 0


def test_missing_columns_are_named():
    import ibis

    with pytest.raises(ValueError, match="amount"):
        customer_summary(transactions=ibis.memtable({"customer_id": [1], "at": [NOW]}), now=NOW)
    with pytest.raises(ValueError, match="unit"):
        customer_summary(transactions=ibis.memtable(AWKWARD), now=NOW, unit="months")


def test_the_cdnow_summary_is_lifetimes_summary(load):
    from lifetimes.utils import summary_data_from_transaction_data

    frame = cdnow_transactions()
    end = dt.date(1997, 9, 30)
    theirs = summary_data_from_transaction_data(
        frame,
        "customer_id",
        "at",
        monetary_value_col="amount",
        observation_period_end=pd.Timestamp(end),
        freq="D",
    ).sort_index()
    ours = model_inputs(summary=customer_summary(transactions=load(frame), now=end))
    order = np.argsort(ours["customer_id"])
    assert (ours["customer_id"][order] == theirs.index.to_numpy()).all()
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[column][order], theirs[column].to_numpy(), rtol=1e-12)


def test_files_are_read_in_place(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    AWKWARD.to_csv(tmp_path / "t.csv", index=False)
    pq.write_table(pa.Table.from_pandas(AWKWARD), tmp_path / "t.parquet")
    for name in ("t.csv", "t.parquet"):
        s = by_customer(
            customer_summary(transactions=transactions_read(path=tmp_path / name), now=NOW)
        )
        assert s[1]["revenue"] == pytest.approx(150), name
        assert s[1]["frequency"] == 2, name


def test_importing_the_package_does_not_import_django():
    code = "import sys, kehu.analytics; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
