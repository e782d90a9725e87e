from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kehu.service.calendars import holiday_regions, weekly_hours_from_json
from kehu.setting_changes import SettingChange
from kehu.users.roles import Role


def default_time_zone() -> str:
    return settings.TIME_ZONE


def default_hours() -> list[list[list[str]]]:
    """A Chinese office week: 09:00–12:00 and 13:30–18:00, Monday to Friday."""
    workday = [["09:00", "12:00"], ["13:30", "18:00"]]
    return [workday] * 5 + [[], []]


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(zone)s is not a time zone name such as Asia/Shanghai."), params={"zone": value}
        ) from None


def validate_region(value: str) -> None:
    if value not in holiday_regions():
        raise ValidationError(
            _("%(region)s is not a country code the holiday data knows."),
            params={"region": value},
        )


def validate_hours(value: object) -> None:
    try:
        weekly_hours_from_json(value)
    except ValueError:
        raise ValidationError(
            _("Working hours must be intervals in order, within the day, not overlapping.")
        ) from None


class BusinessCalendar(models.Model):
    """When the service desk is open; SLA clocks run only then."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # Seven lists, Monday first, of ["HH:MM", "HH:MM"] intervals; "24:00" ends a day.
    hours = models.JSONField(_("working hours"), default=default_hours, validators=[validate_hours])
    region = models.CharField(
        _("public holidays of"),
        max_length=2,
        default="CN",
        blank=True,
        validators=[validate_region],
    )
    is_default = models.BooleanField(_("default calendar"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="service_one_default_calendar",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """An admin's word on one date, over the weekly hours and the holiday package."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (closed)")
        WORKING = "working", _("Working day")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="service_one_day_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class ProvisionalYearNotice(models.Model):
    """That supervisors were emailed about a coming provisional year: once per region and
    year (see holiday_schedules)."""

    region = models.CharField(max_length=2)
    year = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="service_one_notice_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}"


# --- Service cases ----------------------------------------------------------------------

SUBJECT_MAX = 200
TEXT_MAX = 10_000
# The names the data migration seeds, here so that they are translated when shown.
SEEDED_CATEGORY_NAMES = (
    gettext_noop("Product"),
    gettext_noop("Service"),
    gettext_noop("Broken commitment"),
    gettext_noop("Offer or discount"),
    gettext_noop("Other"),
)


class NamedItem(models.Model):
    """A code and a name an admin adds or retires; seeded names are shown translated."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return gettext(self.name)


class ComplaintCategory(NamedItem):
    """What a complaint is about; seeded with the domain's five, extended by an admin."""

    class Meta(NamedItem.Meta):
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")


class RootCause(NamedItem):
    """Why a complaint happened, recorded when it is resolved; extended by an admin."""

    class Meta(NamedItem.Meta):
        verbose_name = _("root cause")


