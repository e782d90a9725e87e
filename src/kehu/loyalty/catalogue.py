"""Writes of the programme's catalogue: tiers, rewards and offers (LOYALTY_MANAGE only).

Each `<thing>_save` creates the thing when none is given, else changes it; the model's own
validation runs first, so a bad value is a ValidationError and nothing is written.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.customers.models import Customer, Tag
from kehu.loyalty.models import Offer, Reward, Tier
from kehu.users.models import User
from kehu.users.roles import Capability

MAX_BONUS_PERCENT = 1000
TIER_FIELDS = {"name", "rank", "metric", "threshold", "bonus_percent"}
REWARD_FIELDS = {"name", "description", "points", "stock", "min_tier", "valid_until",
                 "is_active"}
OFFER_FIELDS = {"name", "description", "starts_at", "ends_at", "min_tier", "segment",
                "min_clv", "per_customer_limit", "is_active"}


def _check_can_manage(actor: User) -> None:
    if not actor.can(Capability.LOYALTY_MANAGE):
        raise ValidationError(_("You may not change the loyalty programme."), code="forbidden")


def fields_apply(instance, allowed: set[str], fields: dict):
    """Sets the allowed fields, validates the model and saves it."""
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"unknown field: {name}")
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def tier_save(*, actor: User, tier: Tier | None = None, **fields) -> Tier:
    _check_can_manage(actor)
    if fields.get("threshold") is not None and fields["threshold"] < 0:
        raise ValidationError({"threshold": _("The threshold may not be negative.")})
    if (fields.get("bonus_percent") or 0) > MAX_BONUS_PERCENT:
        raise ValidationError({"bonus_percent": _(
            "The bonus may be at most %(n)d%%.") % {"n": MAX_BONUS_PERCENT}})
    return fields_apply(tier or Tier(), TIER_FIELDS, fields)


@transaction.atomic
def reward_save(*, actor: User, reward: Reward | None = None, **fields) -> Reward:
    _check_can_manage(actor)
    return fields_apply(reward or Reward(), REWARD_FIELDS, fields)


@transaction.atomic
def offer_save(*, actor: User, offer: Offer | None = None, tags: Iterable[Tag] = (),
               customers: Iterable[Customer] = (), **fields) -> Offer:
    """The offer and who may have it: members of a tier and above, customers with one of the
    tags, or the listed customers (any of them); none of these means every customer."""
    _check_can_manage(actor)
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The offer must end after it starts.")})
    customers = list(customers)
    merged = [c.number for c in customers if c.merged_into_id]
    if merged:
        raise ValidationError({"customers": _(
            "These customers were merged into others; list those instead: %(numbers)s."
        ) % {"numbers": ", ".join(merged)}})
    offer = fields_apply(offer or Offer(), OFFER_FIELDS, fields)
    offer.tags.set(tags)
    offer.customers.set(customers)
    return offer
