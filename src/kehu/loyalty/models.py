"""Loyalty: the programme, members and tiers, the points ledger, rewards and offers."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.insights.models import Segment
from kehu.setting_changes import SettingChange


class Programme(models.Model):
    """The programme's settings: one row."""

    name = models.CharField(_("name"), max_length=100, default="kehu")
    points_per_unit = models.DecimalField(
        _("points per unit of money"), max_digits=8, decimal_places=4, default=Decimal(1),
        validators=[MinValueValidator(Decimal(0))],
    )
    expiry_days = models.PositiveIntegerField(
        _("points expire after (days, 0 = never)"), default=365
    )
    window_days = models.PositiveIntegerField(_("tier window (days)"), default=365)
    grace_days = models.PositiveIntegerField(_("grace before a downgrade (days)"), default=30)
    # The earning job has looked at every transaction up to this id.
    earned_through = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("loyalty programme")

    def __str__(self) -> str:
        return self.name


class ProgrammeChange(SettingChange):
    """Who changed which programme setting, from what to what."""

    settings_model = Programme
    from_value = models.CharField(max_length=100)
    to_value = models.CharField(max_length=100)

    class Meta(SettingChange.Meta):
        pass


class Tier(models.Model):
    """等级: reached by spend, points or visits over the programme's rolling window."""

    class Metric(models.TextChoices):
        SPEND = "spend", _("Spend")
        POINTS = "points", pgettext_lazy("loyalty", "Points")
        VISITS = "visits", _("Visits")

    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    metric = models.CharField(_("measured by"), max_length=10, choices=Metric.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2,
                                    default=Decimal(0))
    bonus_percent = models.PositiveSmallIntegerField(_("bonus points (%)"), default=0)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("tier")

    def __str__(self) -> str:
        return self.name


class CategoryRate(models.Model):
    category = models.CharField(_("category"), max_length=100, unique=True)
    multiplier = models.DecimalField(_("multiplier"), max_digits=6, decimal_places=2,
                                     validators=[MinValueValidator(Decimal(0))])

    class Meta:
        verbose_name = _("category multiplier")

    def __str__(self) -> str:
        return f"{self.category} ×{self.multiplier}"


class Campaign(models.Model):
    """A time-limited multiplier on earning, for all purchases or one category."""

    name = models.CharField(_("name"), max_length=100)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    category = models.CharField(_("category"), max_length=100, blank=True)
    multiplier = models.DecimalField(_("multiplier"), max_digits=6, decimal_places=2,
                                     validators=[MinValueValidator(Decimal(0))])

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("campaign")

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """会员. `balance` is kept equal to the sum of the member's ledger entries."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="membership",
        verbose_name=_("customer"),
    )
    number = models.CharField(_("member number"), max_length=20, unique=True)
    joined_at = models.DateTimeField(_("joined"))
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="members", verbose_name=_("tier"))
    tier_since = models.DateTimeField(_("in this tier since"), null=True, blank=True)
    grace_until = models.DateTimeField(_("keeps the tier until"), null=True, blank=True)
    balance = models.IntegerField(_("points balance"), default=0)

    class Meta:
        ordering = ["number"]
        verbose_name = _("member")

    def __str__(self) -> str:
        return self.number


class TierChange(models.Model):
    """Tier history, and the notices to send: an upgrade, a downgrade, a warning."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")
        AT_RISK = "at_risk", _("Tier at risk (grace period)")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    from_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, related_name="+")
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(_("time"))
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("tier change")
        indexes = [models.Index(fields=["member", "at"], name="tierchange_member")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind}"


