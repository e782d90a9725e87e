"""Writes of the feedback app: surveys, SERVQUAL items, invitations, answers, and the
service-recovery case a bad answer opens."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kehu.customers.choices import CustomerStatus, LostReason
from kehu.customers.models import Customer
from kehu.feedback import senders
from kehu.feedback.models import (
    SERVQUAL_SCALE,
    TEXT_MAX,
    Channel,
    Invitation,
    Question,
    QuestionAnswer,
    Reading,
    Response,
    RetiredLink,
    ServqualAnswer,
    ServqualItem,
    Survey,
    SurveyKind,
)
from kehu.users.models import User, secret_digest
from kehu.users.roles import Capability

LANGUAGES = ("zh-hans", "en")
# NPS answers from 0 to this are detractors; from PROMOTER_FROM promoters.
DETRACTOR_MAX = 6
PROMOTER_FROM = 9
# Lost customers are sent the exit survey only when marked lost this recently (lost_at),
# so that a new exit survey does not write to everyone ever lost.
LOST_WITHIN = timedelta(days=30)
# Cases resolved (visits made) longer ago than the delay plus this are not surveyed any more.
RESOLVED_WITHIN = timedelta(days=14)


class InvitationUnusable(Exception):
    """The link cannot be answered; `reason` says why: forged, expired, answered, revoked
    (withdrawn, or replaced by a newer link)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check_can_manage(actor: User) -> None:
    if not actor.can(Capability.SURVEY_MANAGE):
        raise ValidationError(_("You may not manage surveys."), code="forbidden")


# --- Surveys and items ------------------------------------------------------------------


def _survey_save(survey: Survey) -> Survey:
    survey.name, survey.question = survey.name.strip(), survey.question.strip()
    if survey.trigger == Survey.Trigger.LOST_CUSTOMER and survey.kind != SurveyKind.EXIT:
        raise ValidationError({"trigger": _("Only the exit survey goes to lost customers.")})
    if survey.trigger == Survey.Trigger.KEY_ACCOUNT_EVERY and survey.delay < 1:
        raise ValidationError({"delay": _("Key accounts need a period of at least one day.")})
    if survey.expires_days < 1:
        raise ValidationError({"expires_days": _("A link must stay valid for at least a day.")})
    survey.full_clean(exclude=["created_by"])
    survey.save()
    return survey


@transaction.atomic
def survey_create(
    *,
    actor: User,
    name: str,
    kind: str,
    trigger: str = Survey.Trigger.MANUAL,
    delay: int = 24,
    channel: str = Channel.EMAIL,
    question: str = "",
    expires_days: int = 14,
    is_active: bool = True,
    now: datetime | None = None,
) -> Survey:
    _check_can_manage(actor)
    return _survey_save(
        Survey(
            name=name,
            kind=kind,
            trigger=trigger,
            delay=delay,
            channel=channel,
            question=question,
            expires_days=expires_days,
            is_active=is_active,
            created_by=actor,
            created_at=_now(now),
        )
    )


