"""Outbound webhooks: where case events go, and every delivery of them with its attempts."""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

URL_MAX = 500
# Attempts after the first: the wait before each. After the last one fails the delivery
# fails for good (about 15 hours of trying in all).
RETRY_DELAYS_MINUTES = (1, 5, 30, 120, 720)


def secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def validate_webhook_url(value: str) -> None:
    """An absolute http(s) address with a host: nothing a browser or shell would run."""
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https"):
        raise ValidationError(
            _("A webhook address must start with http:// or https://."), code="scheme"
        )
    if not parts.hostname:
        raise ValidationError(_("The webhook address has no host name."), code="host")
    URLValidator(
        schemes=["http", "https"],
        message=_("Enter a valid web address, such as https://example.com/hooks."),
    )(value)


class Event(models.TextChoices):
    CASE_CREATED = "case.created", _("Case created")
    CASE_UPDATED = "case.updated", _("Case updated (status, assignment, reply)")
    CASE_RESOLVED = "case.resolved", _("Case resolved")
    # Sent by an admin to check a receiver; not subscribable.
    TEST = "test", _("Test event")


SUBSCRIBABLE = [Event.CASE_CREATED, Event.CASE_UPDATED, Event.CASE_RESOLVED]


class Endpoint(models.Model):
    """A receiver of case events, chosen by an administrator."""

    url = models.CharField(_("URL"), max_length=URL_MAX, validators=[validate_webhook_url])
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Kept readable: it signs every request, so the receiver and kehu must both know it.
    secret = models.CharField(_("signing secret"), max_length=100, default=secret_generate)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def event_labels(self) -> list[str]:
        return [str(Event(e).label) for e in self.events if e in Event.values]


class Delivery(models.Model):
    """One event for one endpoint: the exact body sent each time, and where it stands."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed for good")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The event's id, the same in every retry and for every endpoint: receivers deduplicate
    # on it.
    event_id = models.UUIDField(_("event id"), db_index=True)
    event = models.CharField(_("event"), max_length=30, choices=Event.choices)
    case = models.ForeignKey(
        "service.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The JSON text as serialised once: every attempt signs and sends these same bytes.
    body = models.TextField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
