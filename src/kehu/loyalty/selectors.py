"""Reads of loyalty: members, ledgers, offers for a customer, and the reports."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.customers.models import Customer
from kehu.insights.models import CustomerValue
from kehu.loyalty import answers
from kehu.loyalty.models import (
    Member,
    Notice,
    Offer,
    OfferUse,
    PointsEntry,
    Programme,
    Redemption,
    Reward,
    Tier,
    TierChange,
)


def customer_member(*, customer: Customer) -> Member | None:
    return Member.objects.select_related("tier").filter(customer=customer).first()


def member_entries(*, member: Member) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(member=member).order_by("-at", "-pk")


def member_ledger_sum(*, member: Member) -> int:
    return PointsEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0


def rewards_available(*, member: Member | None = None, now: datetime | None = None
                      ) -> QuerySet[Reward]:
    now = now or timezone.now()
    rewards = Reward.objects.filter(is_active=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)).select_related("min_tier")
    if member is not None:
        rank = member.tier.rank if member.tier_id else -1
        rewards = rewards.filter(Q(min_tier__isnull=True) | Q(min_tier__rank__lte=rank))
    return rewards


def member_tier_history(*, member: Member) -> QuerySet[TierChange]:
    return member.tier_changes.select_related("from_tier", "to_tier")


def notices_recent(*, member: Member | None = None, kind: str | None = None,
                   since: datetime | None = None, until: datetime | None = None
                   ) -> QuerySet[Notice]:
    """The log of greetings and tier notices, newest first: of one member, of one kind,
    sent in [since, until)."""
    notices = Notice.objects.select_related("member__customer")
    if member is not None:
        notices = notices.filter(member=member)
    if kind:
        notices = notices.filter(kind=kind)
    if since is not None:
        notices = notices.filter(at__gte=since)
    if until is not None:
        notices = notices.filter(at__lt=until)
    return notices


@dataclass
class OfferStatus:
    offer: Offer
    eligible: bool
    reason: str = ""
    technique: str = ""
    technique_name: str = ""
    answer: str = ""
    uses_left: int | None = None


def _no(offer: Offer, reason: str, technique: str) -> OfferStatus:
    name, answer = answers.TECHNIQUES[technique]
    return OfferStatus(offer=offer, eligible=False, reason=reason, technique=technique,
                       technique_name=str(name), answer=str(answer))


_LOOK_UP = object()


def offer_status(*, offer: Offer, customer: Customer, now: datetime | None = None,
                 member=_LOOK_UP, tag_ids: set[int] | None = None,
                 listed: bool | None = None, list_size: int | None = None,
                 used: int | None = None, value=_LOOK_UP) -> OfferStatus:
    """Whether the customer has this offer, and if not, why and what to say."""
    now = now or timezone.now()
    if member is _LOOK_UP:
        member = customer_member(customer=customer)
    if not offer.is_active or offer.ends_at <= now:
        return _no(offer, _("The offer has ended."), answers.PUBLICISE)
    if offer.starts_at > now:
        return _no(offer, _("The offer has not started yet."), answers.PUBLICISE)
    tiers_ok = tags_ok = list_ok = None
    if offer.min_tier_id:
        tiers_ok = bool(member and member.tier_id and member.tier.rank >= offer.min_tier.rank)
    offer_tags = {t.pk for t in offer.tags.all()}
    if offer_tags:
        if tag_ids is None:
            tag_ids = set(customer.tags.values_list("pk", flat=True))
        tags_ok = bool(offer_tags & tag_ids)
    if listed is None:
        listed = offer.customers.filter(pk=customer.pk).exists()
    if list_size is None:
        list_size = 1 if listed else offer.customers.count()
    if list_size:
        list_ok = listed
    segment_ok = clv_ok = None
    if offer.segment or offer.min_clv is not None:
        if value is _LOOK_UP:
            value = CustomerValue.objects.filter(customer=customer).first()
        if offer.segment:
            segment_ok = bool(value and value.segment == offer.segment)
        if offer.min_clv is not None:
            clv_ok = bool(value and value.clv is not None and value.clv >= offer.min_clv)
    checks = [c for c in (tiers_ok, tags_ok, list_ok, segment_ok, clv_ok) if c is not None]
    if checks and not any(checks):
        if tiers_ok is False and not (tags_ok or list_ok):
            return _no(offer, _("The offer is for %(tier)s members and above.") % {
                "tier": offer.min_tier.name}, answers.EXAMPLE)
        return _no(offer, _("The offer is for chosen customers, and this customer is not "
                            "one of them."), answers.EXCLUSIVE)
    if offer.per_customer_limit:
        if used is None:
            used = OfferUse.objects.filter(offer=offer, customer=customer).count()
        if used >= offer.per_customer_limit:
            return _no(offer, _("The customer has already used this offer as often as it "
                                "allows."), answers.CARING)
        return OfferStatus(offer=offer, eligible=True,
                           uses_left=offer.per_customer_limit - used)
    return OfferStatus(offer=offer, eligible=True)


def customer_offers(*, customer: Customer, member=_LOOK_UP,
                    now: datetime | None = None) -> list[OfferStatus]:
    """Every current offer with this customer's standing: a handful of queries, whatever
    the number of offers."""
    now = now or timezone.now()
    if member is _LOOK_UP:
        member = customer_member(customer=customer)
    offers = list(
        Offer.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now)
        .select_related("min_tier").prefetch_related("tags")
        .annotate(listed=Count("customers", filter=Q(customers=customer)),
                  list_size=Count("customers", distinct=True))[:50]
    )
    if not offers:
        return []
    tag_ids = set(customer.tags.values_list("pk", flat=True))
    value = (CustomerValue.objects.filter(customer=customer).first()
             if any(o.segment or o.min_clv is not None for o in offers) else None)
    used = dict(OfferUse.objects.filter(customer=customer, offer__in=offers)
                .values("offer").annotate(n=Count("pk")).values_list("offer", "n"))
    return [
        offer_status(offer=offer, customer=customer, now=now, member=member, tag_ids=tag_ids,
                     listed=bool(offer.listed), list_size=offer.list_size,
                     used=used.get(offer.pk, 0), value=value)
        for offer in offers
    ]


def customer_loyalty(*, customer: Customer) -> dict:
    """What the card and the call panel show: membership, balance, offers."""
    member = customer_member(customer=customer)
    offers = customer_offers(customer=customer, member=member)
    return {
        "member": member,
        "offers_had": [s for s in offers if s.eligible],
        "offers_not": [s for s in offers if not s.eligible],
    }


# --- Reports -------------------------------------------------------------------------------


def report_members_by_tier() -> list[dict]:
    rows = list(Tier.objects.annotate(n=Count("members")).order_by("rank")
                .values("name", "rank", "n"))
    rows.append({"name": _("No tier"), "rank": -1,
                 "n": Member.objects.filter(tier__isnull=True).count()})
    return rows


def report_points(*, now: datetime | None = None, within_days: int = 30) -> dict:
    """Points liability: outstanding, and what will expire within `within_days` days."""
    from kehu.loyalty.services import programme_get

    now = now or timezone.now()
    programme: Programme = programme_get()
    outstanding = Member.objects.filter(balance__gt=0).aggregate(s=Sum("balance"))["s"] or 0
    expiring = 0
    if programme.expiry_days:
        cutoff = now + timedelta(days=within_days) - timedelta(days=programme.expiry_days)
        per_member = (
            PointsEntry.objects.filter(member__balance__gt=0)
            .filter(Q(lot_at__isnull=True) | Q(lot_at__lte=cutoff))
            .values("member").annotate(left=Sum("points")).filter(left__gt=0)
            .values_list("left", "member__balance")
        )
        expiring = sum(min(left, balance) for left, balance in per_member)
    totals = PointsEntry.objects.aggregate(
        earned=Sum("points", filter=Q(kind__in=["earn", "clawback"])),
        redeemed=Sum("points", filter=Q(kind="redeem")),
        expired=Sum("points", filter=Q(kind="expire")),
    )
    earned = totals["earned"] or 0
    redeemed = -(totals["redeemed"] or 0)
    return {
        "outstanding": outstanding, "expiring": expiring, "within_days": within_days,
        "earned": earned, "redeemed": redeemed, "expired": -(totals["expired"] or 0),
        "redemption_rate": (redeemed / earned) if earned else None,
    }


def report_offers(*, now: datetime | None = None) -> list[dict]:
    """Offer take-up: customers who took each offer (and, for listed offers, of how many)."""
    rows = Offer.objects.annotate(
        takers=Count("uses__customer", distinct=True), uses_n=Count("uses", distinct=True),
        listed_n=Count("customers", distinct=True),
    ).order_by("-starts_at")[:100]
    return [{
        "offer": offer, "takers": offer.takers, "uses": offer.uses_n, "listed": offer.listed_n,
        "take_up": (offer.takers / offer.listed_n) if offer.listed_n else None,
    } for offer in rows]


def redemptions_recent(*, member: Member | None = None) -> QuerySet[Redemption]:
    redemptions = Redemption.objects.select_related("reward", "member")
    if member is not None:
        redemptions = redemptions.filter(member=member)
    return redemptions.order_by("-at", "-pk")


REPEAT_WITHIN_DAYS = 365


def report_repeat_and_cross(*, now: datetime | None = None,
                            within_days: int = REPEAT_WITHIN_DAYS) -> dict:
    """Repeat-purchase and cross-buying rates of members against non-members: of the
    customers who bought in the last `within_days` days, the share who bought more than once,
    and the share who bought in more than one category. One pass over the purchases, in the
    database."""
    from django.db import connection

    now = now or timezone.now()
    since = connection.ops.adapt_datetimefield_value(now - timedelta(days=within_days))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT member, COUNT(*), SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN categories > 1 THEN 1 ELSE 0 END)"
            " FROM (SELECT t.customer_id, COUNT(*) AS n,"
            "  COUNT(DISTINCT NULLIF(t.category, '')) AS categories,"
            "  CASE WHEN m.id IS NULL THEN 0 ELSE 1 END AS member"
            "  FROM sales_transaction t"
            "  LEFT JOIN loyalty_member m ON m.customer_id = t.customer_id"
            "  WHERE t.kind = 'purchase' AND t.occurred_at >= %s"
            "  GROUP BY t.customer_id, m.id) buyers"
            " GROUP BY member", [since])
        rows = {bool(member): (buyers, repeat, cross)
                for member, buyers, repeat, cross in cursor.fetchall()}

    def rates(member: bool) -> dict:
        buyers, repeat, cross = rows.get(member, (0, 0, 0))
        return {"buyers": buyers, "repeat": repeat, "cross": cross,
                "repeat_rate": repeat / buyers if buyers else None,
                "cross_rate": cross / buyers if buyers else None}

    return {"within_days": within_days, "members": rates(True), "others": rates(False)}
