"""Customer value analytics benchmark: kehu.analytics against lifetimes (issue 6).

Prints figures and a PASS/FAIL line per target; never asserts. See benchmarks/README.md.

    .venv/bin/python benchmarks/analytics.py                       # 10,000,000 / 1,000,000
    .venv/bin/python benchmarks/analytics.py --transactions 1000000 --customers 100000
    .venv/bin/python benchmarks/analytics.py --transactions 100000000   # streamed; peak memory
"""

import argparse
import datetime as dt
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ibis
import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE.parent / "src"))

from kehu import analytics  # noqa: E402

NOW = dt.date(2026, 1, 1)
SPEED_TARGET = 10.0  # kehu end to end vs lifetimes' part of the same work
PARETO_TARGET = 20.0  # Pareto/NBD fit vs lifetimes' ParetoNBDFitter


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="kehu.analytics against lifetimes")
    parser.add_argument(
        "--transactions", type=int, default=10_000_000, help="rows to generate (default 10,000,000)"
    )
    parser.add_argument(
        "--customers", type=int, default=0, help="customers (default: transactions / 10)"
    )
    parser.add_argument(
        "--lifetimes-customers",
        type=int,
        default=100_000,
        help="lifetimes runs on a sample of this many customers (with all "
        "their transactions) and its time is extrapolated; 0: all",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--skip-lifetimes", action="store_true")
    return parser.parse_args()


def parquet_file(transactions: int, customers: int, seed: int) -> Path:
    """Generated once per size and seed by DuckDB, kept in benchmarks/.work/.

    Every customer has a first day, a lifetime and a spending level drawn from hashes of
    her id; her rows fall uniformly in her lifetime (a Poisson process given its count):
    40% of customers leave early, the others are still buying at the end. Ids are skewed
    (a few customers buy very often), so frequency, revenue and profit are uneven. About
    1% of rows are refunds, 0.5% zero amounts; cost is 50–105% of the amount, so about
    one customer in eleven loses money. Every row has a distinct external id.
    """
    import duckdb

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"transactions-{transactions}-{customers}-{seed}.parquet"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")

    def uniform(expression: str, salt: int) -> str:
        return f"((hash({expression}, {seed * 100 + salt}) % 1000000007) / 1000000007.0)"

    span_days = 3 * 365
    sql = f"""
    COPY (
      WITH rows AS (
        SELECT i,
          CASE WHEN i < {customers} THEN i
               ELSE CAST(floor({customers} * pow({uniform("i", 1)}, 2.5)) AS BIGINT)
          END AS customer_id,
          {uniform("i", 2)} AS u_when, {uniform("i", 3)} AS u_amount,
          {uniform("i", 4)} AS u_kind, {uniform("i", 5)} AS u_label
        FROM range({transactions}) AS r(i)
      ), customers AS (
        SELECT *,
          {uniform("customer_id", 11)} * {span_days} AS first_day,
          {uniform("customer_id", 12)} AS u_life,
          {uniform("customer_id", 13)} AS u_level,
          {uniform("customer_id", 14)} AS u_margin
        FROM rows
      ), priced AS (
        SELECT *,
          round(exp(2.5 + 2.0 * u_level + 0.8 * (u_amount - 0.5)), 2) AS price,
          -- 40% of customers leave within weeks or months, the others stay to the end.
          first_day + ({span_days} - first_day) * u_when
            * CASE WHEN u_life < 0.4 THEN u_life / 0.4 * 0.2 ELSE 1.0 END AS day
        FROM customers
      )
      SELECT customer_id,
        TIMESTAMP '{NOW - dt.timedelta(days=span_days)}'
          + to_seconds(CAST(day * 86400 AS BIGINT)) AS at,
        CASE WHEN u_kind < 0.01 THEN -price WHEN u_kind < 0.015 THEN 0.0 ELSE price END
          AS amount,
        round(CASE WHEN u_kind < 0.01 THEN -price WHEN u_kind < 0.015 THEN 0.0 ELSE price END
          * (0.5 + 0.55 * u_margin), 2) AS cost,
        ['tea', 'porcelain', 'silk', 'gifts', 'books'][1 + CAST(u_label * 5 AS INT)] AS category,
        ['shop', 'web', 'phone'][1 + CAST(u_margin * 3 AS INT)] AS channel,
        'T' || i AS external_id
      FROM priced
    ) TO '{partial}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """
    started = time.perf_counter()
    duckdb.sql(sql)
    partial.rename(path)
    print(f"generated {path.relative_to(HERE.parent)} in {time.perf_counter() - started:.1f} s")
    return path


class Clock:
    """Named laps, printed as they finish."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.laps: dict[str, float] = {}
        self.cpu_laps: dict[str, float] = {}
        self.last, self.last_cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.laps[name], self.cpu_laps[name] = now - self.last, cpu - self.last_cpu
        self.last, self.last_cpu = now, cpu
        print(
            f"  {self.label:9} {name:40} {self.laps[name]:8.2f} s  (CPU "
            f"{self.cpu_laps[name]:7.2f} s)",
            flush=True,
        )

    @property
    def total(self) -> float:
        return sum(self.laps.values())

    @property
    def cpu(self) -> float:
        """CPU seconds of this process (all its threads): less at the mercy of other work
        on the machine than wall time; DuckDB's threads count, lifetimes has one."""
        return sum(self.cpu_laps.values())


def kehu_run(path: Path, *, customers_kept=None) -> tuple[Clock, dict]:
    """The whole kehu pipeline on DuckDB, from the Parquet file to every customer's CLV."""
    # Libraries are imported before the clock starts, as lifetimes_run imports pandas and
    # lifetimes before its clock: Ibis imports pandas on the first result it converts.
    import pandas  # noqa: F401

    clock = Clock("kehu")
    con = analytics.connect()
    # DuckDB streams the Parquet file through its aggregates; for 100,000,000 rows it may
    # spill to disk rather than hold every intermediate row, and need not keep row order.
    con.raw_sql(f"SET temp_directory = '{WORK / 'duckdb-spill'}'")
    con.raw_sql("SET preserve_insertion_order = false")
    transactions = analytics.transactions_read(path=path, con=con)
    if customers_kept is not None:
        kept = ibis.memtable({"customer_id": customers_kept})
        transactions = transactions.semi_join(kept, "customer_id")
    summary = con.create_table(
        "summary", analytics.customer_summary(transactions=transactions, now=NOW)
    )
    clock.lap("summary (days)")
    data = analytics.model_inputs(summary=summary)
    clock.lap("model inputs to NumPy")
    x, t_x, big_t, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]

    def predictions() -> tuple[analytics.Predictions, float]:
        started = time.perf_counter()
        return analytics.predictions_compute(
            frequency=x,
            recency=t_x,
            T=big_t,
            monetary_value=m,
            horizon=90,
            periods=12,
            period_length=30,
            discount_rate=0.01,
        ), time.perf_counter() - started

    # As the product's refresh does: the models in a thread while DuckDB answers the
    # queries on the summary.
    with ThreadPoolExecutor(max_workers=1) as pool:
        predicting = pool.submit(predictions)
        started = time.perf_counter()
        rfm = analytics.rfm_scores(summary=summary).to_pyarrow()
        shares = {
            "revenue": analytics.top_share(summary=summary, top=0.2),
            "profit": analytics.top_share(summary=summary, top=0.2, measure="profit"),
        }
        curve = analytics.pareto_curve(summary=summary, points=100)
        abc = analytics.abc_classes(summary=summary).to_pyarrow()
        whale = analytics.whale_reading(summary=summary)
        tiers = analytics.profit_tiers(summary=summary).to_pyarrow()
        queries = time.perf_counter() - started
        predicted, modelling = predicting.result()
    clock.lap("queries and models side by side")
    print(
        f"    of which: RFM, Pareto, ABC, whale, tiers {queries:.2f} s; BG/NBD and "
        f"Gamma-Gamma fits, P(alive), 90-day purchases, 12-month CLV {modelling:.2f} s"
    )
    purchases, spend = predicted.purchases, predicted.spend
    alive, future, clv = predicted.alive, predicted.expected, predicted.clv
    result = {
        "customer_id": data["customer_id"],
        "alive": alive,
        "future": future,
        "clv": clv,
        "purchases": purchases,
        "spend": spend,
        "shares": shares,
        "whale": whale,
        "rows": (rfm.num_rows, abc.num_rows, tiers.num_rows, len(curve)),
        "frequency": x,
        "recency": t_x,
        "T": big_t,
        "monetary_value": m,
    }
    con.disconnect()
    return clock, result


