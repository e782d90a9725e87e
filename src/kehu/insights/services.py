"""Writes of customer value: the refresh that scores every customer (domain §6).

A refresh reads all transactions in one bulk read, computes with kehu.analytics on DuckDB
in the process (the same code runs on PostgreSQL where the data live) and writes every
customer's scores set-based, in one transaction: either all customers get the new
scores or none do.

Per customer: profitability tier (customers with no known cost have none), ABC class by
revenue, RFM scores and segment, BG/NBD expected purchases in `horizon_days` and the
probability of still being a customer, Gamma-Gamma lifetime value over `clv_months`
months of 30 days discounted at `discount_rate` per month, and the churn risk:

    A customer is at churn risk when she was a frequent buyer (at least 3 purchase
    days), the probability that she is still a customer is below `churn_threshold`
    (0.5 by default), and she has been silent for longer than her own usual gap
    between purchases ((last − first purchase day) / repeat purchases).

The first two conditions come from BG/NBD; the third keeps a buyer who is merely on a
long but usual pause for her off the list, and says in days what the agent can check.
When the models cannot be fitted (too few repeat buyers), the predictions and the churn
risk are left empty and the refresh's note says why.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.db import write_turn
from kehu.insights import selectors
from kehu.insights.models import CustomerValue, ValueChange, ValueRefresh
from kehu.users.models import User

MIN_PURCHASES_FOR_CHURN = 3
MONTH_DAYS = 30
MAX_MONEY = 999_999_999_999.99
WRITE_BATCH = 2000


def _money(value: float | None) -> Decimal | None:
    if value is None or not math.isfinite(value):
        return None
    return Decimal(f"{max(-MAX_MONEY, min(MAX_MONEY, value)):.2f}")


def _check(
    *,
    as_of: date,
    today: date,
    horizon_days: int,
    clv_months: int,
    discount_rate: float,
    churn_threshold: float,
) -> None:
    errors = {}
    if as_of > today:
        errors["as_of"] = _("The analysis date may not be in the future.")
    if not 1 <= horizon_days <= 3660:
        errors["horizon_days"] = _("The horizon is from 1 to 3660 days.")
    if not 0 <= clv_months <= 120:
        errors["clv_months"] = _("Lifetime value covers 0 to 120 months.")
    if not 0 <= discount_rate < 1:
        errors["discount_rate"] = _("The discount rate per month is from 0 up to 1.")
    if not 0 < churn_threshold < 1:
        errors["churn_threshold"] = _("The churn threshold is a probability between 0 and 1.")
    if errors:
        raise ValidationError(errors)


def value_scores(
    *,
    transactions: pa.Table,
    as_of: date,
    horizon_days: int,
    clv_months: int,
    discount_rate: float,
    churn_threshold: float,
) -> tuple[dict[int, dict], dict, str]:
    """Every customer's scores from a transactions table (kehu.analytics' layout): per
    customer id a dict of the CustomerValue fields, the fitted parameters, and a note
    saying which predictions are missing and why."""
    from kehu import analytics

    con = analytics.connect()
    table = analytics.transactions_table(table=con.create_table("transactions", transactions))
    summary = con.create_table("summary", analytics.customer_summary(transactions=table, now=as_of))
    scores: dict[int, dict] = {}
    facts = summary.select("customer_id", "purchases", "revenue", "profit", "days_since_last")
    for row in facts.to_pyarrow().to_pylist():
        scores[row["customer_id"]] = {
            "purchases": row["purchases"],
            "revenue": _money(row["revenue"]) or Decimal("0.00"),
            "profit": _money(row["profit"]),
            "days_since_last": row["days_since_last"],
            "tier": "",
            "abc_class": "",
            "r": None,
            "f": None,
            "m": None,
            "segment": "",
            "expected_purchases": None,
            "probability_alive": None,
            "clv": None,
            "churn_risk": False,
        }
    data = analytics.model_inputs(summary=summary)
    ids, x, t_x, spend = (
        data["customer_id"],
        data["frequency"],
        data["recency"],
        data["monetary_value"],
    )
    # The models run in a thread (NumPy and compiled loops, outside the GIL) while
    # DuckDB answers the queries below on the other core.
    with ThreadPoolExecutor(max_workers=1) as pool:
        predicting = pool.submit(
            analytics.predictions_compute,
            frequency=x,
            recency=t_x,
            T=data["T"],
            monetary_value=spend,
            horizon=horizon_days,
            periods=clv_months,
            period_length=MONTH_DAYS,
            discount_rate=discount_rate,
        )
        for row in analytics.rfm_scores(summary=summary).to_pyarrow().to_pylist():
            scores[row["customer_id"]].update(
                r=row["r"], f=row["f"], m=row["m"], segment=row["segment"]
            )
        for row in analytics.abc_classes(summary=summary).to_pyarrow().to_pylist():
            scores[row["customer_id"]]["abc_class"] = row["class"]
        for row in analytics.profit_tiers(summary=summary).to_pyarrow().to_pylist():
            scores[row["customer_id"]]["tier"] = row["tier"]
        try:
            predicted = predicting.result()
        except ValueError as error:
            note = _("Purchases not predicted: %(why)s") % {"why": error}
            return scores, {}, note

    alive, expected, value = predicted.alive, predicted.expected, predicted.clv
    purchases_model = predicted.purchases
    parameters: dict = {
        "bgnbd": {
            "r": purchases_model.r,
            "alpha_days": purchases_model.alpha,
            "a": purchases_model.a,
            "b": purchases_model.b,
        }
    }
    notes = []
    if predicted.spend is not None:
        parameters["gamma_gamma"] = {
            "p": predicted.spend.p,
            "q": predicted.spend.q,
            "gamma": predicted.spend.gamma,
        }
    if predicted.clv_error:
        notes.append(_("Lifetime value not computed: %(why)s") % {"why": predicted.clv_error})
    # A fit at the edge of its parameters can leave single predictions undefined: those
    # are stored empty, not as NaN, and counted in the note.
    unknown = int((~np.isfinite(expected)).sum())
    if unknown:
        notes.append(
            _("Expected purchases could not be computed for %(n)d customers.") % {"n": unknown}
        )
    usual_gap = np.divide(t_x, x, out=np.full(len(x), np.inf), where=x > 0)
    for i, customer_id in enumerate(ids.tolist()):
        row = scores[customer_id]
        row["probability_alive"] = float(alive[i])
        row["expected_purchases"] = float(expected[i]) if np.isfinite(expected[i]) else None
        row["clv"] = _money(float(value[i]))
        row["churn_risk"] = bool(
            x[i] + 1 >= MIN_PURCHASES_FOR_CHURN
            and alive[i] < churn_threshold
            and row["days_since_last"] > usual_gap[i]
        )
    return scores, parameters, " ".join(notes)


def value_refresh(
    *,
    as_of: date | None = None,
    horizon_days: int | None = None,
    clv_months: int | None = None,
    discount_rate: float | None = None,
    churn_threshold: float | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> ValueRefresh:
    """Scores every customer with transactions (see the module doc) and keeps, per
    customer, the previous refresh's tier, segment, lifetime value and churn risk; a
    customer whose tier, segment or churn risk moved gets a ValueChange. Parameters left
    out come from settings; `as_of` defaults to today. The computation runs before the
    write transaction opens, so the database is locked only while the rows are written."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    as_of = as_of or today
    horizon_days = settings.KEHU_VALUE_HORIZON_DAYS if horizon_days is None else horizon_days
    clv_months = settings.KEHU_VALUE_CLV_MONTHS if clv_months is None else clv_months
    discount_rate = settings.KEHU_VALUE_DISCOUNT_RATE if discount_rate is None else discount_rate
    churn_threshold = (
        settings.KEHU_VALUE_CHURN_THRESHOLD if churn_threshold is None else churn_threshold
    )
    _check(
        as_of=as_of,
        today=today,
        horizon_days=horizon_days,
        clv_months=clv_months,
        discount_rate=discount_rate,
        churn_threshold=churn_threshold,
    )
    transactions = selectors.transactions_arrow(end=as_of)
    scores, parameters, note = value_scores(
        transactions=transactions,
        as_of=as_of,
        horizon_days=horizon_days,
        clv_months=clv_months,
        discount_rate=discount_rate,
        churn_threshold=churn_threshold,
    )
    with write_turn(connection), transaction.atomic():
        _refreshes_take_turns()
        refresh = ValueRefresh.objects.create(
            at=now,
            as_of=as_of,
            horizon_days=horizon_days,
            clv_months=clv_months,
            discount_rate=Decimal(f"{discount_rate:.4f}"),
            churn_threshold=churn_threshold,
            transactions=transactions.num_rows,
            customers=len(scores),
            parameters=parameters,
            note=note[:300],
            actor=actor,
        )
        before = {
            row[0]: row[1:]
            for row in CustomerValue.objects.values_list(
                "customer_id", "refresh_id", "tier", "segment", "clv", "churn_risk"
            ).iterator(chunk_size=selectors.READ_CHUNK)
        }
        values, changes = [], []
        for customer_id, fields in scores.items():
            value = CustomerValue(customer_id=customer_id, refresh=refresh, **fields)
            if customer_id in before:
                refresh_id, tier, segment, clv, churn_risk = before[customer_id]
                value.previous_refresh_id = refresh_id
                value.previous_tier, value.previous_segment = tier, segment
                value.previous_clv, value.previous_churn_risk = clv, churn_risk
                if value.moved:
                    changes.append(
                        ValueChange(
                            refresh=refresh,
                            customer_id=customer_id,
                            tier_from=tier,
                            tier_to=value.tier,
                            segment_from=segment,
                            segment_to=value.segment,
                            churn_risk_from=churn_risk,
                            churn_risk_to=value.churn_risk,
                            clv_from=clv,
                            clv_to=value.clv,
                        )
                    )
            values.append(value)
        CustomerValue.objects.all().delete()
        CustomerValue.objects.bulk_create(values, batch_size=WRITE_BATCH)
        ValueChange.objects.bulk_create(changes, batch_size=WRITE_BATCH)
    return refresh


# Any constant, the same in every process: the key of PostgreSQL's lock for refreshes.
_REFRESH_LOCK = 0x6B656875  # "kehu"


def _refreshes_take_turns() -> None:
    """Two refreshes at once write one after the other, the second on top of the first.

    Otherwise, on PostgreSQL, the second's delete would not see the scores the first was
    inserting, and its own inserts would then fail on them. (On SQLite the write lock,
    taken in turn by write_turn, already makes them wait.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK])
