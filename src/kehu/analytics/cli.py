"""`kehu analyze summary|rfm|pareto|clv|relationships|movement IN OUT`: the analyses on
files, for analysts.

IN is a CSV or Parquet file of transactions (see kehu.analytics.transactions); OUT is
written as Parquet when it ends in .parquet, else as CSV. Runs on DuckDB in the process;
no database, no Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from kehu import analytics
from kehu.analytics.transactions import table_read

app = typer.Typer(help="Customer value analyses on CSV or Parquet files.", no_args_is_help=True)
console = Console()

In = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="Transactions, .csv or .parquet.")
]
Out = Annotated[Path, typer.Argument(dir_okay=False, help="Where to write (.parquet, else CSV).")]
Now = Annotated[
    str | None,
    typer.Option(help="End of the observation (YYYY-MM-DD; default today): later rows dropped."),
]


class Unit(StrEnum):
    days = "days"
    weeks = "weeks"


class Measure(StrEnum):
    revenue = "revenue"
    profit = "profit"


class Steps:
    """A progress bar over the named steps of one analysis."""

    def __init__(self, progress: Progress, names: list[str]) -> None:
        self.progress, self.names = progress, names
        self.task = progress.add_task(names[0], total=len(names))

    def next(self) -> None:
        done = int(self.progress.tasks[0].completed) + 1
        name = self.names[done] if done < len(self.names) else "done"
        self.progress.update(self.task, completed=done, description=name)


@contextmanager
def steps(*names: str) -> Iterator[Steps]:
    progress = Progress(
        "[progress.description]{task.description:<28}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        yield Steps(progress, list(names))


def _now(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date: {value!r} (YYYY-MM-DD)") from None


def _write(table: pa.Table, path: Path) -> None:
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)


def _summary(
    path: Path, now: dt.date, unit: str = "days", service_costs: Path | None = None, con=None
):
    """The summary, computed once into a DuckDB table, and what was dropped on the way."""
    con = con or analytics.connect()
    try:
        transactions = analytics.transactions_read(path=path, con=con)
        counts = analytics.transactions_check(table=transactions, now=now)
        summary = analytics.customer_summary(
            transactions=transactions,
            now=now,
            unit=unit,
            service_costs=(table_read(path=service_costs, con=con) if service_costs else None),
        )
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    return con.create_table("summary", summary, overwrite=True), counts


def _sizes(result: pa.Table, column: str) -> None:
    """How many customers fell in each value of the column, largest first."""
    sizes: dict[str, int] = {}
    for name in result.column(column).to_pylist():
        sizes[name] = sizes.get(name, 0) + 1
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        console.print(f"  {name:22} {size:>10,}")


def _report(counts: analytics.TransactionCounts) -> None:
    console.print(
        f"Rows: {counts.rows:,}  kept: {counts.kept:,}  after now: {counts.future:,}  "
        f"duplicate ids: {counts.duplicates:,}  refunds: {counts.refunds:,}  "
        f"zero amounts: {counts.zero_amounts:,}  without cost: {counts.without_cost:,}"
    )


@app.command()
def summary(
    source: In,
    out: Out,
    now: Now = None,
    unit: Annotated[Unit, typer.Option(help="Unit of recency and T.")] = Unit.days,
    service_costs: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Cost to serve: a CSV or Parquet file of customer_id, cost (cases, visits, "
            "calls); profit then deducts it.",
        ),
    ] = None,
) -> None:
    """Per customer: frequency, recency, T, monetary value, revenue, refunds, profit."""
    with steps("read and check", "summarise", "write") as step:
        table, counts = _summary(source, _now(now), unit.value, service_costs)
        step.next()
        result = table.order_by("customer_id").to_pyarrow()
        step.next()
        _write(result, out)
        step.next()
    _report(counts)
    console.print(f"Wrote {result.num_rows:,} customers to {out}")


@app.command()
def rfm(source: In, out: Out, now: Now = None) -> None:
    """Per customer: R, F and M scores (1 to 5) and the segment."""
    with steps("read and summarise", "score", "write") as step:
        table, counts = _summary(source, _now(now))
        step.next()
        result = analytics.rfm_scores(summary=table).order_by("customer_id").to_pyarrow()
        step.next()
        _write(result, out)
        step.next()
    _report(counts)
    _sizes(result, "segment")
    console.print(f"Wrote {result.num_rows:,} customers to {out}")


@app.command()
def pareto(
    source: In,
    out: Out,
    now: Now = None,
    measure: Annotated[Measure, typer.Option(help="Rank customers by this.")] = Measure.revenue,
    points: Annotated[int, typer.Option(min=1, help="Points of the curve written.")] = 100,
    top: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers read as the top.")
    ] = 0.2,
) -> None:
    """The Pareto curve (the whale curve for profit) as points, and its reading."""
    with steps("read and summarise", "rank", "write") as step:
        table, counts = _summary(source, _now(now))
        step.next()
        try:
            curve = analytics.pareto_curve(summary=table, measure=measure, points=points)
            share = analytics.top_share(summary=table, top=top, measure=measure)
            whale = analytics.whale_reading(summary=table, top=top) if measure == "profit" else None
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(2) from None
        step.next()
        _write(
            pa.table(
                {
                    "customers": [point.customers for point in curve],
                    measure.value: [point.value for point in curve],
                }
            ),
            out,
        )
        step.next()
    _report(counts)
    console.print(f"The top {top:.0%} of customers bring {share:.1%} of {measure}.")
    if whale is not None:
        console.print(
            f"Whale curve: peak {whale.peak_share:.0%} of profit at {whale.peak_customers:.0%}"
            f" of customers; the bottom {whale.bottom:.0%} bring {whale.bottom_profit_share:+.1%}"
            f" ({whale.bottom_loss_of_top:.0%} of what the top earns is lost on them)."
        )
    console.print(f"Wrote {len(curve)} points to {out}")


@app.command()
def clv(
    source: In,
    out: Out,
    now: Now = None,
    horizon: Annotated[float, typer.Option(min=0, help="Days ahead for purchases.")] = 90,
    months: Annotated[int, typer.Option(min=0, help="Months of value (30 days each).")] = 12,
    discount: Annotated[float, typer.Option(help="Discount rate per month.")] = 0.01,
) -> None:
    """Per customer: P(alive), expected purchases, expected spend and CLV (BG/NBD and
    Gamma-Gamma fitted on the file, in days)."""
    with steps("read and summarise", "fit both models and predict", "write") as step:
        table, counts = _summary(source, _now(now))
        data = analytics.model_inputs(summary=table)
        step.next()
        x, t_x, big_t, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
        given = {"frequency": x, "recency": t_x, "T": big_t}
        try:
            predicted = analytics.predictions_compute(
                **given,
                monetary_value=m,
                horizon=horizon,
                periods=months,
                period_length=30,
                discount_rate=discount,
            )
            if predicted.clv_error:
                raise ValueError(predicted.clv_error)
            purchases, spend = predicted.purchases, predicted.spend
            per_purchase = analytics.expected_spend(model=spend, frequency=x, monetary_value=m)
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(2) from None
        result = pa.table(
            {
                "customer_id": data["customer_id"],
                **given,
                "monetary_value": m,
                "probability_alive": predicted.alive,
                f"purchases_next_{horizon:g}_days": predicted.expected,
                "expected_spend": per_purchase,
                "clv": predicted.clv,
            }
        )
        step.next()
        _write(result, out)
        step.next()
    _report(counts)
    console.print(
        f"BG/NBD r={purchases.r:.4g} α={purchases.alpha:.4g} days a={purchases.a:.4g} "
        f"b={purchases.b:.4g}; Gamma-Gamma p={spend.p:.4g} q={spend.q:.4g} γ={spend.gamma:.4g}"
    )
    console.print(f"Wrote {result.num_rows:,} customers to {out}")


@app.command()
def relationships(
    source: In,
    out: Out,
    now: Now = None,
    volume_top: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers counted as high volume.")
    ] = 0.2,
    repeat_purchases: Annotated[
        int, typer.Option(min=1, help="Purchase days a loyal customer has at least.")
    ] = 3,
    categories: Annotated[
        int, typer.Option(min=1, help="Categories a loyal customer bought at least.")
    ] = 2,
) -> None:
    """Per customer: relationship type (partner, functional, emotional, drifting)."""
    with steps("read and summarise", "classify", "write") as step:
        con = analytics.connect()
        table, counts = _summary(source, _now(now), con=con)
        step.next()
        transactions = analytics.transactions_read(path=source, con=con)
        result = (
            analytics.relationship_types(
                summary=table,
                transactions=transactions,
                now=_now(now),
                volume_top=volume_top,
                repeat_purchases=repeat_purchases,
                categories=categories,
            )
            .order_by("customer_id")
            .to_pyarrow()
        )
        step.next()
        _write(result, out)
        step.next()
    _report(counts)
    _sizes(result, "relationship")
    console.print(f"Wrote {result.num_rows:,} customers to {out}")


@app.command()
def movement(
    source: In,
    out: Out,
    split: Annotated[str, typer.Option(help="First day of the second period (YYYY-MM-DD).")],
    now: Now = None,
    measure: Annotated[Measure, typer.Option(help="Rank customers by this.")] = Measure.revenue,
    top: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers counted as the top.")
    ] = 0.2,
) -> None:
    """Key-account movement: who rose, who fell, who entered or left the top, between the
    period before SPLIT and the period from SPLIT to NOW."""
    end, start = _now(now), _now(split)
    if start > end:
        raise typer.BadParameter("split must not be after now")
    with steps("read and summarise", "compare", "write") as step:
        con = analytics.connect()
        try:
            transactions = analytics.transactions_read(path=source, con=con)
            day = transactions.at.date()
            before = analytics.customer_summary(
                transactions=transactions.filter(day < start),
                now=start - dt.timedelta(days=1),
            )
            after = analytics.customer_summary(
                transactions=transactions.filter(day >= start), now=end
            )
            step.next()
            result = (
                analytics.key_account_movement(before=before, after=after, top=top, measure=measure)
                .order_by("customer_id")
                .to_pyarrow()
            )
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(2) from None
        step.next()
        _write(result, out)
        step.next()
    _sizes(result, "movement")
    console.print(f"Wrote {result.num_rows:,} customers to {out}")