@transaction.atomic
def survey_update(*, actor: User, survey: Survey, **fields) -> Survey:
    _check_can_manage(actor)
    allowed = {"name", "trigger", "delay", "channel", "question", "expires_days", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(f)s") % {"f": sorted(unknown)})
    for name, value in fields.items():
        setattr(survey, name, value)
    return _survey_save(survey)


@transaction.atomic
def question_add(*, actor: User, survey: Survey, kind: str, text_en: str, text_zh: str) -> Question:
    _check_can_manage(actor)
    if survey.kind != SurveyKind.CUSTOM:
        raise ValidationError(_("Only custom surveys have their own questions."))
    question = Question(
        survey=survey,
        kind=kind,
        text_en=text_en.strip(),
        text_zh=text_zh.strip(),
        position=(survey.questions.count() + 1) * 10,
    )
    question.full_clean(exclude=["survey"])
    question.save()
    return question


@transaction.atomic
def servqual_item_update(
    *, actor: User, item: ServqualItem, text_en: str, text_zh: str, is_active: bool
) -> ServqualItem:
    _check_can_manage(actor)
    item.text_en, item.text_zh, item.is_active = text_en.strip(), text_zh.strip(), is_active
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def servqual_item_create(
    *, actor: User, dimension: str, text_en: str, text_zh: str
) -> ServqualItem:
    _check_can_manage(actor)
    last = ServqualItem.objects.order_by("-position").values_list("position", flat=True).first()
    item = ServqualItem(
        dimension=dimension,
        text_en=text_en.strip(),
        text_zh=text_zh.strip(),
        position=(last or 0) + 10,
    )
    item.full_clean()
    item.save()
    return item


# --- Invitations ------------------------------------------------------------------------


def _address(customer: Customer, channel: str) -> tuple[str, str]:
    """(channel, address): the survey's channel if the customer can be reached on it,
    else the other one; ("", "") when neither."""
    email = customer.emails.order_by("pk").values_list("address", flat=True).first()
    phones = customer.phones.order_by("pk").values_list("e164", "label")
    mobile = next((n for n, label in phones if label == "mobile"), None) or next(
        (n for n, _label in phones), None
    )
    options = {Channel.EMAIL: email, Channel.SMS: mobile}
    for candidate in (channel, *[c for c in Channel.values if c != channel]):
        if options.get(candidate):
            return candidate, options[candidate]
    return "", ""


def survey_link(token: str) -> str:
    return settings.KEHU_BASE_URL.rstrip("/") + reverse("feedback:answer", args=[token])


def _message(invitation: Invitation, *, token: str) -> tuple[str, str]:
    """(subject, body) in the recipient's language; nothing personal beyond the greeting."""
    customer = invitation.customer
    with translation.override(invitation.language):
        greeting = customer.salutation or _("Dear customer")
        until = formats.date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT")
        subject = _("How did we do? A short survey")
        body = _(
            "%(greeting)s,\n\nplease tell us how we did; it takes a minute: %(link)s\n"
            "The link is yours alone and works until %(until)s."
        ) % {"greeting": greeting, "link": survey_link(token), "until": until}
    return subject, body


def _deliver(invitation: Invitation, *, token: str) -> None:
    subject, body = _message(invitation, token=token)
    if invitation.channel == Channel.EMAIL:
        senders.email_send(to=invitation.address, subject=subject, body=body)
    else:
        senders.sms_send(to=invitation.address, body=body)


def _recently_asked(customer: Customer, *, now: datetime) -> bool:
    """Whether any survey's message reached the customer within the throttle period (a
    link revoked since still asked them)."""
    since = now - timedelta(days=settings.KEHU_SURVEY_THROTTLE_DAYS)
    return Invitation.objects.filter(customer=customer, sent_at__gt=since).exists()


@transaction.atomic
def invitation_send(
    *,
    survey: Survey,
    customer: Customer,
    occasion: str,
    case=None,
    language: str = "",
    deliver: bool = True,
    now: datetime | None = None,
) -> Invitation | None:
    """Invites the customer once for this occasion; None when that was done before.

    A customer asked within KEHU_SURVEY_THROTTLE_DAYS (any survey), or with no address,
    gets a row saying so and no message: the occasion is used up either way, so a job
    that runs again sends nothing new. The customer's row is locked while this decides,
    so two processes cannot both slip under the throttle. `deliver=False` makes the
    invitation without a message: the demo's, which must reach no one."""
    now = _now(now)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if Invitation.objects.filter(survey=survey, customer=customer, occasion=occasion).exists():
        return None
    language = language if language in LANGUAGES else settings.LANGUAGE_CODE
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    channel, address = _address(customer, survey.channel)
    invitation = Invitation(
        survey=survey,
        customer=customer,
        case=case,
        occasion=occasion[:40],
        channel=channel or survey.channel,
        address=address,
        language=language,
        created_at=now,
        expires_at=now + timedelta(days=survey.expires_days),
    )
    if _recently_asked(customer, now=now):
        invitation.status = Invitation.Status.THROTTLED
    elif not address:
        invitation.status = Invitation.Status.NO_ADDRESS
    token = secrets.token_urlsafe(32)
    if invitation.status == Invitation.Status.SENT:
        invitation.token_hash = secret_digest(token)
        invitation.sent_at, invitation.times_sent = now, 1
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        return None  # the same occasion, invited by another process a moment ago
    if invitation.status == Invitation.Status.SENT and deliver:
        transaction.on_commit(lambda: _deliver(invitation, token=token))
    return invitation


def survey_send(
    *, actor: User, survey: Survey, customers, language: str = "", now: datetime | None = None
) -> dict[str, int]:
    """Sends a survey by hand to each customer (one, or a segment); once a day at most
    per customer and survey. Returns counts by outcome."""
    _check_can_manage(actor)
    now = _now(now)
    occasion = f"manual-{timezone.localdate(now).isoformat()}"
    counts = {"sent": 0, "throttled": 0, "no_address": 0, "already": 0}
    for customer in customers:
        if customer.merged_into_id:
            continue
        invitation = invitation_send(
            survey=survey, customer=customer, occasion=occasion, language=language, now=now
        )
        counts["already" if invitation is None else invitation.status] += 1
    return counts


def _occasions(survey: Survey, *, now: datetime):
    """(customer, occasion, case) for each invitation the survey's trigger asks for now."""
    from kehu.service.models import Case
    from kehu.service.selectors import KEY_ACCOUNT_TAGS

    live = Customer.objects.filter(merged_into=None)
    if survey.trigger == Survey.Trigger.AFTER_RESOLVED:
        due = now - timedelta(hours=survey.delay)
        cases = Case.objects.filter(
            resolved_at__isnull=False,
            resolved_at__lte=due,
            resolved_at__gt=due - RESOLVED_WITHIN,
            customer__merged_into=None,
        ).select_related("customer")
        return [(case.customer, f"case-{case.pk}", case) for case in cases]
    if survey.trigger == Survey.Trigger.AFTER_VISIT:
        from kehu.promises.models import Visit

        due = now - timedelta(hours=survey.delay)
        visits = Visit.objects.filter(
            stage=Visit.Stage.DONE,
            follow_up__done_at__lte=due,
            follow_up__done_at__gt=due - RESOLVED_WITHIN,
            follow_up__customer__merged_into=None,
        ).select_related("follow_up__customer", "follow_up__case")
        return [(v.follow_up.customer, f"visit-{v.pk}", v.follow_up.case) for v in visits]
    if survey.trigger == Survey.Trigger.KEY_ACCOUNT_EVERY:
        period = int(now.timestamp() // timedelta(days=survey.delay).total_seconds())
        accounts = (
            live.filter(tags__name__in=KEY_ACCOUNT_TAGS)
            .exclude(status=CustomerStatus.LOST)
            .distinct()
        )
        return [(c, f"every-{period}", None) for c in accounts]
    if survey.trigger == Survey.Trigger.LOST_CUSTOMER:
        lost = live.filter(
            status=CustomerStatus.LOST, lost_at__lte=now, lost_at__gt=now - LOST_WITHIN
        )
        # Each time they are lost is its own occasion: won back and lost again, asked again.
        return [(c, f"lost-{c.lost_at:%Y%m%d%H%M%S}", None) for c in lost]
    return []


def surveys_trigger(*, now: datetime | None = None) -> int:
    """The periodic job: invites everyone the active surveys' triggers ask for. Returns how
    many invitations were sent. Idempotent: the (survey, customer, occasion) constraint
    turns a repeat into nothing."""
    now = _now(now)
    sent = 0
    surveys = Survey.objects.filter(is_active=True).exclude(trigger=Survey.Trigger.MANUAL)
    for survey in surveys:
        for customer, occasion, case in _occasions(survey, now=now):
            invitation = invitation_send(
                survey=survey, customer=customer, occasion=occasion, case=case, now=now
            )
            if invitation is not None and invitation.status == Invitation.Status.SENT:
                sent += 1
    return sent


def _check_can_resend(actor: User) -> None:
    # Whoever works with the customer fixes an address and sends the link again.
    if not actor.can(Capability.CUSTOMER_EDIT):
        raise ValidationError(_("You may not send or revoke survey links."), code="forbidden")


def _invitation_lock(invitation: Invitation) -> Invitation:
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("survey", "customer")
        .get(pk=invitation.pk)
    )
    if locked.answered_at is not None:
        raise ValidationError(_("This survey has been answered; its link cannot change."))
    return locked


def _link_retire(invitation: Invitation, *, actor: User, now: datetime) -> None:
    if invitation.token_hash:
        RetiredLink.objects.create(
            invitation=invitation,
            token_hash=invitation.token_hash,
            retired_at=now,
            retired_by=actor,
        )
        invitation.token_hash = None


@transaction.atomic
def invitation_revoke(
    *, actor: User, invitation: Invitation, now: datetime | None = None
) -> Invitation:
    """Withdraws the link (sent to a wrong address, say): opening it then says it is no
    longer valid. A re-send can still follow."""
    _check_can_resend(actor)
    now = _now(now)
    invitation = _invitation_lock(invitation)
    if invitation.status == Invitation.Status.REVOKED:
        raise ValidationError(_("This link was already revoked."))
    _link_retire(invitation, actor=actor, now=now)
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["token_hash", "status"])
    return invitation


