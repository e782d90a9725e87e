"""Surveys, sending and results over the REST API."""

from datetime import datetime, timedelta
from typing import Literal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.customers.models import Customer
from kehu.feedback import selectors, services
from kehu.feedback.models import Channel, Invitation, Survey, SurveyKind
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["feedback"])


class SurveyOut(Schema):
    id: int
    name: str
    kind: SurveyKind
    trigger: Survey.Trigger
    delay: int = Field(..., description="After-resolved: hours; key accounts: days")
    channel: Channel
    question: str
    expires_days: int
    is_active: bool
    sent: int = 0
    answered: int = 0


class SurveyIn(Schema):
    name: str = Field(..., max_length=100)
    kind: SurveyKind
    trigger: Survey.Trigger = Survey.Trigger.MANUAL
    delay: int = Field(24, ge=0)
    channel: Channel = Channel.EMAIL
    question: str = Field("", max_length=300)
    expires_days: int = Field(14, ge=1, le=365)
    is_active: bool = True


class SendIn(Schema):
    customer_ids: list[int] = Field(default_factory=list, max_length=1000)
    tag: str = Field("", description="Every customer with this tag", max_length=50)
    language: str = Field("", description="zh-hans or en; blank: the default")


class SendOut(Schema):
    sent: int
    throttled: int
    no_address: int
    already: int


class InvitationOut(Schema):
    id: int
    survey_id: int
    customer_id: int
    case_id: int | None
    occasion: str
    status: Invitation.Status
    channel: Channel
    created_at: datetime
    sent_at: datetime | None
    times_sent: int
    expires_at: datetime
    answered_at: datetime | None


class ResendIn(Schema):
    override_throttle: bool = Field(
        False, description="Send even if the customer was asked recently (supervisors only)"
    )


class NpsOut(Schema):
    n: int
    nps: float | None
    low: float | None = Field(None, description="95% interval, normal approximation")
    high: float | None
    se: float | None


class DimensionOut(Schema):
    dimension: str
    n: int
    expectation: float
    perception: float
    gap: float = Field(..., description="Perception − expectation")


class ExitOut(Schema):
    reason: str
    n: int
    share: float | None
    expected: float = Field(..., description="Seed 003's share")


class TrendOut(Schema):
    key: str | None = Field(
        ..., description="The month (YYYY-MM), agent, team, category, tag, status or value segment"
    )
    nps: NpsOut
    csat_percent: float | None
    csat_n: int
    effort_mean: float | None
    effort_n: int


class ResultsOut(Schema):
    since: datetime
    nps: NpsOut
    csat_percent: float | None
    csat_n: int
    effort_mean: float | None
    effort_n: int
    servqual_dimensions: list[DimensionOut]
    servqual_readings: dict[str, int]
    exit_reasons: list[ExitOut]


@router.get("/surveys", response=list[SurveyOut], summary="List surveys")
def surveys_list(request):
    check(request, Capability.SURVEY_MANAGE)
    return list(selectors.survey_list())


@router.post("/surveys", response={201: SurveyOut}, summary="Create a survey")
def survey_create(request, payload: SurveyIn):
    check(request, Capability.SURVEY_MANAGE)
    return Status(201, services.survey_create(actor=request.user, **payload.dict()))


@router.post("/surveys/{survey_id}/send", response=SendOut, summary="Send a survey")
def survey_send(request, survey_id: int, payload: SendIn):
    """To the customers named, or to every customer with the tag; each at most once a
    day per survey, and never within the throttle period of any other survey."""
    check(request, Capability.SURVEY_MANAGE)
    survey = get_object_or_404(Survey, pk=survey_id)
    if bool(payload.customer_ids) == bool(payload.tag.strip()):
        raise ValidationError(_("Give either customers or a tag."))
    live = Customer.objects.filter(merged_into=None)
    if payload.customer_ids:
        customers = list(live.filter(pk__in=payload.customer_ids))
        if len(customers) != len(set(payload.customer_ids)):
            raise ValidationError({"customer_ids": [_("No such customer.")]})
    else:
        customers = list(live.filter(tags__name=payload.tag.strip()).distinct())
    return services.survey_send(
        actor=request.user, survey=survey, customers=customers, language=payload.language
    )


@router.get("/invitations", response=list[InvitationOut], summary="A customer's survey links")
def invitations_list(request, customer_id: int):
    """The customer's latest invitations, newest first (the token itself is never shown)."""
    check(request, Capability.CUSTOMER_VIEW)
    customer = get_object_or_404(Customer, pk=customer_id)
    return list(selectors.customer_invitations(customer=customer))


@router.post(
    "/invitations/{invitation_id}/resend", response=InvitationOut, summary="Re-send a survey link"
)
def invitation_resend(request, invitation_id: int, payload: ResendIn):
    """A new link to the customer's current address; the old link stops working. Refused
    (422) when the customer was asked within the throttle period, unless a supervisor
    overrides it."""
    check(request, Capability.CUSTOMER_EDIT)
    if payload.override_throttle:
        check(request, Capability.SURVEY_MANAGE)
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    return services.invitation_resend(
        actor=request.user, invitation=invitation, override_throttle=payload.override_throttle
    )


@router.post(
    "/invitations/{invitation_id}/revoke", response=InvitationOut, summary="Revoke a survey link"
)
def invitation_revoke(request, invitation_id: int):
    """The link then shows "no longer valid"; a re-send can follow."""
    check(request, Capability.CUSTOMER_EDIT)
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    return services.invitation_revoke(actor=request.user, invitation=invitation)


def _since(days: int) -> datetime:
    return timezone.now() - timedelta(days=max(1, min(days, 3650)))


@router.get("/feedback/trends", response=list[TrendOut], summary="Satisfaction trends")
def trends(
    request,
    by: Literal["month", "agent", "team", "category", "segment", "status", "value"],
    days: int = 365,
):
    """The scores per month, agent (the case's owner), team, complaint category, segment
    (the customer's tags: a customer with several counts in each), customer status or
    value segment (the RFM segment of the latest value refresh)."""
    check(request, Capability.SERVICE_REPORTS_VIEW)
    rows = selectors.trend(selectors.responses(since=_since(days)), by=by)
    for row in rows:
        if by == "month":
            row["key"] = row["key"].strftime("%Y-%m")
        elif row["key"] is not None:
            row["key"] = str(row["key"])
    return rows


@router.get("/feedback/results", response=ResultsOut, summary="Satisfaction results")
def results(request, days: int = 90):
    check(request, Capability.SERVICE_REPORTS_VIEW)
    since = _since(days)
    rows = selectors.responses(since=since)
    scores = selectors.scores(rows)
    return {
        "since": since,
        "nps": scores["nps"],
        "csat_percent": scores["csat_percent"],
        "csat_n": scores["csat_n"],
        "effort_mean": scores["effort_mean"],
        "effort_n": scores["effort_n"],
        "servqual_dimensions": selectors.servqual_dimensions(rows),
        "servqual_readings": selectors.reading_counts(rows),
        "exit_reasons": selectors.exit_reasons(rows),
    }
