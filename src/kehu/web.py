"""What many pages share: going back where a form was, and the period a report asks for."""

from datetime import date, datetime, time, timedelta

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_back(request, default: str) -> HttpResponse:
    """Back to the page the form was on (its "next" field), never off-site."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return redirect(target)


def period_asked(request, *, default_first: date) -> tuple[datetime, datetime, date, date]:
    """The [start, end) instants of the ?from=&to= dates (either order; unreadable ones
    fall back to default_first and today), whole days in the configured time zone."""
    found = []
    for name, default in (("from", default_first), ("to", timezone.localdate())):
        try:
            found.append(datetime.strptime(request.GET.get(name, ""), "%Y-%m-%d").date())
        except ValueError:
            found.append(default)
    first, last = min(found), max(found)
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end, first, last
