"""Service reports over the REST API: SLA met rates, the iceberg, frequent complainants."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema

from kehu.service import reports
from kehu.service.reports_forms import ReportForm, SlaReportForm
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["reports"])


class ClockOut(Schema):
    due: int = Field(..., description="Targets that fell due in the period")
    met: int
    missed: int = Field(..., description="Done late, recorded breached, or overdue and open")
    pending: int = Field(..., description="Not yet due, or the clock paused")
    met_percent: float | None = Field(..., description="met / (met + missed) × 100")
    missed_percent: float | None
    median_business_minutes: int | None = Field(None, alias="median")
    p90_business_minutes: int | None = Field(None, alias="p90")


class SlaRowOut(Schema):
    period: date = Field(..., description="First day of the period (Asia/Shanghai)")
    group: str | None = Field(None, description="Team, user id, category id or kind")
    label: str
    total: bool = Field(..., alias="is_total")
    first_response: ClockOut
    resolution: ClockOut

    @staticmethod
    def resolve_group(obj: reports.SlaRow):
        return None if obj.key is None else str(obj.key)


class IcebergRowOut(Schema):
    period: date | None
    category: str
    complaints: int
    customers: int = Field(..., description="Distinct complaining customers")
    estimated: int = Field(..., description="An estimate: customers / complaint rate")


class IcebergOut(Schema):
    complaint_rate_percent: Decimal
    note: str
    periods: list[IcebergRowOut]
    totals: list[IcebergRowOut]


class ComplainantOut(Schema):
    customer_id: int
    name: str = Field(..., alias="customer__name")
    number: str = Field(..., alias="customer__number")
    complaints: int
    latest: datetime


def _cleaned(form) -> dict:
    if not form.is_valid():
        raise ValidationError(form.errors)
    return form.cleaned_data


@router.get("/service/reports/sla", response=list[SlaRowOut], summary="Service-level report")
def sla_report(
    request,
    start: date | None = None,
    end: date | None = None,
    period: Literal["day", "week", "month"] = "month",
    by: Literal["team", "owner", "category", "kind"] = "team",
):
    """Per period and group, then a total per period ("total": true): each target counts in
    the period in which it fell due. Default range: this month so far."""
    check(request, Capability.SERVICE_REPORTS_VIEW)
    form = SlaReportForm({"start": start, "end": end, "period": period, "by": by})
    return reports.sla_report(**_cleaned(form))


@router.get("/service/reports/iceberg", response=IcebergOut, summary="The complaint iceberg")
def iceberg_report(
    request,
    start: date | None = None,
    end: date | None = None,
    period: Literal["day", "week", "month"] = "month",
):
    """Complaints and distinct complaining customers per category and period, and an
    estimate of the dissatisfied customers they stand for at the configured rate."""
    check(request, Capability.SERVICE_REPORTS_VIEW)
    form = ReportForm({"start": start, "end": end, "period": period})
    rate = reports.service_settings_get().complaint_rate_percent
    periods, totals = reports.iceberg(**_cleaned(form), rate_percent=rate)
    return {
        "complaint_rate_percent": rate,
        "note": "estimated = distinct complaining customers / complaint rate: an estimate, "
        "since most dissatisfied customers never complain",
        "periods": periods,
        "totals": totals,
    }


@router.get("/service/complainants", response=list[ComplainantOut], summary="Frequent complainants")
def complainants(request):
    check(request, Capability.SERVICE_REPORTS_VIEW)
    return reports.frequent_complainants()
