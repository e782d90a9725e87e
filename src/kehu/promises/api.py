"""Promises and follow-ups over the REST API."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.api.common import ErrorOut, active_user, write_or_conflict
from kehu.customers.models import Customer
from kehu.promises import services
from kehu.promises.models import TEXT_MAX, Commitment, FollowUp, FollowUpKind
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["promises"])


class CommitmentOut(Schema):
    id: int
    customer_id: int
    case_id: int | None
    promise: str
    owner: str
    due_at: datetime
    status: Commitment.Status
    evidence: str
    reason: str
    closed_at: datetime | None
    times_moved: int
    version: int = Field(..., description="Send it back with every change: a stale one is 409")

    @staticmethod
    def resolve_owner(obj: Commitment):
        return obj.owner.username


class CommitmentIn(Schema):
    customer_id: int
    promise: str = Field(..., max_length=500)
    due_at: datetime
    owner: str | None = Field(None, description="Username; default: the caller")
    case_id: int | None = None


class CloseIn(Schema):
    outcome: str = Field(
        ..., description="How it was kept, or why it was broken", max_length=TEXT_MAX
    )
    version: int


class MoveIn(Schema):
    due_at: datetime
    reason: str = Field(..., max_length=TEXT_MAX)
    version: int


class FollowUpOut(Schema):
    id: int
    customer_id: int
    contact_id: int | None
    case_id: int | None
    kind: FollowUpKind
    owner: str
    due_at: datetime
    purpose: str
    outcome: str
    status: FollowUp.Status
    done_at: datetime | None
    policy: str | None = Field(None, description="The policy that made it, if one did")
    version: int

    @staticmethod
    def resolve_owner(obj: FollowUp):
        return obj.owner.username

    @staticmethod
    def resolve_policy(obj: FollowUp):
        return obj.policy.name if obj.policy_id else None


class FollowUpIn(Schema):
    customer_id: int
    kind: FollowUpKind
    due_at: datetime
    purpose: str = Field(..., max_length=200)
    owner: str | None = None
    contact_id: int | None = None
    case_id: int | None = None


class CompleteIn(Schema):
    outcome: str = Field(..., max_length=TEXT_MAX)
    version: int


class RescheduleIn(Schema):
    due_at: datetime
    version: int


def _customer(pk: int) -> Customer:
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        raise ValidationError({"customer_id": [_("No such customer.")]})
    return customer


def _case(pk: int | None):
    from kehu.service.models import Case

    if pk is None:
        return None
    case = Case.objects.filter(pk=pk).first()
    if case is None:
        raise ValidationError({"case_id": [_("No such case.")]})
    return case


@router.get("/commitments", response=list[CommitmentOut], summary="List promises")
def commitments_list(
    request, customer_id: int | None = None, mine: bool = False, status: str = "active"
):
    """`status`: active (open or renegotiated, default), one status, or empty for all."""
    check(request, Capability.CUSTOMER_VIEW)
    rows = Commitment.objects.select_related("owner")
    if status == "active":
        rows = rows.filter(status__in=Commitment.ACTIVE_STATUSES)
    elif status:
        rows = rows.filter(status=status)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if mine:
        rows = rows.filter(owner=request.user)
    return list(rows[:500])


@router.post("/commitments", response={201: CommitmentOut}, summary="Make a promise")
def commitment_create(request, payload: CommitmentIn):
    check(request, Capability.FOLLOW_UP_WORK)
    return Status(
        201,
        services.commitment_create(
            actor=request.user,
            customer=_customer(payload.customer_id),
            promise=payload.promise,
            due_at=payload.due_at,
            owner=active_user(payload.owner),
            case=_case(payload.case_id),
        ),
    )


def _commitment(pk: int) -> Commitment:
    return get_object_or_404(Commitment.objects.select_related("owner"), pk=pk)


@router.post("/commitments/{int:commitment_id}/kept", response={200: CommitmentOut, 409: ErrorOut})
def commitment_keep(request, commitment_id: int, payload: CloseIn):
    check(request, Capability.FOLLOW_UP_WORK)
    commitment = _commitment(commitment_id)
    return write_or_conflict(
        lambda: services.commitment_keep(
            actor=request.user,
            commitment=commitment,
            evidence=payload.outcome,
            expected_version=payload.version,
        )
    )


@router.post(
    "/commitments/{int:commitment_id}/broken", response={200: CommitmentOut, 409: ErrorOut}
)
def commitment_break(request, commitment_id: int, payload: CloseIn):
    check(request, Capability.FOLLOW_UP_WORK)
    commitment = _commitment(commitment_id)
    return write_or_conflict(
        lambda: services.commitment_break(
            actor=request.user,
            commitment=commitment,
            reason=payload.outcome,
            expected_version=payload.version,
        )
    )


@router.post(
    "/commitments/{int:commitment_id}/renegotiated",
    response={200: CommitmentOut, 409: ErrorOut},
    summary="Move a promise to a new time agreed with the customer",
)
def commitment_renegotiate(request, commitment_id: int, payload: MoveIn):
    check(request, Capability.FOLLOW_UP_WORK)
    commitment = _commitment(commitment_id)
    return write_or_conflict(
        lambda: services.commitment_renegotiate(
            actor=request.user,
            commitment=commitment,
            due_at=payload.due_at,
            reason=payload.reason,
            expected_version=payload.version,
        )
    )


@router.get("/follow-ups", response=list[FollowUpOut], summary="List follow-ups")
def follow_ups_list(
    request, customer_id: int | None = None, mine: bool = False, status: str = "open"
):
    check(request, Capability.CUSTOMER_VIEW)
    rows = FollowUp.objects.select_related("owner", "policy")
    if status:
        rows = rows.filter(status=status)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if mine:
        rows = rows.filter(owner=request.user)
    return list(rows[:500])


@router.post("/follow-ups", response={201: FollowUpOut}, summary="Book a follow-up")
def follow_up_create(request, payload: FollowUpIn):
    check(request, Capability.FOLLOW_UP_WORK)
    customer = _customer(payload.customer_id)
    contact = None
    if payload.contact_id is not None:
        contact = customer.contacts.filter(pk=payload.contact_id).first()
        if contact is None:
            raise ValidationError(
                {"contact_id": [_("This contact does not belong to the customer.")]}
            )
    return Status(
        201,
        services.follow_up_create(
            actor=request.user,
            customer=customer,
            kind=payload.kind,
            due_at=payload.due_at,
            purpose=payload.purpose,
            owner=active_user(payload.owner),
            contact=contact,
            case=_case(payload.case_id),
        ),
    )


def _follow_up(pk: int) -> FollowUp:
    return get_object_or_404(FollowUp.objects.select_related("owner", "policy"), pk=pk)


@router.post("/follow-ups/{int:follow_up_id}/done", response={200: FollowUpOut, 409: ErrorOut})
def follow_up_complete(request, follow_up_id: int, payload: CompleteIn):
    check(request, Capability.FOLLOW_UP_WORK)
    follow_up = _follow_up(follow_up_id)
    return write_or_conflict(
        lambda: services.follow_up_complete(
            actor=request.user,
            follow_up=follow_up,
            outcome=payload.outcome,
            expected_version=payload.version,
        )
    )


@router.post(
    "/follow-ups/{int:follow_up_id}/rescheduled", response={200: FollowUpOut, 409: ErrorOut}
)
def follow_up_reschedule(request, follow_up_id: int, payload: RescheduleIn):
    check(request, Capability.FOLLOW_UP_WORK)
    follow_up = _follow_up(follow_up_id)
    return write_or_conflict(
        lambda: services.follow_up_reschedule(
            actor=request.user,
            follow_up=follow_up,
            due_at=payload.due_at,
            expected_version=payload.version,
        )
    )
