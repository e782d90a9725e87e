"""Transactions in: where they come from, and the rows the analyses keep.

A transactions table has one row per purchase or refund:

| column      | type      | meaning                                                   |
|-------------|-----------|-----------------------------------------------------------|
| customer_id | any       | who bought                                                |
| at          | timestamp | when (naive, in the shop's local time)                    |
| amount      | float     | money received; negative for a refund                     |
| cost        | float     | optional: what the sale cost us (negative on a refund when |
|             |           | the goods come back); null where unknown                  |
| category    | string    | optional: product or category                             |
| channel     | string    | optional: shop, web, phone…                               |
| external_id | string    | optional: the source system's id of the transaction       |

What the analyses do with awkward rows (`transactions_clean`):
- rows dated after `now` (clock errors, pre-orders) are dropped;
- rows repeating an `external_id` already seen (a file imported twice) are dropped,
  keeping the earliest; rows without an external id are all kept;
- refunds (negative amounts) lower revenue and profit but are not purchases;
- zero amounts (orders paid with points, free samples) are purchases with no spend:
  they count as a visit in frequency and recency, and as 0 in the spend per visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

REQUIRED = ("customer_id", "at", "amount")


def connect(*, url: str | None = None) -> ibis.BaseBackend:
    """An Ibis connection: DuckDB in memory by default, or any Ibis URL
    (`duckdb:///path.duckdb`, `postgres://user:pass@host:port/db`)."""
    if url is None:
        return ibis.duckdb.connect()
    return ibis.connect(url)


def transactions_read(*, path: str | Path, con: ibis.BaseBackend | None = None) -> ir.Table:
    """A CSV or Parquet file as a transactions table, read in place (nothing is loaded
    into Python). Missing optional columns are added as nulls."""
    return transactions_table(table=table_read(path=path, con=con or connect()))


def table_read(*, path: str | Path, con: ibis.BaseBackend) -> ir.Table:
    """A CSV or Parquet file as a table of the connection, read in place."""
    path = str(path)
    if path.endswith(".parquet") or path.endswith(".pq"):
        return con.read_parquet(path)
    return con.read_csv(path)


def transactions_table(*, table: ir.Table) -> ir.Table:
    """The table with the expected columns and types; missing optional columns as nulls."""
    missing = [name for name in REQUIRED if name not in table.columns]
    if missing:
        raise ValueError(f"transactions need the columns {', '.join(missing)}")
    columns = {
        "customer_id": table.customer_id,
        "at": table.at.cast("timestamp"),
        "amount": table.amount.cast("float64"),
        "cost": table.cost.cast("float64") if "cost" in table.columns else ibis.null("float64"),
    }
    for name in ("category", "channel", "external_id"):
        columns[name] = table[name].cast("string") if name in table.columns else ibis.null("str")
    return table.select(**columns)


def _end_of_day(now: dt.date | dt.datetime) -> dt.datetime:
    """`now` as a moment: a date means the whole of that day is observed."""
    if isinstance(now, dt.datetime):
        return now.replace(tzinfo=None)
    return dt.datetime.combine(now, dt.time.max)


def transactions_clean(*, table: ir.Table, now: dt.date | dt.datetime) -> ir.Table:
    """The rows the analyses use: none after `now`, one per external id (see module doc)."""
    has_ids = "external_id" in table.columns
    table = transactions_table(table=table)
    table = table.filter(table.at <= _end_of_day(now))
    if not has_ids:  # spares a sort of the whole table
        return table
    seen = ibis.row_number().over(
        group_by=table.external_id, order_by=[table.at, table.amount, table.customer_id]
    )
    table = table.mutate(_seen=seen)
    return table.filter(table.external_id.isnull() | (table._seen == 0)).drop("_seen")


@dataclass(frozen=True)
class TransactionCounts:
    """What `transactions_clean` will keep and drop, for a report to the analyst."""

    rows: int
    future: int
    duplicates: int
    refunds: int
    zero_amounts: int
    without_cost: int
    kept: int


def transactions_check(*, table: ir.Table, now: dt.date | dt.datetime) -> TransactionCounts:
    """Counts of the awkward rows, in two queries wherever the table lives."""
    table = transactions_table(table=table)
    future = table.at > _end_of_day(now)
    raw = table.aggregate(
        rows=table.count(),
        future=future.sum(),
    ).execute()
    clean = transactions_clean(table=table, now=now)
    counts = clean.aggregate(
        kept=clean.count(),
        refunds=(clean.amount < 0).sum(),
        zero_amounts=(clean.amount == 0).sum(),
        without_cost=clean.cost.isnull().sum(),
    ).execute()
    rows, future_rows = int(raw["rows"][0]), int(raw["future"][0] or 0)
    kept = int(counts["kept"][0])
    return TransactionCounts(
        rows=rows,
        future=future_rows,
        duplicates=rows - future_rows - kept,
        refunds=int(counts["refunds"][0] or 0),
        zero_amounts=int(counts["zero_amounts"][0] or 0),
        without_cost=int(counts["without_cost"][0] or 0),
        kept=kept,
    )
