"""Making and keeping promises, doing follow-ups and visits, and the jobs that generate
follow-ups from policies and remind people of what is due."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.promises.models import (
    CalendarFeed,
    Commitment,
    FollowUp,
    FollowUpKind,
    FollowUpPolicy,
    Visit,
)
from kehu.users.models import User, secret_digest
from kehu.users.roles import Capability

# What a person prepares before a visit (seed 002: book by phone, prepare, confirm
# before leaving).
# Kept in English and translated when shown.
VISIT_CHECKLIST = (
    gettext_noop("Purpose of the visit agreed"),
    gettext_noop("Customer card and recent contacts read"),
    gettext_noop("Material and proposal ready"),
    gettext_noop("Decision-makers to meet known"),
)
# The timeline entry a done follow-up becomes.
_NOTE_KIND = {
    "callback": "call",
    "phone": "call",
    "visit": "visit",
    "email": "email",
    "sms": "note",
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check_can_work(actor: User) -> None:
    if not actor.can(Capability.FOLLOW_UP_WORK):
        raise ValidationError(_("You may not change promises or follow-ups."), code="forbidden")


def _check_owner_or_manager(actor: User, owner_id: int) -> None:
    _check_can_work(actor)
    if actor.pk != owner_id and not actor.can(Capability.FOLLOW_UP_MANAGE):
        raise ValidationError(
            _("Only its owner or a supervisor may change this."), code="forbidden"
        )


def _clean(value: str, *, field: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    return value


def _future(due_at: datetime | None, *, now: datetime, field: str = "due_at") -> datetime:
    if due_at is None:
        raise ValidationError({field: _("This field is required.")})
    if timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    if due_at <= now:
        raise ValidationError({field: _("The due time is in the past.")})
    return due_at


def _check_people(*, customer: Customer, owner: User, case=None, contact=None) -> None:
    errors: dict[str, str] = {}
    if customer.merged_into_id:
        errors["customer"] = _("This customer was merged into another; use that one.")
    if not owner.can(Capability.FOLLOW_UP_WORK):
        errors["owner"] = _("This user may not own promises or follow-ups.")
    if case is not None and case.customer_id != customer.pk:
        errors["case"] = _("This case belongs to another customer.")
    if contact is not None and contact.organisation_id != customer.pk:
        errors["contact"] = _("This contact does not belong to the customer.")
    if errors:
        raise ValidationError(errors)


def _locked(model, obj, *, expected_version: int):
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if locked.version != expected_version:
        raise ValidationError(
            _("Someone else changed this; reload it and try again."), code="stale"
        )
    locked.version += 1
    return locked


# --- Promises ---------------------------------------------------------------------------


@transaction.atomic
def commitment_create(
    *,
    actor: User,
    customer: Customer,
    promise: str,
    due_at: datetime,
    owner: User | None = None,
    case=None,
    now: datetime | None = None,
) -> Commitment:
    _check_can_work(actor)
    now = _now(now)
    owner = owner or actor
    _check_people(customer=customer, owner=owner, case=case)
    commitment = Commitment(
        customer=customer,
        case=case,
        promise=_clean(promise, field="promise", required=True),
        owner=owner,
        due_at=_future(due_at, now=now),
        created_by=actor,
        created_at=now,
    )
    commitment.full_clean(exclude=["customer", "case", "owner", "created_by"])
    commitment.save()
    return commitment


def _commitment_for_close(*, actor, commitment, expected_version) -> Commitment:
    _check_owner_or_manager(actor, commitment.owner_id)
    commitment = _locked(Commitment, commitment, expected_version=expected_version)
    if not commitment.is_active:
        raise ValidationError(
            _("This promise is already %(status)s.")
            % {"status": commitment.get_status_display().lower()},
            code="closed",
        )
    return commitment


@transaction.atomic
def commitment_keep(
    *,
    actor: User,
    commitment: Commitment,
    evidence: str,
    expected_version: int,
    now: datetime | None = None,
) -> Commitment:
    """Kept, with how: what was done, and when (on time or late is read from the due)."""
    now = _now(now)
    commitment = _commitment_for_close(
        actor=actor, commitment=commitment, expected_version=expected_version
    )
    commitment.evidence = _clean(evidence, field="evidence", required=True)
    commitment.status, commitment.closed_at = Commitment.Status.KEPT, now
    commitment.full_clean(exclude=["customer", "case", "owner", "created_by"])
    commitment.save()
    customer_services.note_add(
        actor=actor,
        customer=commitment.customer,
        body=_("Promise kept: %(promise)s — %(evidence)s")
        % {"promise": commitment.promise, "evidence": commitment.evidence},
    )
    return commitment


@transaction.atomic
def commitment_break(
    *,
    actor: User,
    commitment: Commitment,
    reason: str,
    expected_version: int,
    now: datetime | None = None,
) -> Commitment:
    """Broken, with the reason; the customer's card counts it as a risk."""
    now = _now(now)
    commitment = _commitment_for_close(
        actor=actor, commitment=commitment, expected_version=expected_version
    )
    commitment.reason = _clean(reason, field="reason", required=True)
    commitment.status, commitment.closed_at = Commitment.Status.BROKEN, now
    commitment.full_clean(exclude=["customer", "case", "owner", "created_by"])
    commitment.save()
    customer_services.note_add(
        actor=actor,
        customer=commitment.customer,
        body=_("Promise broken: %(promise)s — %(reason)s")
        % {"promise": commitment.promise, "reason": commitment.reason},
    )
    return commitment