@transaction.atomic
def invitation_resend(
    *,
    actor: User,
    invitation: Invitation,
    override_throttle: bool = False,
    now: datetime | None = None,
) -> Invitation:
    """Sends the survey again with a new link, to the customer's current address; the old
    link stops working. Like any survey it respects the throttle (the earlier message
    counts), unless a supervisor overrides it. Works as well for an invitation that was
    never sent (throttled, no address) or was revoked. Raises ValidationError and changes
    nothing when it cannot send."""
    _check_can_resend(actor)
    if override_throttle and not actor.can(Capability.SURVEY_MANAGE):
        raise ValidationError(
            _("Only a supervisor may send a survey to a customer asked recently."),
            code="forbidden",
        )
    now = _now(now)
    # The customer first, in the order invitation_send locks: no deadlock between them.
    customer = Customer.objects.select_for_update().get(pk=invitation.customer_id)
    invitation = _invitation_lock(invitation)
    if not invitation.survey.is_active:
        raise ValidationError(_("This survey is switched off."))
    channel, address = _address(customer, invitation.survey.channel)
    if not address:
        raise ValidationError(_("The customer has no email address or phone number to send to."))
    if not override_throttle and _recently_asked(customer, now=now):
        raise ValidationError(
            _(
                "This customer was asked for feedback within the last %(days)s days; only a "
                "supervisor may send again this soon."
            )
            % {"days": settings.KEHU_SURVEY_THROTTLE_DAYS}
        )
    _link_retire(invitation, actor=actor, now=now)
    token = secrets.token_urlsafe(32)
    invitation.token_hash = secret_digest(token)
    invitation.status = Invitation.Status.SENT
    invitation.channel, invitation.address = channel, address
    invitation.sent_at, invitation.times_sent = now, invitation.times_sent + 1
    invitation.expires_at = now + timedelta(days=invitation.survey.expires_days)
    invitation.save()
    transaction.on_commit(lambda: _deliver(invitation, token=token))
    return invitation


