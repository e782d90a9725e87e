"""Customer value over the REST API: a customer's scores, the churn-risk list, refreshes."""

from datetime import date, datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from kehu.customers.models import Customer
from kehu.insights import selectors, services
from kehu.insights.models import CustomerValue, ValueRefresh
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["customer value"])


class RefreshOut(Schema):
    id: int
    at: datetime
    as_of: date = Field(..., description="Analysis date: transactions after it are left out")
    horizon_days: int = Field(..., description="Days ahead of expected_purchases")
    clv_months: int = Field(..., description="Months of 30 days the lifetime value covers")
    discount_rate: Decimal = Field(..., description="Per month")
    churn_threshold: float
    transactions: int
    customers: int
    parameters: dict = Field(..., description="Fitted BG/NBD (α in days) and Gamma-Gamma")
    note: str


class ValueOut(Schema):
    customer_id: int
    refresh_id: int
    purchases: int
    revenue: Decimal
    profit: Decimal | None
    days_since_last: int | None
    tier: str = Field(
        ...,
        description="most_profitable, second_tier, unprofitable, "
        "loss_making; empty when no cost is known",
    )
    abc_class: str
    r: int | None
    f: int | None
    m: int | None
    segment: str
    expected_purchases: float | None
    probability_alive: float | None
    clv: Decimal | None
    churn_risk: bool
    previous_refresh_id: int | None = Field(None, description="The refresh compared with")
    previous_tier: str
    previous_segment: str
    previous_clv: Decimal | None
    previous_churn_risk: bool | None


class RefreshIn(Schema):
    as_of: date | None = None
    horizon_days: int | None = None
    clv_months: int | None = None
    discount_rate: float | None = None
    churn_threshold: float | None = None


@router.get(
    "/customers/{customer_id}/value",
    response=ValueOut,
    summary="A customer's latest value scores and the previous refresh's",
)
def customer_value_get(request, customer_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return get_object_or_404(CustomerValue, customer=get_object_or_404(Customer, pk=customer_id))


@router.get(
    "/value/churn-risk",
    response=list[ValueOut],
    summary="Customers at churn risk, the most valuable first",
)
def churn_risk_list(request, limit: int = Query(100, ge=1, le=1000)):
    check(request, Capability.INSIGHTS_VIEW)
    return list(selectors.churn_risk_list(limit=limit))


@router.get("/value/refreshes/latest", response=RefreshOut, summary="The latest refresh")
def refresh_latest(request):
    check(request, Capability.INSIGHTS_VIEW)
    return get_object_or_404(ValueRefresh.objects.order_by("-at", "-pk")[:1])


@router.post(
    "/value/refreshes",
    response={201: RefreshOut},
    summary="Recompute every customer's value scores now (parameters left out: the settings')",
)
def refresh_create(request, payload: RefreshIn):
    check(request, Capability.INSIGHTS_REFRESH)
    return Status(201, services.value_refresh(actor=request.user, **payload.dict()))