@transaction.atomic
def commitment_renegotiate(
    *,
    actor: User,
    commitment: Commitment,
    due_at: datetime,
    reason: str,
    expected_version: int,
    now: datetime | None = None,
) -> Commitment:
    """Moved to a new time with the customer's agreement; reminders start again."""
    now = _now(now)
    commitment = _commitment_for_close(
        actor=actor, commitment=commitment, expected_version=expected_version
    )
    commitment.due_at = _future(due_at, now=now)
    commitment.reason = _clean(reason, field="reason", required=True)
    commitment.status = Commitment.Status.RENEGOTIATED
    commitment.times_moved += 1
    commitment.reminded_at = commitment.overdue_flagged_at = None
    commitment.full_clean(exclude=["customer", "case", "owner", "created_by"])
    commitment.save()
    return commitment


# --- Follow-ups and visits --------------------------------------------------------------


@transaction.atomic
def follow_up_create(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    due_at: datetime,
    purpose: str,
    owner: User | None = None,
    contact: Contact | None = None,
    case=None,
    place: str = "",
    now: datetime | None = None,
) -> FollowUp:
    """A follow-up to do; a visit also gets its preparation checklist."""
    _check_can_work(actor)
    now = _now(now)
    owner = owner or actor
    _check_people(customer=customer, owner=owner, case=case, contact=contact)
    if kind not in FollowUpKind.values:
        raise ValidationError({"kind": _("Choose a kind of follow-up.")})
    follow_up = FollowUp(
        customer=customer,
        contact=contact,
        case=case,
        kind=kind,
        owner=owner,
        due_at=_future(due_at, now=now),
        purpose=_clean(purpose, field="purpose", required=True),
        created_by=actor,
        created_at=now,
    )
    follow_up.full_clean(exclude=["customer", "contact", "case", "owner", "policy", "created_by"])
    follow_up.save()
    if kind == FollowUpKind.VISIT:
        Visit.objects.create(
            follow_up=follow_up,
            place=_clean(place, field="place")[:200],
            checklist=[{"item": item, "done": False} for item in VISIT_CHECKLIST],
        )
    return follow_up


def _follow_up_for_write(*, actor, follow_up, expected_version) -> FollowUp:
    _check_owner_or_manager(actor, follow_up.owner_id)
    follow_up = _locked(FollowUp, follow_up, expected_version=expected_version)
    if follow_up.status != FollowUp.Status.OPEN:
        raise ValidationError(
            _("This follow-up is already %(status)s.")
            % {"status": follow_up.get_status_display().lower()},
            code="closed",
        )
    return follow_up


def _follow_up_done(follow_up: FollowUp, *, actor: User, outcome: str, now: datetime) -> None:
    follow_up.outcome = _clean(outcome, field="outcome", required=True)
    follow_up.status = FollowUp.Status.DONE
    follow_up.done_at, follow_up.done_by = now, actor
    follow_up.full_clean(exclude=["customer", "contact", "case", "owner", "policy", "created_by"])
    follow_up.save()
    customer_services.note_add(
        actor=actor,
        customer=follow_up.customer,
        contact=follow_up.contact,
        kind=_NOTE_KIND[follow_up.kind],
        body=f"{follow_up.purpose}: {follow_up.outcome}",
    )


