"""Promises made to customers and the follow-ups that keep the relationship warm."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.insights.models import Segment

TEXT_MAX = 2000


class Commitment(models.Model):
    """承诺: what was promised, to whom, by whom, by when — and whether it was kept."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        RENEGOTIATED = "renegotiated", _("Renegotiated")

    # Still to keep: open, or moved to a new time with the customer's agreement.
    ACTIVE_STATUSES = ("open", "renegotiated")

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        "service.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commitments",
        verbose_name=_("case"),
    )
    promise = models.CharField(_("what was promised"), max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("promised by"),
    )
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    evidence = models.CharField(_("how it was kept"), max_length=TEXT_MAX, blank=True)
    reason = models.CharField(_("reason"), max_length=TEXT_MAX, blank=True)
    closed_at = models.DateTimeField(_("kept or broken at"), null=True, blank=True)
    times_moved = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("promise")
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="promise_owner_due"),
            models.Index(fields=["customer", "status"], name="promise_customer"),
            models.Index(fields=["status", "due_at"], name="promise_status_due"),
        ]

    def __str__(self) -> str:
        return self.promise

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class FollowUpKind(models.TextChoices):
    CALLBACK = "callback", _("Callback")
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class FollowUpPolicy(models.Model):
    """A rule the periodic job turns into follow-ups, never twice for the same occasion."""

    class Trigger(models.TextChoices):
        KEY_ACCOUNT_EVERY = "key_account_every", _("Key accounts, every N days")
        AFTER_RESOLVED = "after_resolved", _("N days after a complaint is resolved")
        MISSED_CALL = "missed_call", _("A missed call from a known customer")
        LOST_CUSTOMER = "lost_customer", _("A lost customer: win-back contact")
        FIRST_PURCHASE = "first_purchase", _("N days after a customer's first purchase")
        SEGMENT_EVERY = "segment_every", _("Customers in a value segment, every N days")

    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("when"), max_length=30, choices=Trigger.choices)
    days = models.PositiveSmallIntegerField(
        _("N days"), default=0, validators=[MinValueValidator(0)]
    )
    kind = models.CharField(_("kind of follow-up"), max_length=10, choices=FollowUpKind.choices)
    # The RFM segment of the latest value refresh a segment policy targets.
    segment = models.CharField(
        _("value segment"), max_length=30, choices=Segment.choices, blank=True
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    # Who gets the follow-up when the customer has no account manager.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("otherwise assigned to"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("follow-up policy")

    def __str__(self) -> str:
        return self.name


class FollowUp(models.Model):
    """回访: a callback, visit or routine contact to make, and what came of it."""

    Kind = FollowUpKind

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("contact"),
    )
    case = models.ForeignKey(
        "service.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("case"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("owner"),
    )
    due_at = models.DateTimeField(_("due"))
    purpose = models.CharField(_("purpose"), max_length=200)
    outcome = models.TextField(
        _("outcome"), max_length=TEXT_MAX, blank=True, validators=[MaxLengthValidator(TEXT_MAX)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    policy = models.ForeignKey(
        FollowUpPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("made by policy"),
    )
    # The occasion a policy made it for (a case, a call, a period): with the policy and
    # the customer, unique, so that running the job again makes nothing new.
    occasion = models.CharField(max_length=60, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("follow-up")
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="followup_owner_due"),
            models.Index(fields=["customer", "status"], name="followup_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "customer", "occasion"],
                condition=Q(policy__isnull=False),
                name="followup_once_per_occasion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.purpose}"


class Visit(models.Model):
    """A face-to-face visit (seed 002): booked by phone, prepared, confirmed before leaving,
    then written up — the customer's situation, problems, implied and explicit needs
    (SPIN), the decision-makers met, and the next step."""

    class Stage(models.TextChoices):
        BOOKED = "booked", _("Booked")
        PREPARED = "prepared", _("Prepared")
        CONFIRMED = "confirmed", _("Confirmed")
        DONE = "done", _("Visited")

    follow_up = models.OneToOneField(
        FollowUp, on_delete=models.CASCADE, primary_key=True, related_name="visit"
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default="booked")
    place = models.CharField(_("where"), max_length=200, blank=True)
    # [{"item": "...", "done": bool}]
    checklist = models.JSONField(_("preparation"), default=list, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed by phone"), null=True, blank=True)
    situation = models.TextField(_("situation"), blank=True, max_length=TEXT_MAX)
    problems = models.TextField(_("problems"), blank=True, max_length=TEXT_MAX)
    implied_needs = models.TextField(_("implied needs"), blank=True, max_length=TEXT_MAX)
    explicit_needs = models.TextField(_("explicit needs"), blank=True, max_length=TEXT_MAX)
    decision_makers = models.ManyToManyField(
        "customers.Contact", blank=True, related_name="visits_met", verbose_name=_("met")
    )
    next_step = models.CharField(_("next step"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("visit")


class CalendarFeed(models.Model):
    """A person's iCalendar feed; the secret in its address is stored only as a hash."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
