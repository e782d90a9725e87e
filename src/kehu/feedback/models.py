"""Surveys (CSAT, NPS, customer effort, SERVQUAL, exit, custom), the invitations that
carry their one-time links, and the answers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import LostReason

TEXT_MAX = 2000


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT, 1–5)")
    NPS = "nps", _("Net promoter score (NPS, 0–10)")
    EFFORT = "effort", _("Customer effort (1–7)")
    SERVQUAL = "servqual", _("SERVQUAL (expectation and perception)")
    EXIT = "exit", _("Exit survey (why the customer left)")
    CUSTOM = "custom", _("Custom questions")


# The score each kind asks for: (lowest, highest); SERVQUAL, exit and custom ask none.
SCORE_RANGES = {
    SurveyKind.CSAT: (1, 5),
    SurveyKind.NPS: (0, 10),
    SurveyKind.EFFORT: (1, 7),
}
SERVQUAL_SCALE = (1, 7)


class Dimension(models.TextChoices):
    """SERVQUAL's five dimensions (seed 003)."""

    RELIABILITY = "reliability", _("Reliability")
    RESPONSIVENESS = "responsiveness", _("Responsiveness")
    ASSURANCE = "assurance", _("Assurance")
    EMPATHY = "empathy", _("Empathy")
    TANGIBLES = "tangibles", _("Tangibles")


class Reading(models.TextChoices):
    """Expected service (ES) against perceived service (PS), seed 003."""

    SURPRISE = "surprise", _("Quality surprise (ES < PS)")
    SATISFACTORY = "satisfactory", _("Satisfactory quality (ES = PS)")
    UNACCEPTABLE = "unacceptable", _("Unacceptable quality (ES > PS)")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Survey(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Sent by hand")
        AFTER_RESOLVED = "after_resolved", _("N hours after a case is resolved")
        AFTER_VISIT = "after_visit", _("N hours after a visit")
        KEY_ACCOUNT_EVERY = "key_account_every", _("Key accounts, every N days")
        LOST_CUSTOMER = "lost_customer", _("When a customer is marked lost")

    Kind = SurveyKind

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    trigger = models.CharField(
        _("when"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL
    )
    # After a case or a visit: hours after it; key accounts: days between two surveys.
    delay = models.PositiveIntegerField(_("N (hours or days)"), default=24)
    channel = models.CharField(
        _("sent by"), max_length=5, choices=Channel.choices, default=Channel.EMAIL
    )
    question = models.CharField(_("question (blank: the standard one)"), max_length=300, blank=True)
    expires_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=14)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("survey")

    def __str__(self) -> str:
        return self.name

    @property
    def score_range(self) -> tuple[int, int] | None:
        return SCORE_RANGES.get(self.kind)


class ServqualItem(models.Model):
    """One of SERVQUAL's statements, asked twice: what an excellent company would do, and
    what we did. Seeded with the 22 standard items; an admin edits them."""

    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    text_en = models.CharField(_("statement in English"), max_length=300)
    text_zh = models.CharField(_("statement in Chinese"), max_length=300)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("SERVQUAL item")

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return self.text_zh if translation.get_language() == "zh-hans" else self.text_en


class Question(models.Model):
    """A custom question of a custom survey: a 1–5 rating or free text."""

    class Kind(models.TextChoices):
        RATING = "rating", _("Rating 1–5")
        TEXT = "text", _("Free text")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text_en = models.CharField(_("question in English"), max_length=300)
    text_zh = models.CharField(_("question in Chinese"), max_length=300)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("question")

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return self.text_zh if translation.get_language() == "zh-hans" else self.text_en


class Invitation(models.Model):
    """One recipient's link to one survey. Only the token's SHA-256 is stored."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        THROTTLED = "throttled", _("Not sent: asked recently")
        NO_ADDRESS = "no_address", _("Not sent: no address")
        REVOKED = "revoked", _("Revoked")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    case = models.ForeignKey(
        "service.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the invitation is about ("case-12", "every-2031", "lost-20261123…", "manual-…"): with the
    # survey and customer it is unique, so a job that runs twice sends nothing new.
    occasion = models.CharField(max_length=40)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(db_index=True)
    # When the message last went out (a re-send moves it): what the throttle counts.
    sent_at = models.DateTimeField(null=True, blank=True)
    times_sent = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("survey invitation")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "customer", "occasion"], name="feedback_one_per_occasion"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "sent_at"], name="feedback_inv_throttle")
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.customer_id} ({self.occasion})"


class RetiredLink(models.Model):
    """The hash of a link that was revoked or replaced by a re-send, so that opening it
    says "no longer valid" rather than "not recognised"."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="retired")
    token_hash = models.CharField(max_length=64, unique=True)
    retired_at = models.DateTimeField()
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.invitation_id} {self.retired_at:%Y-%m-%d}"


class Response(models.Model):
    """An answered invitation: one at most per invitation (the database says so)."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_responses"
    )
    case = models.ForeignKey(
        "service.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    score = models.SmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    exit_reason = models.CharField(max_length=30, choices=LostReason.choices, blank=True)
    # SERVQUAL: mean perception − mean expectation over the items answered, and its reading.
    gap = models.FloatField(null=True, blank=True)
    reading = models.CharField(max_length=15, choices=Reading.choices, blank=True)
    recovery_case = models.ForeignKey(
        "service.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("survey response")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=10),
                name="feedback_score_in_range",
            ),
        ]
        indexes = [models.Index(fields=["kind", "submitted_at"], name="feedback_resp_kind")]

    def __str__(self) -> str:
        return f"{self.survey} {self.score}"


class ServqualAnswer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="servqual")
    item = models.ForeignKey(ServqualItem, on_delete=models.PROTECT, related_name="answers")
    expectation = models.PositiveSmallIntegerField()
    perception = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="feedback_one_per_item"),
            models.CheckConstraint(
                condition=Q(
                    expectation__gte=1, expectation__lte=7, perception__gte=1, perception__lte=7
                ),
                name="feedback_servqual_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.expectation}/{self.perception}"


class QuestionAnswer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.CharField(max_length=TEXT_MAX, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="feedback_one_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value if self.value is not None else self.text}"
