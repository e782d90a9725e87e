"""Pages of the service reports (SLA, iceberg, frequent complainants) and the settings."""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.customers.forms import apply_service_errors
from kehu.service import reports, services
from kehu.service.models import ServiceSettingsChange
from kehu.service.reports_forms import ReportForm, ServiceSettingsForm, SlaReportForm
from kehu.users.permissions import require
from kehu.users.roles import Capability


def _number(value) -> str:
    return "" if value is None else str(value)


def _sla_csv(rows: list[reports.SlaRow], form: SlaReportForm) -> HttpResponse:
    data = form.cleaned_data
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="sla-{data["by"]}-{data["start"]}-{data["end"]}.csv"'
    )
    # A byte-order mark, so that Excel opens the Chinese text as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    clocks = (("first_response", _("First response")), ("resolution", _("Resolution")))
    header = [_("Period"), dict(form.fields["by"].choices)[data["by"]]]
    for _name, label in clocks:
        header += [
            f"{label}: {column}"
            for column in (
                pgettext("SLA report", "due"),
                pgettext("SLA report", "met"),
                pgettext("SLA report", "missed"),
                pgettext("SLA report", "pending"),
                pgettext("SLA report", "met %"),
                pgettext("SLA report", "missed %"),
                _("median business minutes"),
                _("90th percentile business minutes"),
            )
        ]
    writer.writerow(header)
    for row in rows:
        line = [row.period.isoformat(), row.label]
        for name, _label in clocks:
            clock = getattr(row, name)
            line += [
                clock.due,
                clock.met,
                clock.missed,
                clock.pending,
                _number(clock.met_percent),
                _number(clock.missed_percent),
                _number(clock.median),
                _number(clock.p90),
            ]
        writer.writerow(line)
    return response


@require(Capability.SERVICE_REPORTS_VIEW)
def sla_report(request):
    form = SlaReportForm(request.GET)
    rows = []
    if form.is_valid():
        rows = reports.sla_report(**form.cleaned_data)
        if request.GET.get("format") == "csv":
            return _sla_csv(rows, form)
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "service/reports/sla.html",
        {
            "form": form,
            "rows": rows,
            "csv_query": query.urlencode(),
            "time_zone": settings.TIME_ZONE,
            "tab": "sla",
        },
    )


@require(Capability.SERVICE_REPORTS_VIEW)
def iceberg_report(request):
    form = ReportForm(request.GET)
    found = reports.service_settings_get()
    periods, totals = [], []
    if form.is_valid():
        periods, totals = reports.iceberg(
            **form.cleaned_data, rate_percent=found.complaint_rate_percent
        )
    chart = {
        "categories": [row.category for row in totals],
        "series": [
            {"name": _("Complaints received"), "data": [row.complaints for row in totals]},
            {"name": _("Complaining customers"), "data": [row.customers for row in totals]},
            {
                "name": _("Estimated dissatisfied customers (estimate)"),
                "data": [row.estimated for row in totals],
            },
        ],
    }
    return render(
        request,
        "service/reports/iceberg.html",
        {
            "form": form,
            "periods": periods,
            "totals": totals,
            "rate": found.complaint_rate_percent,
            "multiplier": reports.estimate_dissatisfied(1, found.complaint_rate_percent),
            "chart": chart,
            "tab": "iceberg",
        },
    )


@require(Capability.SERVICE_REPORTS_VIEW)
def complainants(request):
    found = reports.service_settings_get()
    return render(
        request,
        "service/reports/complainants.html",
        {"rows": reports.frequent_complainants(), "settings": found, "tab": "complainants"},
    )


@require(Capability.SERVICE_SETTINGS_EDIT)
def service_settings(request):
    current = reports.service_settings_get()
    form = ServiceSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_settings_update(
                actor=request.user,
                **{name: form.cleaned_data[name] for name in services.SERVICE_SETTING_FIELDS},
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("service:settings")
    changes = ServiceSettingsChange.objects.select_related("actor")[:50]
    return render(request, "service/settings.html", {"form": form, "changes": changes})
