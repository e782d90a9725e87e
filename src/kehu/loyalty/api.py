"""Loyalty over the REST API: members, the points ledger, rewards, redemptions, offers;
and recording transactions."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.customers.models import Customer
from kehu.loyalty import selectors, services
from kehu.loyalty.models import Member, Offer, PointsEntry, Reward
from kehu.sales import services as sales_services
from kehu.sales.models import Transaction
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["loyalty"])


class MemberOut(Schema):
    id: int
    customer_id: int
    number: str
    joined_at: datetime
    tier: str | None
    tier_since: datetime | None
    grace_until: datetime | None = Field(None, description="Keeps the tier until then")
    balance: int = Field(..., description="Always the sum of the member's ledger entries")

    @staticmethod
    def resolve_tier(obj: Member):
        return obj.tier.name if obj.tier_id else None


class EnrolIn(Schema):
    customer_id: int


class EntryOut(Schema):
    id: int
    kind: PointsEntry.Kind
    points: int
    at: datetime
    transaction_id: int | None
    reason: str


class AdjustIn(Schema):
    points: int = Field(..., description="Positive adds a lot; negative may not go below zero")
    reason: str = Field(..., max_length=200)


class RewardOut(Schema):
    id: int
    name: str
    description: str
    points: int
    stock: int | None
    min_tier: str | None
    valid_until: datetime | None

    @staticmethod
    def resolve_min_tier(obj: Reward):
        return obj.min_tier.name if obj.min_tier_id else None


class RedeemIn(Schema):
    reward_id: int
    quantity: int = 1


class RedemptionOut(Schema):
    id: int
    member_id: int
    reward_id: int
    quantity: int
    points: int
    at: datetime


class OfferStatusOut(Schema):
    offer_id: int
    name: str
    description: str
    ends_at: datetime
    eligible: bool
    uses_left: int | None
    reason: str = Field("", description="Why the customer does not have it")
    technique: str = Field("", description="How to say no gracefully (seed 002)")
    answer: str = Field("", description="A suggested answer, in the request's language")


class OfferUseIn(Schema):
    customer_id: int


class TransactionIn(Schema):
    customer_id: int
    amount: Decimal = Field(..., max_digits=14, decimal_places=2)
    occurred_at: datetime | None = None
    kind: Transaction.Kind = Transaction.Kind.PURCHASE
    cost: Decimal | None = None
    product: str = Field("", max_length=200)
    category: str = Field("", max_length=100)
    channel: str = Field("", max_length=50)
    external_id: str | None = Field(None, max_length=100, description="Recorded once")
    refund_of_id: int | None = None


class TransactionOut(Schema):
    id: int
    customer_id: int
    kind: str
    occurred_at: datetime
    amount: Decimal
    currency: str
    external_id: str | None
    refund_of_id: int | None


def _member(pk: int) -> Member:
    return get_object_or_404(Member.objects.select_related("tier"), pk=pk)


def _customer(pk: int) -> Customer:
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        raise ValidationError({"customer_id": [_("No such customer.")]})
    return customer


@router.get("/loyalty/members", response=list[MemberOut], summary="List members")
def members_list(request, customer_id: int | None = None, tier: str | None = None):
    check(request, Capability.CUSTOMER_VIEW)
    rows = Member.objects.select_related("tier")
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if tier:
        rows = rows.filter(tier__name=tier)
    return list(rows[:500])


@router.post("/loyalty/members", response={201: MemberOut}, summary="Enrol a customer")
def members_enrol(request, payload: EnrolIn):
    check(request, Capability.LOYALTY_WORK)
    member = services.member_enrol(actor=request.user, customer=_customer(payload.customer_id))
    return Status(201, _member(member.pk))


@router.get("/loyalty/members/{member_id}", response=MemberOut, summary="One member")
def member_get(request, member_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return _member(member_id)


@router.get("/loyalty/members/{member_id}/ledger", response=list[EntryOut],
            summary="A member's points ledger, newest first")
def member_ledger(request, member_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return list(selectors.member_entries(member=_member(member_id))[:1000])


@router.post("/loyalty/members/{member_id}/adjustments", response={201: EntryOut},
             summary="Adjust points, with a reason")
def member_adjust(request, member_id: int, payload: AdjustIn):
    check(request, Capability.LOYALTY_MANAGE)
    return Status(201, services.points_adjust(actor=request.user, member=_member(member_id),
                                       points=payload.points, reason=payload.reason))


@router.get("/loyalty/rewards", response=list[RewardOut], summary="The rewards catalogue")
def rewards_list(request, member_id: int | None = None):
    """With `member_id`: only the rewards that member's tier allows."""
    check(request, Capability.CUSTOMER_VIEW)
    member = _member(member_id) if member_id is not None else None
    return list(selectors.rewards_available(member=member)[:500])


