"""The customer value page: where the value is, who is slipping away."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from kehu.insights import selectors
from kehu.insights.forms import PeriodForm
from kehu.users.permissions import require
from kehu.users.roles import Capability


@require(Capability.INSIGHTS_VIEW)
def value_page(request):
    form = PeriodForm(request.GET)
    charts: dict = {}
    if form.is_valid():
        charts = selectors.value_charts(**form.cleaned_data)
    segments = selectors.segment_totals()
    charts |= {
        "labels": {
            "customers": _("Share of customers"),
            "pareto": _("Share of revenue (best customers first)"),
            "lorenz": _("Share of revenue (smallest customers first)"),
            "equality": _("Equal shares"),
            "whale": _("Cumulative share of profit"),
            "segment_customers": _("Customers"),
            "segment_clv": _("Lifetime value"),
            "months_since": _("Months since the first purchase"),
            "retention": _("Retention"),
        },
        "segments": {
            "names": [row["label"] for row in segments],
            "customers": [row["customers"] for row in segments],
            "clv": [float(row["clv"]) for row in segments],
        },
        "clv": selectors.clv_histogram(),
    }
    return render(
        request,
        "insights/value.html",
        {
            "form": form,
            "charts": charts,
            "refresh": selectors.value_refresh_latest(),
            "segments": segments,
            "tiers": selectors.tier_totals(),
            "at_risk": selectors.churn_risk_list(limit=50),
        },
    )