class SlaPolicy(models.Model):
    """Targets in business minutes for cases of a kind and priority (blank: any).

    The most specific policy wins; a policy for key accounts applies only to key-account
    customers (tagged "VIP" or "大客户"), and wins over one that is not. A policy for a
    customer value (the most profitable tier, or at risk of leaving, from the latest value
    refresh) applies only to such customers, and wins next.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("case kind"), max_length=20, blank=True)
    priority = models.CharField(_("priority"), max_length=10, blank=True)
    key_accounts = models.BooleanField(_("for key accounts"), default=False)
    # From the latest value refresh (kehu.insights); values as insights.selectors names them.
    customer_value = models.CharField(
        _("customer value"),
        max_length=20,
        blank=True,
        choices=[
            ("top_tier", _("Most profitable tier")),
            ("churn_risk", _("At risk of leaving")),
        ],
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)")
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"))
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("calendar (blank: the default)"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("service-level policy")

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return str(Case.Kind(self.kind).label) if self.kind in Case.Kind.values else ""

    @property
    def priority_label(self) -> str:
        return (
            str(Case.Priority(self.priority).label) if self.priority in Case.Priority.values else ""
        )


# Clocks still running: the rows the breach sweep looks at. Not by status: SQLite uses a
# partial index only when the query repeats its condition, and it cannot match an IN list
# of bound parameters; an open case is never resolved, so resolved_at says enough.
_WATCHED = Q(sla_paused_at=None, resolved_at=None)


class Case(models.Model):
    """A complaint, request, inquiry or praise, with its lifecycle and SLA clocks."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        REQUEST = "request", _("Service request")
        INQUIRY = "inquiry", _("Inquiry")
        PRAISE = "praise", _("Praise")

    class Channel(models.TextChoices):
        LETTER = "letter", _("Letter")
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("Email")
        WEB = "web", _("Web form")
        SMS = "sms", _("SMS")
        SOCIAL = "social", _("Social media")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = ("new", "acknowledged", "in_progress", "waiting")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.ForeignKey(
        ComplaintCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("complaint category"),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("contact"),
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX)
    description = models.TextField(
        _("description"), max_length=TEXT_MAX, blank=True, validators=[MaxLengthValidator(TEXT_MAX)]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("owner"),
    )
    team = models.CharField(_("team"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    # Optimistic locking: every write names the version it read, and bumps it.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    # The SLA, copied from the policy when the case is opened.
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # When the warning share of each target has passed (the sweep compares these).
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Business minutes the clock ran until then, kept so that reports aggregate them in SQL.
    first_response_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Closed pauses as [[start, end], ...] ISO instants; an open one starts at sla_paused_at.
    sla_pauses = models.JSONField(default=list, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)

    # What a resolved complaint teaches (Haier: one lost air-conditioner, every division
    # hunting its blind spots).
    root_cause = models.ForeignKey(
        RootCause,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("root cause"),
    )
    root_cause_note = models.CharField(_("what exactly went wrong"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("case")
        indexes = [
            models.Index(fields=["customer", "status"], name="service_case_customer"),
            models.Index(fields=["first_response_due_at"], name="service_case_fr_due"),
            models.Index(fields=["resolution_due_at"], name="service_case_res_due"),
            # The case list, newest first: SQLite walks this index and filters, stopping after
            # a page, where an index led by status (without ANALYZE statistics) made it sort
            # the 200,000 open cases for every page.
            models.Index(fields=["created_at", "id"], name="service_case_created"),
            models.Index(fields=["owner", "created_at", "id"], name="service_case_owner_created"),
            # Complaints received in a period (the iceberg, the complainants page), and one
            # customer's recent complaints (the frequent-complainant flag and filter).
            models.Index(
                fields=["kind", "created_at", "customer"], name="service_case_kind_created"
            ),
            models.Index(
                fields=["customer", "kind", "created_at"], name="service_case_customer_kind"
            ),
            # The breach sweep: small indexes of the clocks it still watches.
            models.Index(
                fields=["first_response_due_at"],
                condition=_WATCHED & Q(first_response_breached_at=None, first_responded_at=None),
                name="service_case_fr_watch",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=_WATCHED & Q(resolution_breached_at=None),
                name="service_case_res_watch",
            ),
            models.Index(
                fields=["first_response_warn_at"],
                condition=_WATCHED & Q(warned_at=None, first_responded_at=None),
                name="service_case_fr_warn_watch",
            ),
            models.Index(
                fields=["resolution_warn_at"],
                condition=_WATCHED & Q(warned_at=None),
                name="service_case_res_warn_watch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CaseEvent(models.Model):
    """One line of a case's history: who did what, when, from what to what."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opened")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Internal note")
        REPLY = "reply", _("Reply to customer")
        ASSIGNMENT = "assignment", _("Assigned")
        WARNING = "warning", _("SLA warning")
        FIRST_RESPONSE_BREACH = "first_response_breach", _("First-response target missed")
        RESOLUTION_BREACH = "resolution_breach", _("Resolution target missed")
        REMEDY_GRANTED = "remedy_granted", _("Goodwill granted")
        REMEDY_REQUESTED = "remedy_requested", _("Approval requested")
        REMEDY_APPROVED = "remedy_approved", _("Approved")
        REMEDY_REJECTED = "remedy_rejected", _("Rejected")
        WORKSHEET = "worksheet", _("Worksheet updated")
        HANDED_UP = "handed_up", _("Handed to the superior")
        ROOT_CAUSE = "root_cause", _("Root cause recorded")
        ATTACHMENT = "attachment", _("File attached")
        IMPROVEMENT = "improvement", _("Linked to an improvement action")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    # For SLA warnings and breaches: when the people concerned were told (null: not yet).
    notified_at = models.DateTimeField(null=True, blank=True)

    NOTIFIED_KINDS = ("warning", "first_response_breach", "resolution_breach")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(
                fields=["kind"],
                condition=Q(notified_at__isnull=True),
                name="service_event_unnotified",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    def _shown(self, value: str) -> str:
        if self.kind in (self.Kind.STATUS, self.Kind.CREATED) and value in Case.Status.values:
            return str(Case.Status(value).label)
        return value

    @property
    def from_display(self) -> str:
        return self._shown(self.from_value)

    @property
    def to_display(self) -> str:
        return self._shown(self.to_value)


class CaseNote(models.Model):
    """An internal note, or a reply sent to the customer by email."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Internal note")
        REPLY = "reply", _("Reply to customer")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    body = models.TextField(
        _("text"), max_length=TEXT_MAX, validators=[MaxLengthValidator(TEXT_MAX)]
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


# --- Authority and approval -------------------------------------------------------------

AMOUNT_DIGITS = 12
REASON_MAX = 1000


class AuthorityLimit(models.Model):
    """How much goodwill or compensation a role may grant on one case without approval."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, unique=True)
    # Blank: no limit.
    max_amount = models.DecimalField(
        _("limit per case"),
        max_digits=AMOUNT_DIGITS,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["role"]
        verbose_name = _("authority limit")

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.max_amount}"


class Remedy(models.Model):
    """Goodwill or compensation for a case: granted at once within the giver's authority,
    otherwise waiting for a supervisor's decision."""

    class Kind(models.TextChoices):
        GOODWILL = "goodwill", _("Goodwill gesture")
        COMPENSATION = "compensation", _("Compensation")
        REFUND = "refund", _("Refund")
        GIFT = "gift", _("Gift or voucher")

    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted within authority")
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    GIVEN_STATUSES = ("granted", "approved")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="remedies")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"),
        max_digits=AMOUNT_DIGITS,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(_("currency"), max_length=3)
    description = models.CharField(_("what is given"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        verbose_name = _("goodwill or compensation")
        indexes = [models.Index(fields=["status", "requested_at"], name="service_remedy_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


# --- The worksheet, learning, attachments -----------------------------------------------


class ComplaintWorksheet(models.Model):
    """The four-step analysis of one complaint; answers keyed as in service.worksheet."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="worksheet"
    )
    answers = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("complaint analysis worksheet")

    def __str__(self) -> str:
        return str(self.case)


class ImprovementAction(models.Model):
    """What the organisation changes so that a kind of complaint stops happening."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("improvement", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=SUBJECT_MAX)
    description = models.TextField(
        _("description"), max_length=TEXT_MAX, blank=True, validators=[MaxLengthValidator(TEXT_MAX)]
    )
    root_cause = models.ForeignKey(
        RootCause,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="improvement_actions",
        verbose_name=_("root cause"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="improvement_actions",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    cases = models.ManyToManyField(
        Case, related_name="improvement_actions", blank=True, verbose_name=_("complaints")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("improvement action")

    def __str__(self) -> str:
        return self.title


def attachment_path(attachment: "CaseAttachment", filename: str) -> str:
    # The stored name is the case's and a counter's, never the uploader's file name.
    return f"cases/{attachment.case_id}/{attachment.uploaded_at:%Y%m%d%H%M%S%f}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")

    def __str__(self) -> str:
        return self.name


# --- Settings of the service desk, changed by an admin -----------------------------------


class ServiceSettings(models.Model):
    """The one row of desk-wide numbers the reports and the complainant flag read."""

    complaint_rate_percent = models.DecimalField(
        _("complaint rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=5,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
    )
    habitual_threshold = models.PositiveSmallIntegerField(
        _("frequent complainant after (complaints)"),
        default=3,
        validators=[MinValueValidator(1)],
    )
    habitual_window_months = models.PositiveSmallIntegerField(
        _("window (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("service settings")

    def __str__(self) -> str:
        return gettext("Service settings")


class ServiceSettingsChange(SettingChange):
    """Who changed which service setting, from what to what."""

    settings_model = ServiceSettings
    from_value = models.CharField(max_length=50)
    to_value = models.CharField(max_length=50)

    class Meta(SettingChange.Meta):
        pass