@transaction.atomic
def follow_up_complete(
    *,
    actor: User,
    follow_up: FollowUp,
    outcome: str,
    expected_version: int,
    now: datetime | None = None,
) -> FollowUp:
    """Done, with what came of it; the contact goes on the customer's timeline."""
    follow_up = _follow_up_for_write(
        actor=actor, follow_up=follow_up, expected_version=expected_version
    )
    _follow_up_done(follow_up, actor=actor, outcome=outcome, now=_now(now))
    return follow_up


@transaction.atomic
def follow_up_reschedule(
    *,
    actor: User,
    follow_up: FollowUp,
    due_at: datetime,
    expected_version: int,
    now: datetime | None = None,
) -> FollowUp:
    now = _now(now)
    follow_up = _follow_up_for_write(
        actor=actor, follow_up=follow_up, expected_version=expected_version
    )
    follow_up.due_at = _future(due_at, now=now)
    follow_up.save()
    return follow_up


@transaction.atomic
def follow_up_cancel(
    *, actor: User, follow_up: FollowUp, reason: str, expected_version: int
) -> FollowUp:
    follow_up = _follow_up_for_write(
        actor=actor, follow_up=follow_up, expected_version=expected_version
    )
    follow_up.outcome = _clean(reason, field="outcome", required=True)
    follow_up.status = FollowUp.Status.CANCELLED
    follow_up.save()
    return follow_up


@transaction.atomic
def visit_prepare(
    *, actor: User, visit: Visit, done_items: list[int], expected_version: int
) -> Visit:
    """Ticks the preparation checklist; all ticked makes the visit prepared."""
    follow_up = _follow_up_for_write(
        actor=actor, follow_up=visit.follow_up, expected_version=expected_version
    )
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    visit.checklist = [
        {"item": entry["item"], "done": index in done_items}
        for index, entry in enumerate(visit.checklist)
    ]
    if visit.stage in (Visit.Stage.BOOKED, Visit.Stage.PREPARED):
        ready = all(entry["done"] for entry in visit.checklist)
        visit.stage = Visit.Stage.PREPARED if ready else Visit.Stage.BOOKED
    visit.save()
    follow_up.save()
    return visit


@transaction.atomic
def visit_confirm(
    *, actor: User, visit: Visit, expected_version: int, now: datetime | None = None
) -> Visit:
    """The call before leaving (seed 002: confirm once more, then set off)."""
    follow_up = _follow_up_for_write(
        actor=actor, follow_up=visit.follow_up, expected_version=expected_version
    )
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    visit.confirmed_at, visit.stage = _now(now), Visit.Stage.CONFIRMED
    visit.save()
    follow_up.save()
    return visit


@transaction.atomic
def visit_record(
    *,
    actor: User,
    visit: Visit,
    situation: str,
    problems: str,
    implied_needs: str,
    explicit_needs: str,
    next_step: str,
    decision_makers: list[Contact],
    expected_version: int,
    now: datetime | None = None,
) -> Visit:
    """The visit written up (SPIN); it completes the follow-up and goes on the timeline."""
    now = _now(now)
    follow_up = _follow_up_for_write(
        actor=actor, follow_up=visit.follow_up, expected_version=expected_version
    )
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if any(contact.organisation_id != follow_up.customer_id for contact in decision_makers):
        raise ValidationError({"decision_makers": _("Choose contacts of this customer.")})
    visit.situation = _clean(situation, field="situation")
    visit.problems = _clean(problems, field="problems")
    visit.implied_needs = _clean(implied_needs, field="implied_needs")
    visit.explicit_needs = _clean(explicit_needs, field="explicit_needs")
    visit.next_step = _clean(next_step, field="next_step")
    if not (visit.situation or visit.problems or visit.explicit_needs or visit.implied_needs):
        raise ValidationError(_("Write down at least what you learned of the customer."))
    visit.stage = Visit.Stage.DONE
    visit.full_clean(exclude=["follow_up"])
    visit.save()
    visit.decision_makers.set(decision_makers)
    summary = "; ".join(
        text
        for text in (visit.situation, visit.problems, visit.explicit_needs, visit.next_step)
        if text
    )
    _follow_up_done(follow_up, actor=actor, outcome=summary[:2000], now=now)
    return visit


