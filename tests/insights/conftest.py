"""A small sales history, in the database and as the DataFrame kehu.analytics reads."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from kehu.customers.services import customer_create
from kehu.sales.models import Transaction

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 11, 1)


def _history() -> dict[str, list[tuple[datetime, str, Decimal, Decimal | None]]]:
    """Per customer name: (local time, kind, amount, cost). The named ones are checked by
    hand; the others give the models enough customers to fit."""
    at = lambda *args: datetime(*args)  # noqa: E731
    rows = {
        # Bought every ten days in early 2025, then nothing: at churn risk.
        "常客走了": [
            (at(2025, 1, 5) + timedelta(days=10 * i), "purchase", Decimal(200), Decimal(120))
            for i in range(8)
        ],
        # Buys every month, last on 16 October: not at risk.
        "月月来": [
            (at(2025, 11, 20, 10) + timedelta(days=30 * i), "purchase", Decimal(150), Decimal(90))
            for i in range(12)
        ],
        # Once, near midnight: 23:30 on 1 March is 1 March in Shanghai, 15:30 UTC.
        "一次": [(at(2026, 3, 1, 23, 30), "purchase", Decimal(80), Decimal(50))],
        # Bought at a loss, and sent some back.
        "亏本": [
            (at(2026, 2, 1, 0, 30), "purchase", Decimal(100), Decimal(180)),
            (at(2026, 5, 1, 9), "purchase", Decimal(100), Decimal(180)),
            (at(2026, 5, 3, 9), "refund", Decimal(40), None),
        ],
        # No cost known: no tier.
        "无成本": [
            (at(2026, 6, 1, 9), "purchase", Decimal(60), None),
            (at(2026, 9, 1, 9), "purchase", Decimal(70), None),
        ],
    }
    # Half stay and keep buying at their own pace, half leave after a few purchases: the
    # spread of dropout BG/NBD needs to fit something other than its parameters' edge.
    rng = random.Random(11)
    for n in range(30):
        day = at(2025, 1, 1, 12) + timedelta(days=rng.randrange(0, 300))
        gap = rng.randrange(10, 60)
        visits = []
        for _ in range(40 if n % 2 else rng.randrange(1, 4)):
            if day.date() > AS_OF:
                break
            amount = Decimal(rng.randrange(20, 400))
            visits.append(
                (day, "purchase", amount, (amount * Decimal("0.7")).quantize(Decimal("0.01")))
            )
            day += timedelta(days=gap + rng.randrange(-5, 6))
        rows[f"客户{n:02d}"] = visits
    return rows


HISTORY = _history()


@pytest.fixture
def sales(supervisor):
    """The history recorded: {name: Customer}."""
    customers = {}
    records = []
    for name, visits in HISTORY.items():
        customer = customer_create(actor=supervisor, kind="individual", name=name)
        customers[name] = customer
        for i, (local, kind, amount, cost) in enumerate(visits):
            records.append(
                Transaction(
                    customer=customer,
                    kind=kind,
                    amount=amount,
                    cost=cost,
                    occurred_at=local.replace(tzinfo=SHANGHAI),
                    external_id=f"{customer.pk}-{i}",
                )
            )
    Transaction.objects.bulk_create(records)
    return customers


def history_frame(customers) -> pd.DataFrame:
    """The same history as a transactions table written by hand: local times, refunds
    negative."""
    rows = []
    for name, visits in HISTORY.items():
        for local, kind, amount, cost in visits:
            sign = -1 if kind == "refund" else 1
            rows.append(
                {
                    "customer_id": customers[name].pk,
                    "at": local,
                    "amount": sign * float(amount),
                    "cost": None if cost is None else sign * float(cost),
                }
            )
    return pd.DataFrame(rows)


def scores_store(customer, *, previous: dict | None = None, **fields):
    """A stored score for display tests, as a refresh would have written it."""
    from django.utils import timezone

    from kehu.insights.models import CustomerValue, ValueRefresh

    def refresh(as_of):
        return ValueRefresh.objects.create(
            at=timezone.now(),
            as_of=as_of,
            horizon_days=90,
            clv_months=12,
            discount_rate=Decimal("0.01"),
            churn_threshold=0.5,
            transactions=10,
            customers=1,
        )

    values = {
        "purchases": 5,
        "revenue": Decimal(1000),
        "profit": Decimal(300),
        "days_since_last": 40,
        "tier": "most_profitable",
        "abc_class": "A",
        "r": 2,
        "f": 5,
        "m": 5,
        "segment": "cannot_lose",
        "expected_purchases": 0.4,
        "probability_alive": 0.23,
        "clv": Decimal("1234.50"),
        "churn_risk": True,
    } | fields
    if previous is not None:
        values |= {f"previous_{k}": v for k, v in previous.items()}
        values["previous_refresh"] = refresh(date(2026, 10, 1))
    return CustomerValue.objects.update_or_create(
        customer=customer, defaults={"refresh": refresh(AS_OF), **values}
    )[0]
