from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import (
    STYLE_GUIDANCE,
    CommunicationStyle,
    ContactOutcome,
    ContactReason,
    CustomerKind,
    CustomerStatus,
    DecisionRole,
    LostReason,
    NoteKind,
    PhoneLabel,
)
from kehu.customers.phones import phone_display


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    number = models.CharField(_("customer number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices)
    name = models.CharField(_("name"), max_length=200)
    salutation = models.CharField(_("how to address them"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    lost_reason = models.CharField(
        _("reason lost"), max_length=30, choices=LostReason.choices, blank=True
    )
    # When the status last became lost: set and cleared by the services, never by hand.
    lost_at = models.DateTimeField(_("lost on"), null=True, blank=True, editable=False)
    # Looked up by the index on (owner, status) below, whose first column it is.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="owned_customers", verbose_name=_("account manager"), db_index=False,
    )
    preferences = models.TextField(_("preferences"), blank=True)
    usual = models.CharField(_("the usual"), max_length=200, blank=True)
    needs = models.TextField(_("needs"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    external_id = models.CharField(
        _("external id"), max_length=100, null=True, blank=True, unique=True
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from",
        db_index=False,  # indexed where set: see Meta
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        # Foreign keys that are empty on nearly every row are indexed where they are set:
        # a lookup by one (merged_into = x) never needs the rest, and each import or
        # write would otherwise keep an index entry of NULL for every customer.
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["merged_into"], condition=models.Q(merged_into__isnull=False),
                         name="customers_merged_into_set"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    @property
    def is_organisation(self) -> bool:
        return self.kind == CustomerKind.ORGANISATION


class Contact(models.Model):
    """A person at an organisation customer."""

    organisation = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=100)
    salutation = models.CharField(_("how to address them"), max_length=100, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    decision_role = models.CharField(
        _("role in purchase decisions"), max_length=20, choices=DecisionRole.choices,
        default=DecisionRole.OPERATIONAL,
    )
    style = models.CharField(
        _("communication style"), max_length=10, choices=CommunicationStyle.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(
        _("external id"), max_length=100, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def style_guidance(self) -> str:
        return STYLE_GUIDANCE.get(self.style, "")


class Phone(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    contact = models.ForeignKey(  # indexed where set (see Customer.Meta): most are a customer's
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="phones",
        db_index=False,
    )
    e164 = models.CharField(_("number (E.164)"), max_length=20, db_index=True)
    extension = models.CharField(_("extension"), max_length=10, blank=True)
    label = models.CharField(
        _("label"), max_length=10, choices=PhoneLabel.choices, default=PhoneLabel.MOBILE
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["contact"], condition=models.Q(contact__isnull=False),
                                name="customers_phone_contact_set")]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return phone_display(self.e164, self.extension)

    @property
    def tel_uri(self) -> str:
        return f"tel:{self.e164}" + (f";ext={self.extension}" if self.extension else "")


class Email(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    contact = models.ForeignKey(  # indexed where set (see Customer.Meta): most are a customer's
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="emails",
        db_index=False,
    )
    address = models.CharField(_("email"), max_length=254, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["contact"], condition=models.Q(contact__isnull=False),
                                name="customers_email_contact_set")]

    def __str__(self) -> str:
        return self.address


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=50, blank=True)
    text = models.CharField(_("address"), max_length=300)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text


class Note(models.Model):
    """A timeline entry: a note or a logged contact (call, visit, email)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=NoteKind.choices, default="note")
    outcome = models.CharField(_("outcome"), max_length=20, choices=ContactOutcome.choices,
                               blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=ContactReason.choices,
                              blank=True)
    body = models.TextField(_("note"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Change(models.Model):
    """Who changed what on a customer record and when. Written by services, never edited."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=30)
    # {"field": [old, new]} for edits; free detail for other actions.
    fields = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]


class SearchEntry(models.Model):
    """One findable person or organisation: a customer, or a contact of one.

    `document` holds search tokens (see kehu.customers.search); SQLite indexes it
    with FTS5, PostgreSQL with a GIN full-text index (both made in migrations).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    document = models.TextField()


class NumberSequence(models.Model):
    """Hands out customer numbers in blocks, so bulk imports need one write per block."""

    name = models.CharField(max_length=20, primary_key=True)
    last = models.BigIntegerField(default=0)


class ImportJob(models.Model):
    """A file uploaded through the web, imported by the background worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        REJECTED = "rejected", _("Nothing imported")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    what = models.CharField(max_length=20, default="customers")
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    skip_invalid = models.BooleanField(default=False)
    encoding = models.CharField(max_length=20, blank=True)
    # The uploader's language: the worker writes the report's messages in it.
    language = models.CharField(max_length=10, default="zh-hans")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0