@router.post("/loyalty/members/{member_id}/redemptions", response={201: RedemptionOut},
             summary="Redeem points for a reward (one atomic step)")
def member_redeem(request, member_id: int, payload: RedeemIn):
    check(request, Capability.LOYALTY_WORK)
    reward = Reward.objects.filter(pk=payload.reward_id).first()
    if reward is None:
        raise ValidationError({"reward_id": [_("No such reward.")]})
    return Status(201, services.reward_redeem(actor=request.user, member=_member(member_id),
                                       reward=reward, quantity=payload.quantity))


@router.get("/loyalty/redemptions", response=list[RedemptionOut], summary="List redemptions")
def redemptions_list(request, member_id: int | None = None):
    check(request, Capability.CUSTOMER_VIEW)
    member = _member(member_id) if member_id is not None else None
    return list(selectors.redemptions_recent(member=member)[:500])


@router.get("/loyalty/customers/{customer_id}/offers", response=list[OfferStatusOut],
            summary="Current offers and whether this customer has each")
def customer_offers(request, customer_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    customer = get_object_or_404(Customer, pk=customer_id)
    return [{
        "offer_id": s.offer.pk, "name": s.offer.name, "description": s.offer.description,
        "ends_at": s.offer.ends_at, "eligible": s.eligible, "uses_left": s.uses_left,
        "reason": s.reason, "technique": s.technique_name, "answer": s.answer,
    } for s in selectors.customer_offers(customer=customer)]


@router.post("/loyalty/offers/{offer_id}/uses", response={201: dict},
             summary="Record that a customer took an offer")
def offer_use(request, offer_id: int, payload: OfferUseIn):
    check(request, Capability.LOYALTY_WORK)
    offer = get_object_or_404(Offer, pk=offer_id)
    use = services.offer_use(actor=request.user, offer=offer,
                             customer=_customer(payload.customer_id))
    return Status(201, {"id": use.pk, "offer_id": offer.pk, "customer_id": use.customer_id})


@router.get("/loyalty/report", response=dict, summary="Members by tier, points liability, "
            "redemption rate, offer take-up, and members' repeat-purchase and cross-buying "
            "rates against non-members'")
def loyalty_report(request):
    check(request, Capability.SERVICE_REPORTS_VIEW)
    return {
        "members_by_tier": selectors.report_members_by_tier(),
        "points": selectors.report_points(),
        "offers": [{"offer_id": r["offer"].pk, "name": r["offer"].name, "takers": r["takers"],
                    "uses": r["uses"], "listed": r["listed"], "take_up": r["take_up"]}
                   for r in selectors.report_offers()],
        "buying": selectors.report_repeat_and_cross(),
    }


@router.post("/sales/transactions", response={201: TransactionOut},
             summary="Record a purchase or refund (once per external id); points follow")
def transaction_record(request, payload: TransactionIn):
    check(request, Capability.SALES_RECORD)
    refund_of = None
    if payload.refund_of_id is not None:
        refund_of = Transaction.objects.filter(pk=payload.refund_of_id).first()
        if refund_of is None:
            raise ValidationError({"refund_of_id": [_("No such transaction.")]})
    recorded = sales_services.transaction_record(
        actor=request.user, customer=_customer(payload.customer_id), amount=payload.amount,
        occurred_at=payload.occurred_at, kind=payload.kind, cost=payload.cost,
        product=payload.product, category=payload.category, channel=payload.channel,
        external_id=payload.external_id, refund_of=refund_of)
    services.points_earn(transaction_=recorded)
    return Status(201, recorded)
