"""What to offer a customer, from purchase history (seed 004: the clerk who remembered
"the usual").

"The usual" is what the customer bought most often lately; the next best are what other
customers who buy the same things also buy, by simple co-occurrence counts (how many of
those customers bought it), leaving out what this customer already buys. An item is the
product where the till names one, else its category.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, F, Max, Q, When
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.sales.models import Transaction

USUAL_WITHIN = timedelta(days=180)
PEERS_WITHIN = timedelta(days=365)
# The customer's own items that find the peers: their most frequent few, which keeps the
# co-occurrence query bounded for a customer who bought hundreds of things.
SEED_ITEMS = 5
SUGGESTIONS = 3


@dataclass
class Usual:
    item: str
    times: int
    last: datetime


def _with_item(transactions):
    return transactions.annotate(item=Case(When(product="", then=F("category")),
                                           default=F("product")))


def _items(customer: Customer, since: datetime) -> list[tuple[str, int, datetime]]:
    """(item, times, last bought) of the customer's purchases since then, most often first;
    on a tie the one bought last."""
    rows = (
        _with_item(Transaction.objects.filter(customer=customer, occurred_at__gte=since,
                                              kind=Transaction.Kind.PURCHASE))
        .exclude(item="").values("item").annotate(times=Count("pk"), last=Max("occurred_at"))
    )
    return sorted(((r["item"], r["times"], r["last"]) for r in rows),
                  key=lambda row: (-row[1], -row[2].timestamp(), row[0]))


def customer_usual(*, customer: Customer, now: datetime | None = None) -> Usual | None:
    """The customer's most frequent product (or category) of the last USUAL_WITHIN; on a tie
    the one bought last. None for a customer with no named purchase then."""
    now = now or timezone.now()
    items = _items(customer, now - USUAL_WITHIN)
    if not items:
        return None
    item, times, last = items[0]
    return Usual(item=item, times=times, last=last)


def customer_next_best(*, customer: Customer, now: datetime | None = None,
                       limit: int = SUGGESTIONS) -> list[tuple[str, int]]:
    """(item, customers) that customers who buy this customer's items also buy, most
    customers first; never what this customer bought in PEERS_WITHIN."""
    now = now or timezone.now()
    since = now - PEERS_WITHIN
    mine = [item for item, _n, _last in _items(customer, since)]
    if not mine:
        return []
    seeds = mine[:SEED_ITEMS]
    bought = Q(product__in=seeds) | (Q(product="") & Q(category__in=seeds))
    peers = (Transaction.objects.filter(bought, kind=Transaction.Kind.PURCHASE,
                                        occurred_at__gte=since)
             .exclude(customer=customer).values("customer_id"))
    rows = (
        _with_item(Transaction.objects.filter(kind=Transaction.Kind.PURCHASE,
                                              occurred_at__gte=since, customer_id__in=peers))
        .exclude(item="").exclude(item__in=mine)
        .values("item").annotate(n=Count("customer_id", distinct=True))
        .order_by("-n", "item")[:limit]
    )
    return [(row["item"], row["n"]) for row in rows]
