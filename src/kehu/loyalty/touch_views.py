"""Pages of the personal touches: the log of greetings and notices sent to members, and
"the usual" with the next-best suggestions on the card and the call panel."""

from datetime import date

from django.shortcuts import get_object_or_404, render

from kehu.customers.models import Customer
from kehu.loyalty import selectors
from kehu.loyalty.models import Member, Notice
from kehu.promises.selectors import day_bounds
from kehu.sales import suggestions
from kehu.users.permissions import require
from kehu.users.roles import Capability

NOTICES_SHOWN = 200


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@require(Capability.CUSTOMER_VIEW)
def notice_list(request):
    """Every greeting and tier notice sent lately, newest first; by kind and between two
    days (both included) if asked; an unreadable day is no limit."""
    kind = request.GET.get("kind", "")
    first, last = _day(request.GET.get("from", "")), _day(request.GET.get("to", ""))
    notices = selectors.notices_recent(
        kind=kind if kind in Notice.Kind.values else None,
        since=day_bounds(day=first)[0] if first else None,
        until=day_bounds(day=last)[1] if last else None)
    return render(request, "loyalty/notices.html", {
        "notices": notices[:NOTICES_SHOWN], "kind": kind, "kinds": Notice.Kind.choices,
        "from": first.isoformat() if first else "", "to": last.isoformat() if last else "",
    })


@require(Capability.CUSTOMER_VIEW)
def member_notices(request, pk: int):
    """htmx: what this member was sent, on the member page."""
    member = get_object_or_404(Member, pk=pk)
    return render(request, "loyalty/partials/member_notices.html",
                  {"notices": selectors.notices_recent(member=member)[:50]})


@require(Capability.CUSTOMER_VIEW)
def customer_suggestions(request, customer_pk: int):
    """htmx: the usual and what to suggest next, loaded after the card or the panel."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    return render(request, "loyalty/partials/customer_suggestions.html", {
        "usual": suggestions.customer_usual(customer=customer),
        "next_best": suggestions.customer_next_best(customer=customer),
    })
