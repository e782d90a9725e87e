"""Recording purchases and refunds, and importing them from a file."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.customers.services import customer_create
from kehu.sales import services
from kehu.sales.models import Transaction
from tests.conftest import logged_in


@pytest.fixture
def customer(supervisor):
    return customer_create(actor=supervisor, kind="individual", name="王芳", external_id="C-1")


def test_purchase_and_refund(supervisor, customer):
    purchase = services.transaction_record(
        actor=supervisor, customer=customer, amount=Decimal("100.00"), category="tea",
        external_id="P-1")
    assert purchase.currency == "CNY"
    refund = services.transaction_record(
        actor=supervisor, customer=customer, amount=Decimal("40"), kind="refund",
        refund_of=purchase)
    assert refund.refund_of == purchase
    with pytest.raises(ValidationError) as error:
        services.transaction_record(actor=supervisor, customer=customer, amount=Decimal("60.01"),
                                    kind="refund", refund_of=purchase)
    assert "more than what is left" in str(error.value)
    assert Transaction.objects.count() == 2


def test_same_external_id_is_recorded_once(supervisor, customer):
    first = services.transaction_record(actor=supervisor, customer=customer,
                                        amount=Decimal(5), external_id="X")
    again = services.transaction_record(actor=supervisor, customer=customer,
                                        amount=Decimal(5), external_id="X")
    assert first.pk == again.pk
    with pytest.raises(ValidationError):
        services.transaction_record(actor=supervisor, customer=customer,
                                    amount=Decimal(6), external_id="X")


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-3), Decimal("1.001")])
def test_bad_amounts_write_nothing(supervisor, customer, amount):
    with pytest.raises(ValidationError) as error:
        services.transaction_record(actor=supervisor, customer=customer, amount=amount)
    assert "amount" in error.value.message_dict
    assert not Transaction.objects.exists()


def test_future_time_refused_small_skew_accepted(supervisor, customer):
    now = timezone.now()
    services.transaction_record(actor=supervisor, customer=customer, amount=Decimal(1),
                                occurred_at=now + timedelta(minutes=2), now=now)
    with pytest.raises(ValidationError) as error:
        services.transaction_record(actor=supervisor, customer=customer, amount=Decimal(1),
                                    occurred_at=now + timedelta(hours=1), now=now)
    assert "future" in str(error.value)


def test_refund_of_another_customers_purchase(supervisor, customer):
    other = customer_create(actor=supervisor, kind="individual", name="李雷")
    purchase = services.transaction_record(actor=supervisor, customer=other, amount=Decimal(9))
    with pytest.raises(ValidationError) as error:
        services.transaction_record(actor=supervisor, customer=customer, amount=Decimal(1),
                                    kind="refund", refund_of=purchase)
    assert "another customer" in str(error.value)


def test_agent_may_not_record(agent, customer):
    with pytest.raises(ValidationError):
        services.transaction_record(actor=agent, customer=customer, amount=Decimal(1))


def test_import_all_rows(supervisor, customer):
    data = (
        "customer,time,amount,kind,category,external_id,refund_of\n"
        f"{customer.number},2025-01-02 10:00,100,purchase,tea,A1,\n"
        "C-1,2025-01-03,20.50,退款,,A2,A1\n"
    ).encode()
    report = services.transactions_import(actor=supervisor, name="t.csv", data=data)
    assert report.written and report.created == 2
    refund = Transaction.objects.get(external_id="A2")
    assert refund.kind == "refund" and refund.refund_of.external_id == "A1"
    assert refund.amount == Decimal("20.50")


def test_import_is_all_or_nothing_with_row_errors(supervisor, customer):
    data = (
        "customer,time,amount,external_id,kind,refund_of\n"
        f"{customer.number},2025-01-02,100,B1,,\n"
        "nobody,2025-01-02,100,B2,,\n"
        f"{customer.number},yesterday,-5,B1,,\n"
        f"{customer.number},2025-01-04,150,B4,refund,B1\n"
    ).encode()
    report = services.transactions_import(actor=supervisor, name="t.csv", data=data)
    assert not report.written
    assert not Transaction.objects.exists()
    rows = {r["row"]: " ".join(r["errors"]) for r in report.rejected}
    assert set(rows) == {3, 4, 5}
    assert "no customer" in rows[3]
    assert "not a date" in rows[4] and "already appears in row 2" in rows[4]
    assert "more than what is left" in rows[5]


def test_import_messages_in_chinese(supervisor, customer):
    from django.utils import translation

    with translation.override("zh-hans"):
        report = services.transactions_import(
            actor=supervisor, name="t.csv", data=b"customer,time,amount\nnobody,2025-01-01,1\n")
    assert "nobody" in report.rejected[0]["errors"][0]
    assert "no customer" not in report.rejected[0]["errors"][0]


def test_card_shows_recent_purchases(agent, supervisor, customer, django_assert_max_num_queries):
    services.transaction_record(actor=supervisor, customer=customer, amount=Decimal("88"),
                                product="龙井")
    response = logged_in(agent).get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    assert "龙井" in response.content.decode()