def lifetimes_run(path: Path, *, customers_kept=None) -> tuple[Clock, dict]:
    """lifetimes doing its part: summary from transactions, both fits, the predictions.

    lifetimes has no notion of refunds: it is given the purchases (amount >= 0), which
    is what kehu's frequency, recency and spend per purchase count."""
    import pandas as pd
    import pyarrow.parquet as pq
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    clock = Clock("lifetimes")
    filters = [("amount", ">=", 0.0)]
    if customers_kept is not None:
        filters.append(("customer_id", "in", list(customers_kept)))
    frame = pq.read_table(path, columns=["customer_id", "at", "amount"], filters=filters)
    frame = frame.to_pandas()
    clock.lap("read Parquet into pandas")
    summary = summary_data_from_transaction_data(
        frame,
        "customer_id",
        "at",
        monetary_value_col="amount",
        observation_period_end=pd.Timestamp(NOW),
        freq="D",
    )
    clock.lap("summary_data_from_transaction_data")
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary.frequency, summary.recency, summary["T"])
    clock.lap("BetaGeoFitter.fit")
    repeat = summary[(summary.frequency > 0) & (summary.monetary_value > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat.frequency, repeat.monetary_value)
    clock.lap("GammaGammaFitter.fit")
    x, t_x, big_t, m = summary.frequency, summary.recency, summary["T"], summary.monetary_value
    alive = bgf.conditional_probability_alive(x, t_x, big_t)
    future = bgf.conditional_expected_number_of_purchases_up_to_time(90, x, t_x, big_t)
    clv = ggf.customer_lifetime_value(bgf, x, t_x, big_t, m, time=12, discount_rate=0.01, freq="D")
    clock.lap("P(alive), 90-day purchases, 12-month CLV")
    return clock, {
        "customer_id": summary.index.to_numpy(),
        "alive": np.asarray(alive),
        "future": np.asarray(future),
        "clv": np.asarray(clv),
        "bgf": bgf,
        "ggf": ggf,
        "frequency": x.to_numpy(),
        "recency": t_x.to_numpy(),
        "T": big_t.to_numpy(),
        "monetary_value": m.to_numpy(),
    }


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))) if len(b) else 0.0


