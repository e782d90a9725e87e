"""The refresh: every customer's scores stored, as kehu.analytics computes them."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu import analytics
from kehu.insights import services
from kehu.insights.models import CustomerValue, Segment, Tier, ValueChange, ValueRefresh
from kehu.sales.models import Transaction
from tests.insights.conftest import AS_OF, SHANGHAI, history_frame

pytestmark = pytest.mark.django_db


def _pure(customers, *, horizon=90, months=12, discount=0.01):
    """The scores computed straight from the hand-written frame with kehu.analytics."""
    con = analytics.connect()
    table = analytics.transactions_table(table=con.create_table("t", history_frame(customers)))
    summary = con.create_table("s", analytics.customer_summary(transactions=table, now=AS_OF))
    rows = {r["customer_id"]: r for r in summary.to_pyarrow().to_pylist()}
    for r in analytics.rfm_scores(summary=summary).to_pyarrow().to_pylist():
        rows[r["customer_id"]] |= {"r": r["r"], "f": r["f"], "m": r["m"], "segment": r["segment"]}
    for r in analytics.profit_tiers(summary=summary).to_pyarrow().to_pylist():
        rows[r["customer_id"]]["tier"] = r["tier"]
    for r in analytics.abc_classes(summary=summary).to_pyarrow().to_pylist():
        rows[r["customer_id"]]["abc"] = r["class"]
    data = analytics.model_inputs(summary=summary)
    given = {"frequency": data["frequency"], "recency": data["recency"], "T": data["T"]}
    bg = analytics.bgnbd_fit(**given)
    gg = analytics.gamma_gamma_fit(
        frequency=data["frequency"], monetary_value=data["monetary_value"]
    )
    alive = analytics.probability_alive(model=bg, **given)
    expected = analytics.expected_purchases(model=bg, horizon=horizon, **given)
    clv = analytics.customer_lifetime_value(
        purchases_model=bg,
        spend_model=gg,
        monetary_value=data["monetary_value"],
        periods=months,
        period_length=30,
        discount_rate=discount,
        **given,
    )
    for i, customer_id in enumerate(data["customer_id"].tolist()):
        rows[customer_id] |= {"alive": alive[i], "expected": expected[i], "clv": clv[i]}
    return rows, bg


def test_refresh_stores_what_the_analytics_compute(sales):
    refresh = services.value_refresh(as_of=AS_OF)
    pure, bg = _pure(sales)
    assert refresh.customers == len(sales) == CustomerValue.objects.count()
    assert refresh.transactions == Transaction.objects.count()
    assert refresh.horizon_days == 90 and refresh.clv_months == 12
    assert refresh.discount_rate == Decimal("0.0100")
    assert refresh.parameters["bgnbd"]["r"] == pytest.approx(bg.r, rel=1e-6)
    for value in CustomerValue.objects.all():
        want = pure[value.customer_id]
        assert value.purchases == want["purchases"]
        assert value.revenue == Decimal(f"{want['revenue']:.2f}")
        assert value.days_since_last == want["days_since_last"]
        assert (value.r, value.f, value.m, value.segment) == (
            want["r"],
            want["f"],
            want["m"],
            want["segment"],
        )
        assert value.tier == want.get("tier", "")
        assert value.abc_class == want["abc"]
        assert value.probability_alive == pytest.approx(want["alive"], rel=1e-9)
        assert value.expected_purchases == pytest.approx(want["expected"], rel=1e-9)
        assert value.clv == Decimal(f"{want['clv']:.2f}")
        assert value.previous_refresh is None and not value.moved


def test_hand_checked_customers(sales):
    services.value_refresh(as_of=AS_OF)
    value = {name: customer.value for name, customer in sales.items()}
    # Bought every ten days, silent since February 2025: at churn risk.
    gone = value["常客走了"]
    assert gone.purchases == 8 and gone.days_since_last == (AS_OF - date(2025, 3, 16)).days
    assert gone.probability_alive < 0.5 and gone.churn_risk
    assert gone.segment in (Segment.CANNOT_LOSE, Segment.AT_RISK)
    # Every month, last on 16 October: alive and well.
    monthly = value["月月来"]
    assert monthly.purchases == 12 and monthly.days_since_last == 16
    assert monthly.probability_alive > 0.9 and not monthly.churn_risk
    # 23:30 local time is still 1 March in Shanghai (15:30 UTC).
    once = value["一次"]
    assert once.days_since_last == (AS_OF - date(2026, 3, 1)).days
    assert once.purchases == 1 and not once.churn_risk and once.probability_alive == 1.0
    # Two purchases at a loss (00:30 on 1 February is still 1 February), 40 refunded.
    loss = value["亏本"]
    assert loss.revenue == Decimal("160.00") and loss.profit == Decimal("-160.00")
    assert loss.tier == Tier.LOSS_MAKING
    assert loss.tier_strategy.startswith("Analyse their potential contribution")
    # No cost recorded: no tier, still scored.
    assert value["无成本"].tier == "" and value["无成本"].profit is None
    assert value["无成本"].segment


def test_second_refresh_keeps_what_changed(sales, supervisor):
    first = services.value_refresh(as_of=AS_OF)
    before = {v.customer_id: v for v in CustomerValue.objects.all()}
    loss = sales["亏本"]
    Transaction.objects.create(
        customer=loss,
        amount=Decimal(5000),
        cost=Decimal(100),
        occurred_at=first.at,
        external_id="big",
    )
    second = services.value_refresh(actor=supervisor)
    assert second.actor == supervisor and second.as_of >= AS_OF
    after = {v.customer_id: v for v in CustomerValue.objects.all()}
    moved = set()
    for customer_id, value in after.items():
        old = before[customer_id]
        assert value.refresh == second and value.previous_refresh == first
        assert (value.previous_tier, value.previous_segment) == (old.tier, old.segment)
        assert value.previous_clv == old.clv and value.previous_churn_risk == old.churn_risk
        if value.clv is not None:
            assert value.clv_change == value.clv - old.clv
        if (value.tier, value.segment, value.churn_risk) != (old.tier, old.segment, old.churn_risk):
            moved.add(customer_id)
    changes = {c.customer_id: c for c in ValueChange.objects.filter(refresh=second)}
    assert set(changes) == moved and loss.pk in moved
    assert changes[loss.pk].tier_from == Tier.LOSS_MAKING
    assert changes[loss.pk].tier_to in (Tier.MOST_PROFITABLE, Tier.SECOND_TIER)
    assert not ValueChange.objects.filter(refresh=first).exists()


def test_no_transactions_no_scores_and_a_note(db):
    refresh = services.value_refresh(as_of=AS_OF)
    assert refresh.customers == 0 and "no customers to fit" in refresh.note
    assert not CustomerValue.objects.exists()


def test_one_time_buyers_get_scores_and_a_note_that_lifetime_value_is_missing(supervisor):
    """Nobody bought twice: BG/NBD still fits, Gamma-Gamma has no repeat purchase to
    learn spend from. The refresh stores what it has and says what it has not."""
    from kehu.customers.services import customer_create

    for n in range(6):
        customer = customer_create(actor=supervisor, kind="individual", name=f"一次{n}")
        Transaction.objects.create(
            customer=customer,
            kind="purchase",
            amount=Decimal(50 + n),
            cost=Decimal(30),
            occurred_at=datetime(2026, 3, 1 + n, 12, tzinfo=SHANGHAI),
            external_id=f"once-{n}",
        )
    refresh = services.value_refresh(as_of=AS_OF)
    assert refresh.customers == 6
    assert "Lifetime value not computed" in refresh.note and "repeat buyers" in refresh.note
    assert "bgnbd" in refresh.parameters and "gamma_gamma" not in refresh.parameters
    for value in CustomerValue.objects.all():
        assert value.clv is None and value.probability_alive == 1.0 and value.tier


@pytest.mark.parametrize(
    "bad",
    [
        {"as_of": date(2999, 1, 1)},
        {"horizon_days": 0},
        {"clv_months": 500},
        {"discount_rate": -0.1},
        {"churn_threshold": 1.5},
    ],
)
def test_bad_parameters_write_nothing(sales, bad):
    services.value_refresh(as_of=AS_OF)
    stored = list(CustomerValue.objects.values_list("pk", "refresh_id"))
    with pytest.raises(ValidationError) as error:
        services.value_refresh(**({"as_of": AS_OF} | bad))
    assert set(error.value.message_dict) == set(bad)
    assert ValueRefresh.objects.count() == 1
    assert list(CustomerValue.objects.values_list("pk", "refresh_id")) == stored


def test_a_failed_write_leaves_the_previous_scores(sales, monkeypatch):
    services.value_refresh(as_of=AS_OF)
    stored = sorted(CustomerValue.objects.values_list("customer_id", "refresh_id"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ValueChange.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        services.value_refresh(as_of=AS_OF)
    assert ValueRefresh.objects.count() == 1
    assert sorted(CustomerValue.objects.values_list("customer_id", "refresh_id")) == stored


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_both_succeed_one_after_the_other(sales, monkeypatch):
    """Each thread has its own connection on PostgreSQL; on SQLite the test database is
    one shared in-memory connection, and the file database's write lock serialises."""
    import threading
    import time

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's write lock makes refreshes wait for each other")
    take_turns = services._refreshes_take_turns

    def slow_turn():  # both threads are inside their transactions at the same time
        take_turns()
        time.sleep(0.3)

    monkeypatch.setattr(services, "_refreshes_take_turns", slow_turn)
    barrier, outcomes = threading.Barrier(2), []

    def refresh():
        try:
            barrier.wait()
            outcomes.append(services.value_refresh(as_of=AS_OF))
        except Exception as error:  # noqa: BLE001 - the test looks at what each got
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(o, ValueRefresh) for o in outcomes), outcomes
    first, second = sorted(outcomes, key=lambda r: r.pk)
    values = list(CustomerValue.objects.all())
    assert len(values) == len(sales)
    assert {(v.refresh_id, v.previous_refresh_id) for v in values} == {(second.pk, first.pk)}