# --- Policies and the jobs --------------------------------------------------------------


@transaction.atomic
def follow_up_policy_save(*, policy: FollowUpPolicy) -> FollowUpPolicy:
    if policy.trigger == FollowUpPolicy.Trigger.KEY_ACCOUNT_EVERY and policy.days < 1:
        raise ValidationError({"days": _("Key accounts need a period of at least one day.")})
    if policy.trigger == FollowUpPolicy.Trigger.SEGMENT_EVERY:
        if not policy.segment:
            raise ValidationError({"segment": _("Choose the segment to follow up.")})
        if policy.days < 1:
            raise ValidationError({"days": _("A segment needs a period of at least one day.")})
    if not policy.owner.can(Capability.FOLLOW_UP_WORK):
        raise ValidationError({"owner": _("This user may not own promises or follow-ups.")})
    policy.name, policy.purpose = policy.name.strip(), policy.purpose.strip()
    policy.full_clean(exclude=["owner"])
    policy.save()
    return policy


def _occasions(policy: FollowUpPolicy, *, now: datetime):
    """(customer, occasion, due, preferred owner) for each follow-up the policy asks for
    now; the occasion makes the row unique, so asking again adds nothing."""
    from kehu.sales.models import Transaction
    from kehu.service.models import Case
    from kehu.service.selectors import KEY_ACCOUNT_TAGS
    from kehu.telephony.selectors import callbacks_due

    days = timedelta(days=policy.days)
    live = Customer.objects.filter(merged_into=None).select_related("owner")
    if policy.trigger == FollowUpPolicy.Trigger.KEY_ACCOUNT_EVERY:
        period = int(now.timestamp() // days.total_seconds())
        accounts = live.filter(tags__name__in=KEY_ACCOUNT_TAGS).exclude(status="lost").distinct()
        return [(c, f"every-{period}", now, c.owner) for c in accounts]
    if policy.trigger == FollowUpPolicy.Trigger.SEGMENT_EVERY:
        period = int(now.timestamp() // days.total_seconds())
        members = live.filter(value__segment=policy.segment).exclude(status="lost")
        return [(c, f"{policy.segment}-{period}", now, c.owner) for c in members]
    if policy.trigger == FollowUpPolicy.Trigger.AFTER_RESOLVED:
        # Resolved within the last 90 days, so a new policy does not call about old ones.
        resolved = Case.objects.filter(
            kind=Case.Kind.COMPLAINT,
            resolved_at__isnull=False,
            resolved_at__gte=now - timedelta(days=90) - days,
            customer__merged_into=None,
        ).select_related("customer__owner", "owner")
        return [
            (case.customer, f"case-{case.pk}", case.resolved_at + days, case.owner)
            for case in resolved
        ]
    if policy.trigger == FollowUpPolicy.Trigger.MISSED_CALL:
        calls = callbacks_due().filter(customer__merged_into=None).select_related("customer__owner")
        return [
            (call.customer, f"call-{call.pk}", call.started_at + days, call.customer.owner)
            for call in calls
        ]
    if policy.trigger == FollowUpPolicy.Trigger.FIRST_PURCHASE:
        # First purchases of the last 90 days, so a new policy does not call about old ones.
        firsts = (
            Transaction.objects.filter(kind=Transaction.Kind.PURCHASE)
            .values("customer")
            .annotate(first=Min("occurred_at"))
            .filter(first__gte=now - timedelta(days=90) - days)
        )
        first_of = {row["customer"]: row["first"] for row in firsts}
        buyers = live.filter(pk__in=list(first_of))
        return [(c, "first-purchase", first_of[c.pk] + days, c.owner) for c in buyers]
    # Each loss is its own occasion: a customer won back and lost again is called again.
    # Customers imported as lost have no date of loss; they are called once.
    lost = live.filter(status="lost")
    return [
        (c, f"lost-{c.lost_at.isoformat()}" if c.lost_at else "lost", now + days, c.owner)
        for c in lost
    ]


def follow_ups_generate(*, now: datetime | None = None) -> int:
    """Runs every active policy; returns how many follow-ups it made. Idempotent: the
    (policy, customer, occasion) constraint turns a repeat into nothing."""
    now = _now(now)
    made = 0
    for policy in FollowUpPolicy.objects.filter(is_active=True).select_related("owner"):
        rows = []
        for customer, occasion, due, owner in _occasions(policy, now=now):
            if owner is None or not owner.can(Capability.FOLLOW_UP_WORK):
                owner = policy.owner
            rows.append(
                FollowUp(
                    customer=customer,
                    kind=policy.kind,
                    owner=owner,
                    due_at=max(due, now),
                    purpose=policy.purpose,
                    policy=policy,
                    occasion=occasion,
                    created_at=now,
                )
            )
        with transaction.atomic():
            before = FollowUp.objects.filter(policy=policy).count()
            FollowUp.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            visits = FollowUp.objects.filter(
                policy=policy, kind=FollowUpKind.VISIT, visit__isnull=True
            )
            Visit.objects.bulk_create(
                Visit(
                    follow_up=f,
                    checklist=[{"item": item, "done": False} for item in VISIT_CHECKLIST],
                )
                for f in visits
            )
            made += FollowUp.objects.filter(policy=policy).count() - before
    return made


@transaction.atomic
def promises_remind(*, now: datetime | None = None) -> dict[str, int]:
    """Reminds owners of promises coming due, and flags overdue ones to their owner and
    every supervisor: once each, by email, after the run commits."""
    from kehu.service.selectors import supervisors

    now = _now(now)
    lead = timedelta(hours=settings.KEHU_PROMISE_REMINDER_HOURS)
    active = Commitment.objects.select_for_update(of=("self",)).filter(
        status__in=Commitment.ACTIVE_STATUSES
    )
    coming = list(
        active.filter(reminded_at=None, due_at__gt=now, due_at__lte=now + lead).select_related(
            "owner", "customer"
        )
    )
    overdue = list(
        active.filter(overdue_flagged_at=None, due_at__lte=now).select_related("owner", "customer")
    )
    Commitment.objects.filter(pk__in=[c.pk for c in coming]).update(reminded_at=now)
    Commitment.objects.filter(pk__in=[c.pk for c in overdue]).update(
        overdue_flagged_at=now, reminded_at=now
    )
    bosses = [user.email for user in supervisors() if user.email]
    zone = timezone.get_current_timezone()
    mails = []
    with translation.override(settings.LANGUAGE_CODE):
        for commitment in coming:
            if commitment.owner.email:
                mails.append(
                    (
                        _("Promise due soon: %(promise)s") % {"promise": commitment.promise},
                        _("To %(customer)s, due %(due)s.")
                        % {
                            "customer": commitment.customer.name,
                            "due": f"{commitment.due_at.astimezone(zone):%Y-%m-%d %H:%M}",
                        },
                        None,
                        [commitment.owner.email],
                    )
                )
        for commitment in overdue:
            people = sorted({commitment.owner.email, *bosses} - {""})
            if people:
                mails.append(
                    (
                        _("Promise overdue: %(promise)s") % {"promise": commitment.promise},
                        _("To %(customer)s, promised by %(owner)s, was due %(due)s.")
                        % {
                            "customer": commitment.customer.name,
                            "owner": commitment.owner,
                            "due": f"{commitment.due_at.astimezone(zone):%Y-%m-%d %H:%M}",
                        },
                        None,
                        people,
                    )
                )
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=False))
    return {"reminded": len(coming), "overdue": len(overdue)}


# --- The calendar feed ------------------------------------------------------------------


@transaction.atomic
def calendar_feed_create(*, user: User, now: datetime | None = None) -> str:
    """A new secret feed address for the user, replacing (revoking) any earlier one.
    Returns the token; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.filter(user=user).delete()
    try:
        CalendarFeed.objects.create(
            user=user, token_hash=secret_digest(token), created_at=_now(now)
        )
    except IntegrityError:  # pragma: no cover - a 256-bit collision
        raise ValidationError(_("Please try again.")) from None
    return token


def calendar_feed_revoke(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()