def compare(ours: dict, theirs: dict) -> bool:
    """Same customers, same summary, parameters to 4 significant digits, predictions."""
    order_ours = np.argsort(ours["customer_id"])
    order_theirs = np.argsort(theirs["customer_id"])
    same_customers = np.array_equal(
        ours["customer_id"][order_ours], theirs["customer_id"][order_theirs]
    )
    print(f"  same customers: {same_customers} ({len(order_ours):,} and {len(order_theirs):,})")
    if not same_customers:
        return False
    worst = {}
    for name in ("frequency", "recency", "T", "monetary_value", "alive", "future", "clv"):
        worst[name] = relative(ours[name][order_ours], theirs[name][order_theirs])
    p, g = ours["purchases"], ours["spend"]
    bgf, ggf = theirs["bgf"].params_, theirs["ggf"].params_
    pairs = {
        "r": (p.r, bgf["r"]),
        "alpha": (p.alpha, bgf["alpha"]),
        "a": (p.a, bgf["a"]),
        "b": (p.b, bgf["b"]),
        "p": (g.p, ggf["p"]),
        "q": (g.q, ggf["q"]),
        "gamma": (g.gamma, ggf["v"]),
    }
    for name, (a, b) in pairs.items():
        print(
            f"  {name:6} kehu {a:12.6g}  lifetimes {b:12.6g}  relative difference "
            f"{abs(a - b) / abs(b):.1e}"
        )
        worst[name] = abs(a - b) / abs(b)
    for name in ("frequency", "recency", "T", "monetary_value", "alive", "future", "clv"):
        print(f"  {name:14} largest relative difference per customer {worst[name]:.1e}")
    summary_same = max(worst[n] for n in ("frequency", "recency", "T", "monetary_value")) < 1e-9
    params_same = max(worst[n] for n in pairs) < 5e-5  # 4 significant digits
    predictions_same = max(worst[n] for n in ("alive", "future", "clv")) < 1e-3
    return summary_same and params_same and predictions_same


def pareto_nbd_section(inputs: dict) -> None:
    """Pareto/NBD fit time, kehu against lifetimes' ParetoNBDFitter, on the same customers
    (lifetimes' sample: its fit on a million customers would take hours)."""
    from lifetimes import ParetoNBDFitter

    x, t_x, big_t = inputs["frequency"], inputs["recency"], inputs["T"]
    print(f"Pareto/NBD on {len(x):,} customers (days):")
    started, cpu = time.perf_counter(), time.process_time()
    ours = analytics.pareto_nbd_fit(frequency=x, recency=t_x, T=big_t)
    our_time, our_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  kehu      {our_time:8.2f} s (CPU {our_cpu:.2f} s)")
    np.random.seed(6)  # lifetimes starts from a random point
    started, cpu = time.perf_counter(), time.process_time()
    theirs = ParetoNBDFitter(penalizer_coef=0.0).fit(x, t_x, big_t).params_
    their_time, their_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  lifetimes {their_time:8.2f} s (CPU {their_cpu:.2f} s)")
    for name, value in (("r", ours.r), ("alpha", ours.alpha), ("s", ours.s), ("beta", ours.beta)):
        print(
            f"  {name:6} kehu {value:12.6g}  lifetimes {theirs[name]:12.6g}  relative "
            f"difference {abs(value - theirs[name]) / abs(theirs[name]):.1e}"
        )
    # lifetimes' Nelder-Mead can stop early or wander where its A0 turns NaN: the
    # log-likelihood of both answers, computed the same (stable) way, says which is better.
    from kehu.analytics.pareto_nbd import _log_likelihood, _pairs

    customers = _pairs(*[np.asarray(v, dtype=float) for v in (x, t_x, big_t)])
    their_params = np.array([theirs[name] for name in ("r", "alpha", "s", "beta")])
    their_ll = _log_likelihood(their_params, customers, np.ones(len(customers.x)))
    print(f"  log-likelihood: kehu {ours.log_likelihood:.6f}, lifetimes' parameters {their_ll:.6f}")
    ratio = their_time / our_time
    print(
        f"{'PASS' if ratio >= PARETO_TARGET else 'FAIL'}: Pareto/NBD fit >= "
        f"{PARETO_TARGET:.0f}× faster than lifetimes: {ratio:.1f}×"
    )