class PointsEntry(models.Model):
    """One line of the append-only points ledger: never changed, never deleted.

    Credits (earn, positive adjustments) are lots; `lot_at` dates them for FIFO expiry.
    A claw-back carries the `lot_at` of the lot it takes back.
    """

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        CLAWBACK = "clawback", _("Taken back (refund)")
        ADJUST = "adjust", _("Adjusted")

    DEBITS = ("redeem", "expire")

    # Every index costs each of the millions of rows earning appends: member and transaction
    # are looked up through (member, at) and the unique (transaction, kind) below, and
    # created_by (empty on earned points) through an index of the rows that have one.
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries",
                               db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    at = models.DateTimeField(_("time"))
    lot_at = models.DateTimeField(null=True, blank=True)
    transaction = models.ForeignKey(
        "sales.Transaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("points entry")
        indexes = [
            models.Index(fields=["member", "at"], name="points_member_at"),
            models.Index(fields=["created_by"], condition=Q(created_by__isnull=False),
                         name="points_created_by"),
        ]
        constraints = [
            # A transaction earns once and is taken back once: only earnings and claw-backs
            # name a transaction.
            models.UniqueConstraint(fields=["transaction", "kind"], name="points_once"),
            models.CheckConstraint(
                condition=~Q(points=0)
                & (Q(kind__in=["earn"], points__gt=0) | ~Q(kind__in=["earn"]))
                & (Q(kind__in=["redeem", "expire", "clawback"], points__lt=0)
                   | ~Q(kind__in=["redeem", "expire", "clawback"])),
                name="points_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The points ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The points ledger is append-only.")


class Reward(models.Model):
    """A reward in the catalogue, for points; limited stock and minimum tier optional."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    points = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(_("stock (empty = unlimited)"), null=True, blank=True)
    min_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("for this tier and above"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["points", "name"]
        verbose_name = _("reward")
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="reward_points")]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    points = models.PositiveIntegerField(_("points"))
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("redemption")

    def __str__(self) -> str:
        return f"{self.member_id} {self.reward_id} {self.points}"


class Offer(models.Model):
    """优惠 for chosen customers: by tier, tags, an explicit list, value segment or lifetime
    value (any of them)."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    min_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("members of this tier and above"))
    tags = models.ManyToManyField("customers.Tag", blank=True, related_name="+",
                                  verbose_name=_("customers with these tags"))
    customers = models.ManyToManyField("customers.Customer", blank=True, related_name="+",
                                       verbose_name=_("these customers"))
    # Scores of the latest customer value refresh (kehu.insights).
    segment = models.CharField(_("customers of this value segment"), max_length=30,
                               choices=Segment.choices, blank=True)
    min_clv = models.DecimalField(_("customers with a lifetime value of at least"),
                                  max_digits=14, decimal_places=2, null=True, blank=True,
                                  validators=[MinValueValidator(Decimal(0))])
    per_customer_limit = models.PositiveSmallIntegerField(
        _("uses per customer (0 = unlimited)"), default=1
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-starts_at", "name"]
        verbose_name = _("offer")

    def __str__(self) -> str:
        return self.name


class OfferUse(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="uses")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    at = models.DateTimeField(_("time"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("offer use")
        indexes = [models.Index(fields=["offer", "customer"], name="offeruse_customer")]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.customer_id}"


class Notice(models.Model):
    """What the programme told a member: a birthday or anniversary greeting, a tier notice.

    Kept as a log agents can read, and as the guard that sends each once: a greeting once a
    year per member, a tier notice once per tier change."""

    class Kind(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday greeting")
        ANNIVERSARY = "anniversary", _("Membership anniversary")
        UPGRADE = "upgrade", _("Upgrade notice")
        DOWNGRADE = "downgrade", _("Downgrade notice")
        AT_RISK = "at_risk", _("Tier at risk notice")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        NO_ADDRESS = "no_address", _("No address to send to")
        FAILED = "failed", _("Sending failed")

    GREETINGS = ("birthday", "anniversary")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notices",
                               verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    tier_change = models.OneToOneField(TierChange, on_delete=models.CASCADE, null=True,
                                       blank=True, related_name="notice")
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    address = models.CharField(_("address"), max_length=254, blank=True)
    body = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.SENT)
    error = models.CharField(_("error"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("notice to a member")
        indexes = [models.Index(fields=["member", "at"], name="notice_member_at")]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "year"],
                                    condition=Q(kind__in=["birthday", "anniversary"]),
                                    name="notice_greeting_once_a_year"),
            models.CheckConstraint(
                condition=Q(kind__in=["birthday", "anniversary"], year__isnull=False)
                | Q(tier_change__isnull=False),
                name="notice_greeting_has_year_or_tier_change",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.at:%Y-%m-%d}"
