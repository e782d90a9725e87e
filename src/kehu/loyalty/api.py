"""Loyalty over the REST API: the programme's settings, tiers, members, the points ledger,
rewards, redemptions, offers, the notices sent to members; and recording transactions."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.customers.models import Customer, Tag
from kehu.loyalty import catalogue, selectors, services
from kehu.loyalty.admin_forms import MAX_LISTED
from kehu.loyalty.models import (
    Member,
    Notice,
    Offer,
    PointsEntry,
    ProgrammeChange,
    Reward,
    Tier,
    TierChange,
)
from kehu.promises.selectors import day_bounds
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
    min_tier_id: int | None
    min_tier: str | None
    valid_until: datetime | None
    is_active: bool

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


class ProgrammeOut(Schema):
    name: str
    points_per_unit: Decimal = Field(..., description="Points per unit of money spent")
    expiry_days: int = Field(..., description="Points expire after this many days; 0 = never")
    window_days: int = Field(..., description="Tiers are reached over this rolling window")
    grace_days: int = Field(..., description="A member who no longer qualifies keeps the "
                            "tier this long")


class ProgrammeChangeOut(Schema):
    at: datetime
    actor: str | None
    field: str
    from_value: str
    to_value: str

    @staticmethod
    def resolve_actor(obj: ProgrammeChange):
        return obj.actor.username if obj.actor_id else None


class ProgrammePatch(Schema):
    name: str | None = Field(None, max_length=100)
    points_per_unit: Decimal | None = Field(None, description="At most 1000")
    expiry_days: int | None = Field(None, description="0 = never; at most 3650")
    window_days: int | None = Field(None, description="1 to 3650")
    grace_days: int | None = Field(None, description="At most the tier window")


class TierOut(Schema):
    id: int
    name: str
    rank: int
    metric: Tier.Metric
    threshold: Decimal
    bonus_percent: int
    members: int

    @staticmethod
    def resolve_members(obj: Tier):
        return obj.n


class TierIn(Schema):
    name: str = Field(..., max_length=50)
    rank: int
    metric: Tier.Metric
    threshold: Decimal = Decimal(0)
    bonus_percent: int = 0


class TierPatch(Schema):
    name: str | None = Field(None, max_length=50)
    rank: int | None = None
    metric: Tier.Metric | None = None
    threshold: Decimal | None = None
    bonus_percent: int | None = None


class RewardIn(Schema):
    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=500)
    points: int
    stock: int | None = Field(None, description="Empty = unlimited")
    min_tier_id: int | None = Field(None, description="For this tier and above")
    valid_until: datetime | None = None
    is_active: bool = True


class RewardPatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)
    points: int | None = None
    stock: int | None = None
    min_tier_id: int | None = None
    valid_until: datetime | None = None
    is_active: bool | None = None


class OfferOut(Schema):
    id: int
    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    min_tier_id: int | None
    segment: str
    min_clv: Decimal | None
    per_customer_limit: int = Field(..., description="0 = unlimited")
    is_active: bool
    tags: list[str]
    customer_ids: list[int]

    @staticmethod
    def resolve_tags(obj: Offer):
        return [t.name for t in obj.tags.all()]

    @staticmethod
    def resolve_customer_ids(obj: Offer):
        return [c.pk for c in obj.customers.all()]


OFFER_WHO = ("Who may have it: members of `min_tier_id` and above, customers with one of "
             "`tags`, the customers listed, of `segment`, or with a lifetime value of at least "
             "`min_clv` (any of them); none of these means every customer.")


class OfferIn(Schema):
    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=500)
    starts_at: datetime
    ends_at: datetime
    min_tier_id: int | None = None
    segment: str = ""
    min_clv: Decimal | None = None
    per_customer_limit: int = Field(1, description="0 = unlimited")
    is_active: bool = True
    tags: list[str] = Field([], description="Tag names")
    customer_ids: list[int] = Field([], max_length=MAX_LISTED)


class OfferPatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_tier_id: int | None = None
    segment: str | None = None
    min_clv: Decimal | None = None
    per_customer_limit: int | None = None
    is_active: bool | None = None
    tags: list[str] | None = Field(None, description="Tag names")
    customer_ids: list[int] | None = Field(None, max_length=MAX_LISTED)


class NoticeOut(Schema):
    id: int
    member_id: int
    member_number: str
    kind: Notice.Kind
    year: int | None = Field(None, description="Of a greeting")
    tier_change_id: int | None = Field(None, description="Of a tier notice")
    channel: str
    address: str
    body: str
    status: Notice.Status
    error: str
    at: datetime

    @staticmethod
    def resolve_member_number(obj: Notice):
        return obj.member.number


class TierChangeOut(Schema):
    id: int
    kind: TierChange.Kind
    from_tier: str | None
    to_tier: str | None
    at: datetime
    notified_at: datetime | None

    @staticmethod
    def resolve_from_tier(obj: TierChange):
        return obj.from_tier.name if obj.from_tier_id else None

    @staticmethod
    def resolve_to_tier(obj: TierChange):
        return obj.to_tier.name if obj.to_tier_id else None


def _member(pk: int) -> Member:
    return get_object_or_404(Member.objects.select_related("tier"), pk=pk)


def _customer(pk: int) -> Customer:
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        raise ValidationError({"customer_id": [_("No such customer.")]})
    return customer


def _tier_field(data: dict) -> dict:
    """The tier named by `min_tier_id` in a request body, as the services take it."""
    if "min_tier_id" in data:
        pk = data.pop("min_tier_id")
        data["min_tier"] = None if pk is None else Tier.objects.filter(pk=pk).first()
        if pk is not None and data["min_tier"] is None:
            raise ValidationError({"min_tier_id": [_("No such tier.")]})
    return data


def _tags(names: list[str]) -> list[Tag]:
    found = {t.name: t for t in Tag.objects.filter(name__in=names)}
    unknown = [name for name in names if name not in found]
    if unknown:
        raise ValidationError({"tags": [_("No such tags: %(names)s.") % {
            "names": ", ".join(unknown[:20])}]})
    return list(found.values())


def _listed(customer_ids: list[int]) -> list[Customer]:
    found = Customer.objects.in_bulk(customer_ids)
    missing = [str(pk) for pk in customer_ids if pk not in found]
    if missing:
        raise ValidationError({"customer_ids": [_("No customers with these ids: %(ids)s.") % {
            "ids": ", ".join(missing[:20])}]})
    return [found[pk] for pk in dict.fromkeys(customer_ids)]


def _tiers():
    # Meta.ordering does not apply to a query with GROUP BY.
    return Tier.objects.annotate(n=Count("members")).order_by("rank")


def _offers():
    return Offer.objects.prefetch_related(
        "tags", Prefetch("customers", queryset=Customer.objects.only("pk")))


# --- The programme, tiers and the catalogue --------------------------------------------------


@router.get("/loyalty/programme", response=ProgrammeOut, summary="The programme's settings")
def programme_get(request):
    check(request, Capability.CUSTOMER_VIEW)
    return services.programme_get()


@router.patch("/loyalty/programme", response=ProgrammeOut,
              summary="Change the programme's settings (the ones given)")
def programme_update(request, payload: ProgrammePatch):
    check(request, Capability.LOYALTY_MANAGE)
    return services.programme_update(actor=request.user, **payload.dict(exclude_unset=True))


@router.get("/loyalty/programme/changes", response=list[ProgrammeChangeOut],
            summary="Who changed which setting, newest first (the last 500)")
def programme_changes(request):
    check(request, Capability.LOYALTY_MANAGE)
    return list(ProgrammeChange.objects.select_related("actor")[:500])


@router.get("/loyalty/tiers", response=list[TierOut], summary="The tiers, lowest first")
def tiers_list(request):
    check(request, Capability.CUSTOMER_VIEW)
    return list(_tiers())


@router.post("/loyalty/tiers", response={201: TierOut}, summary="Create a tier")
def tier_create(request, payload: TierIn):
    check(request, Capability.LOYALTY_MANAGE)
    tier = catalogue.tier_save(actor=request.user, **payload.dict())
    return Status(201, _tiers().get(pk=tier.pk))


@router.patch("/loyalty/tiers/{tier_id}", response=TierOut, summary="Change a tier")
def tier_update(request, tier_id: int, payload: TierPatch):
    check(request, Capability.LOYALTY_MANAGE)
    tier = get_object_or_404(Tier, pk=tier_id)
    catalogue.tier_save(actor=request.user, tier=tier, **payload.dict(exclude_unset=True))
    return _tiers().get(pk=tier.pk)


@router.post("/loyalty/rewards", response={201: RewardOut}, summary="Add a reward")
def reward_create(request, payload: RewardIn):
    check(request, Capability.LOYALTY_MANAGE)
    return Status(201, catalogue.reward_save(actor=request.user,
                                             **_tier_field(payload.dict())))


@router.patch("/loyalty/rewards/{reward_id}", response=RewardOut, summary="Change a reward")
def reward_update(request, reward_id: int, payload: RewardPatch):
    check(request, Capability.LOYALTY_MANAGE)
    reward = get_object_or_404(Reward, pk=reward_id)
    return catalogue.reward_save(actor=request.user, reward=reward,
                                 **_tier_field(payload.dict(exclude_unset=True)))


@router.get("/loyalty/offers", response=list[OfferOut],
            summary="Every offer and who may have it, newest first")
def offers_list(request, active: bool | None = None):
    check(request, Capability.LOYALTY_MANAGE)
    offers = _offers()
    if active is not None:
        offers = offers.filter(is_active=active)
    return list(offers[:500])


@router.post("/loyalty/offers", response={201: OfferOut}, summary="Create an offer",
             description=OFFER_WHO)
def offer_create(request, payload: OfferIn):
    check(request, Capability.LOYALTY_MANAGE)
    data = _tier_field(payload.dict())
    offer = catalogue.offer_save(actor=request.user, tags=_tags(data.pop("tags")),
                                 customers=_listed(data.pop("customer_ids")), **data)
    return Status(201, _offers().get(pk=offer.pk))


@router.patch("/loyalty/offers/{offer_id}", response=OfferOut,
              summary="Change an offer (the fields given)", description=OFFER_WHO)
def offer_update(request, offer_id: int, payload: OfferPatch):
    check(request, Capability.LOYALTY_MANAGE)
    offer = get_object_or_404(_offers(), pk=offer_id)
    data = _tier_field(payload.dict(exclude_unset=True))
    # Who may have it stays as it is unless the request says otherwise (null = nobody listed).
    tags = _tags(data.pop("tags") or []) if "tags" in data else list(offer.tags.all())
    customers = (_listed(data.pop("customer_ids") or []) if "customer_ids" in data
                 else list(offer.customers.all()))
    catalogue.offer_save(actor=request.user, offer=offer, tags=tags, customers=customers,
                         **data)
    return _offers().get(pk=offer.pk)


# --- Members -----------------------------------------------------------------------------------


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


@router.get("/loyalty/members/{member_id}/tier-history", response=list[TierChangeOut],
            summary="A member's tier changes, newest first")
def member_tier_history(request, member_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return list(selectors.member_tier_history(member=_member(member_id))[:500])


@router.get("/loyalty/members/{member_id}/notices", response=list[NoticeOut],
            summary="The greetings and tier notices a member was sent, newest first")
def member_notices(request, member_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return list(selectors.notices_recent(member=_member(member_id))[:500])


@router.get("/loyalty/notices", response=list[NoticeOut],
            summary="The log of greetings and tier notices, newest first")
def notices_list(request, member_id: int | None = None, kind: Notice.Kind | None = None,
                 since: date | None = None, until: date | None = None):
    """`since` and `until` are days in kehu's time zone, both included."""
    check(request, Capability.CUSTOMER_VIEW)
    member = _member(member_id) if member_id is not None else None
    return list(selectors.notices_recent(
        member=member, kind=kind,
        since=day_bounds(day=since)[0] if since else None,
        until=day_bounds(day=until)[1] if until else None)[:500])


@router.get("/loyalty/rewards", response=list[RewardOut], summary="The rewards catalogue")
def rewards_list(request, member_id: int | None = None, include_inactive: bool = False):
    """With `member_id`: only the rewards that member's tier allows. With `include_inactive`
    (for the programme's managers): every reward, inactive and expired ones too."""
    check(request, Capability.CUSTOMER_VIEW)
    if include_inactive:
        check(request, Capability.LOYALTY_MANAGE)
        return list(Reward.objects.select_related("min_tier")[:500])
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
