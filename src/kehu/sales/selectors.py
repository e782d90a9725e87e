"""Reads of transactions."""

from django.db.models import QuerySet

from kehu.customers.models import Customer
from kehu.sales.models import Transaction

RECENT = 5


def customer_recent_purchases(*, customer: Customer, limit: int = RECENT) -> list[Transaction]:
    """The customer's last purchases and refunds, newest first: one indexed query."""
    return list(
        Transaction.objects.filter(customer=customer)
        .only("kind", "occurred_at", "amount", "currency", "product", "category", "channel")
        .order_by("-occurred_at", "-pk")[:limit]
    )


def customer_transactions(*, customer: Customer) -> QuerySet[Transaction]:
    return Transaction.objects.filter(customer=customer).order_by("-occurred_at", "-pk")
