"""Pages of the personal touches: the log of greetings and notices sent to members, and
"the usual" with the next-best suggestions on the card and the call panel."""

from django.shortcuts import get_object_or_404, render

from kehu.customers.models import Customer
from kehu.loyalty import selectors
from kehu.loyalty.models import Member, Notice
from kehu.sales import suggestions
from kehu.users.permissions import require
from kehu.users.roles import Capability

NOTICES_SHOWN = 200


@require(Capability.CUSTOMER_VIEW)
def notice_list(request):
    """Every greeting and tier notice sent lately, newest first; by kind if asked."""
    kind = request.GET.get("kind", "")
    notices = selectors.notices_recent(kind=kind if kind in Notice.Kind.values else None)
    return render(request, "loyalty/notices.html", {
        "notices": notices[:NOTICES_SHOWN], "kind": kind, "kinds": Notice.Kind.choices,
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