def sample_ids(path: Path, count: int, seed: int) -> list[int]:
    import duckdb

    rows = duckdb.sql(
        f"SELECT DISTINCT customer_id FROM read_parquet('{path}') "
        f"ORDER BY hash(customer_id, {seed}) LIMIT {count}"
    ).fetchall()
    return sorted(row[0] for row in rows)


def main() -> None:
    args = parse_args()
    customers = args.customers or max(1, args.transactions // 10)
    path = parquet_file(args.transactions, customers, args.seed)
    print(f"{args.transactions:,} transactions, {customers:,} customers, now = {NOW}")

    clock, ours = kehu_run(path)
    p, g, w = ours["purchases"], ours["spend"], ours["whale"]
    print(
        f"kehu end to end: {clock.total:.2f} s (CPU {clock.cpu:.2f} s) for "
        f"{len(ours['customer_id']):,} buyers"
    )
    print(
        f"  top 20%: {ours['shares']['revenue']:.1%} of revenue, "
        f"{ours['shares']['profit']:.1%} of profit; whale: peak {w.peak_share:.0%} at "
        f"{w.peak_customers:.0%} of customers, bottom 30% {w.bottom_profit_share:+.1%}"
    )
    print(
        f"  BG/NBD r={p.r:.4g} α={p.alpha:.4g} days a={p.a:.4g} b={p.b:.4g}; "
        f"Gamma-Gamma p={g.p:.4g} q={g.q:.4g} γ={g.gamma:.4g}"
    )
    print(f"  mean P(alive) {ours['alive'].mean():.3f}, mean 12-month CLV {ours['clv'].mean():.2f}")
    print(
        f"  peak memory of this process so far: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    if args.skip_lifetimes:
        return

    sampled = 0 < args.lifetimes_customers < customers
    kept = sample_ids(path, args.lifetimes_customers, args.seed) if sampled else None
    if sampled:
        print(
            f"lifetimes on a sample of {len(kept):,} customers (with all their rows); "
            "its time is EXTRAPOLATED linearly to all customers"
        )
        sample_clock, sample_ours = kehu_run(path, customers_kept=kept)
    else:
        sample_ours = ours
    their_clock, theirs = lifetimes_run(path, customers_kept=kept)
    scale = customers / len(kept) if sampled else 1.0
    their_total = their_clock.total * scale
    label = (
        f"{their_clock.total:.2f} s × {scale:.1f} = {their_total:.2f} s (extrapolated)"
        if sampled
        else f"{their_total:.2f} s"
    )
    print(f"lifetimes: {label} (CPU {their_clock.cpu * scale:.2f} s)")
    ratio = their_total / clock.total
    print(
        f"ratio lifetimes / kehu end to end: {ratio:.1f}× wall time, "
        f"{their_clock.cpu * scale / clock.cpu:.1f}× CPU time"
    )
    if sampled:
        print(
            f"  on the sample itself: kehu {sample_clock.total:.2f} s, lifetimes "
            f"{their_clock.total:.2f} s, ratio {their_clock.total / sample_clock.total:.1f}×"
        )
    print("agreement on the same customers:")
    same = compare(sample_ours, theirs)
    print(f"  peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    pareto_nbd_section(theirs)

    full = args.transactions == 10_000_000 and customers == 1_000_000
    note = "" if full else " (the target is set for 10,000,000 / 1,000,000)"
    print(
        f"{'PASS' if ratio >= SPEED_TARGET else 'FAIL'}: end to end >= {SPEED_TARGET:.0f}× "
        f"faster than lifetimes: {ratio:.1f}×{note}"
    )
    print(
        f"{'PASS' if same else 'FAIL'}: same numbers as lifetimes (summary exact, "
        "parameters to 4 significant digits, predictions to 1e-3)"
    )


if __name__ == "__main__":
    main()
