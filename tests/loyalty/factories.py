"""Small helpers for loyalty tests."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from kehu.customers.services import customer_create
from kehu.loyalty import services
from kehu.sales import services as sales_services


def day(y: int, m: int, d: int) -> datetime:
    return timezone.make_aware(datetime(y, m, d, 12, 0))


def member(actor, *, name="王芳", joined=None, tags=()):
    customer = customer_create(actor=actor, kind="individual", name=name, tags=tags)
    return services.member_enrol(actor=actor, customer=customer, now=joined or day(2024, 1, 1))


def buy(actor, member, amount, *, at, category="", refund_of=None, external_id=None):
    transaction = sales_services.transaction_record(
        actor=actor, customer=member.customer, amount=Decimal(str(amount)), occurred_at=at,
        category=category, kind="refund" if refund_of else "purchase", refund_of=refund_of,
        external_id=external_id, now=at)
    services.points_earn_pending()
    return transaction