# --- Answers ----------------------------------------------------------------------------


def invitation_for_token(*, token: str, now: datetime | None = None) -> Invitation:
    """The invitation the link belongs to, if it may still be answered; else raises
    InvitationUnusable("forged" | "expired" | "answered" | "revoked")."""
    now = _now(now)
    if not token or len(token) > 100:
        raise InvitationUnusable("forged")
    invitation = (
        Invitation.objects.filter(token_hash=secret_digest(token), status=Invitation.Status.SENT)
        .select_related("survey", "customer")
        .first()
    )
    if invitation is None:
        retired = RetiredLink.objects.filter(token_hash=secret_digest(token)).exists()
        raise InvitationUnusable("revoked" if retired else "forged")
    if invitation.answered_at is not None:
        raise InvitationUnusable("answered")
    if invitation.expires_at <= now:
        raise InvitationUnusable("expired")
    return invitation


def servqual_reading(gap: float) -> str:
    """ES < PS quality surprise, ES = PS satisfactory, ES > PS unacceptable (seed 003); a
    mean gap within KEHU_SERVQUAL_TOLERANCE of zero counts as equal."""
    tolerance = settings.KEHU_SERVQUAL_TOLERANCE
    if gap > tolerance:
        return Reading.SURPRISE
    if gap < -tolerance:
        return Reading.UNACCEPTABLE
    return Reading.SATISFACTORY


