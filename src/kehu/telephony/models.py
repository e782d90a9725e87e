
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.customers.phones import phone_display
from kehu.users.models import secret_digest


class CtiIntegration(models.Model):
    """A telephony system (PBX, cloud call centre) allowed to post call events."""

    name = models.CharField(_("name"), max_length=100)
    token_digest = models.CharField(max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("telephony integration")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def digest_of(token: str) -> str:
        return secret_digest(token)


class BlockedNumber(models.Model):
    e164 = models.CharField(_("number"), max_length=20, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("blocked number")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", pgettext_lazy("call state", "In progress")
    ENDED = "ended", _("Answered")
    MISSED = "missed", _("Missed")
    DIALLED = "dialled", _("Dialled")


class Call(models.Model):
    """One call; its fields are derived from the events received for it (see services)."""

    # Every index is written on each event, so none twice: unique_call_id leads with
    # integration, the (customer, started_at) index with customer.
    integration = models.ForeignKey(CtiIntegration, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="calls", db_index=False)
    call_id = models.CharField(max_length=100)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices,
                                 default=Direction.INBOUND)
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices,
                             default=CallState.RINGING)
    # The customer's side of the call as the telephony system sent it, and normalised.
    number_raw = models.CharField(_("number"), max_length=64, blank=True)
    number_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    our_number = models.CharField(_("our number"), max_length=64, blank=True)
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("agent"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="calls",
                                 verbose_name=_("customer"), db_index=False)
    contact = models.ForeignKey("customers.Contact", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    match_count = models.PositiveSmallIntegerField(default=0)
    blocked = models.BooleanField(default=False)
    started_at = models.DateTimeField(_("started"), db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cause = models.CharField(_("hang-up cause"), max_length=50, blank=True)
    note = models.OneToOneField("customers.Note", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="call")
    callback_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("call")
        constraints = [
            models.UniqueConstraint(fields=["integration", "call_id"], name="unique_call_id")
        ]
        indexes = [
            models.Index(fields=["state", "direction", "callback_done_at"]),
            models.Index(fields=["customer", "started_at"]),
        ]

    @property
    def number_display(self) -> str:
        if self.number_e164:
            return phone_display(self.number_e164)
        return self.number_raw or str(_("Number withheld"))

    @property
    def duration_seconds(self) -> int | None:
        if self.answered_at and self.ended_at:
            return max(0, int((self.ended_at - self.answered_at).total_seconds()))
        return None


class CallEvent(models.Model):
    """Each event once: a repeated event is recognised and changes nothing."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events",
                             db_index=False)  # one_event_each leads with it
    event = models.CharField(max_length=20)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "event"], name="one_event_each")]


class CallAlert(models.Model):
    """The call panel shown to one agent: written by the webhook, read by the agent's page."""

    # one_alert_each leads with call, the (user, dismissed_at, -id) index with user.
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="alerts",
                             db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="one_alert_each")]
        indexes = [models.Index(fields=["user", "dismissed_at", "-id"])]