def _in_range(value, low: int, high: int, *, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(
            {field: _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        )
    return value


@transaction.atomic
def response_submit(
    *,
    token: str,
    score: int | None = None,
    comment: str = "",
    exit_reason: str = "",
    servqual: dict[int, tuple[int, int]] | None = None,
    answers: dict[int, int | str] | None = None,
    now: datetime | None = None,
) -> Response:
    """Stores the answer to the link's survey, once. Raises InvitationUnusable for a link
    that cannot be answered (also when a second submission loses the race: the response's
    one-to-one invitation is the database's guarantee), ValidationError for bad answers.
    A detractor or an unacceptable SERVQUAL reading opens a service-recovery case."""
    now = _now(now)
    return response_record(
        invitation=invitation_for_token(token=token, now=now),
        score=score,
        comment=comment,
        exit_reason=exit_reason,
        servqual=servqual,
        answers=answers,
        now=now,
    )


@transaction.atomic
def response_record(
    *,
    invitation: Invitation,
    score: int | None = None,
    comment: str = "",
    exit_reason: str = "",
    servqual: dict[int, tuple[int, int]] | None = None,
    answers: dict[int, int | str] | None = None,
    now: datetime | None = None,
) -> Response:
    """Stores the answer to an invitation whose link was checked (response_submit) or that
    needs none (the demo's answers); once, as response_submit says."""
    now = _now(now)
    # Locks the invitation only: the nullable joins cannot be locked on PostgreSQL.
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("survey", "customer__owner", "case")
        .get(pk=invitation.pk)
    )
    if invitation.answered_at is not None:
        raise InvitationUnusable("answered")
    survey = invitation.survey
    comment = comment.strip()
    if len(comment) > TEXT_MAX:
        raise ValidationError(
            {"comment": _("Please keep it under %(n)s characters.") % {"n": TEXT_MAX}}
        )
    response = Response(
        invitation=invitation,
        survey=survey,
        customer=invitation.customer,
        case=invitation.case,
        kind=survey.kind,
        comment=comment,
        submitted_at=now,
    )
    if survey.score_range:
        response.score = _in_range(score, *survey.score_range, field="score")
    if survey.kind == SurveyKind.EXIT:
        if exit_reason not in LostReason.values:
            raise ValidationError({"exit_reason": _("Choose a reason.")})
        response.exit_reason = exit_reason
    items = (
        list(ServqualItem.objects.filter(is_active=True))
        if survey.kind == SurveyKind.SERVQUAL
        else []
    )
    pairs = servqual or {}
    if items:
        missing = [item.pk for item in items if item.pk not in pairs]
        if missing:
            raise ValidationError({"servqual": _("Please answer every statement twice.")})
        for item in items:
            expectation, perception = pairs[item.pk]
            _in_range(expectation, *SERVQUAL_SCALE, field=f"e{item.pk}")
            _in_range(perception, *SERVQUAL_SCALE, field=f"p{item.pk}")
        response.gap = sum(pairs[i.pk][1] - pairs[i.pk][0] for i in items) / len(items)
        response.reading = servqual_reading(response.gap)
    questions = list(survey.questions.all()) if survey.kind == SurveyKind.CUSTOM else []
    given = answers or {}
    rows = []
    for question in questions:
        value = given.get(question.pk)
        if question.kind == Question.Kind.RATING:
            rows.append(
                QuestionAnswer(
                    question=question, value=_in_range(value, 1, 5, field=f"q{question.pk}")
                )
            )
        else:
            text = str(value or "").strip()[:TEXT_MAX]
            rows.append(QuestionAnswer(question=question, text=text))
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise InvitationUnusable("answered") from None
    ServqualAnswer.objects.bulk_create(
        ServqualAnswer(
            response=response,
            item=item,
            expectation=pairs[item.pk][0],
            perception=pairs[item.pk][1],
        )
        for item in items
    )
    for row in rows:
        row.response = response
    QuestionAnswer.objects.bulk_create(rows)
    invitation.answered_at = now
    invitation.save(update_fields=["answered_at"])
    if needs_recovery(response):
        response.recovery_case = _recovery_open(response, items=items, pairs=pairs, now=now)
        response.save(update_fields=["recovery_case"])
    return response


def needs_recovery(response: Response) -> bool:
    if response.kind == SurveyKind.NPS:
        return response.score is not None and response.score <= DETRACTOR_MAX
    return response.reading == Reading.UNACCEPTABLE


def _recovery_open(response: Response, *, items, pairs, now: datetime):
    """A complaint for the customer's account manager (or the desk, if they may not work
    on cases), written in the service desk's language, with the answer in it."""
    from kehu.service import services as case_services
    from kehu.service.models import Case, ComplaintCategory

    customer = response.customer
    owner = customer.owner if customer.owner and customer.owner.can(Capability.CASE_EDIT) else None
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("Answer to the survey “%(survey)s” on %(when)s.")
            % {
                "survey": response.survey.name,
                "when": formats.date_format(timezone.localtime(now), "DATETIME_FORMAT"),
            }
        ]
        if response.kind == SurveyKind.NPS:
            subject = _("Service recovery: detractor (NPS %(score)s)") % {"score": response.score}
            lines.append(_("Likelihood to recommend: %(score)s of 10.") % {"score": response.score})
        else:
            subject = _("Service recovery: service below expectation (SERVQUAL)")
            lines.append(
                _("Mean gap, perception − expectation: %(gap).2f.") % {"gap": response.gap}
            )
            worst = sorted(items, key=lambda i: pairs[i.pk][1] - pairs[i.pk][0])[:5]
            for item in worst:
                expectation, perception = pairs[item.pk]
                if perception < expectation:
                    lines.append(
                        _("%(item)s expected %(e)s, perceived %(p)s")
                        % {"item": item.text, "e": expectation, "p": perception}
                    )
        if response.case_id:
            lines.append(_("About case %(reference)s.") % {"reference": response.case.reference})
        if response.comment:
            lines.append(_("The customer wrote: %(comment)s") % {"comment": response.comment})
        description = "\n".join(lines)
    return case_services.case_create(
        actor=None,
        customer=customer,
        kind=Case.Kind.COMPLAINT,
        channel=Case.Channel.WEB,
        category=ComplaintCategory.objects.filter(code="service", is_active=True).first(),
        priority=Case.Priority.HIGH,
        subject=subject,
        description=description,
        owner=owner,
        now=now,
    )
