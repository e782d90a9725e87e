"""Changing business calendars and service cases: lifecycle, notes, SLA clocks, the sweep."""

import mimetypes
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail, send_mass_mail
from django.db import connection, transaction
from django.db.models import DateTimeField, F, QuerySet, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.insights.selectors import customer_value_conditions
from kehu.service import selectors, worksheet
from kehu.service.calendars import WorkingTime
from kehu.service.models import (
    AuthorityLimit,
    BusinessCalendar,
    CalendarDay,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseNote,
    ComplaintCategory,
    ComplaintWorksheet,
    ImprovementAction,
    ProvisionalYearNotice,
    Remedy,
    RootCause,
    ServiceSettings,
    ServiceSettingsChange,
    SlaPolicy,
)
from kehu.setting_changes import setting_changes_record
from kehu.users.models import User
from kehu.users.roles import Capability, Role
from kehu.webhooks.services import case_event_record


def _calendar_save(calendar: BusinessCalendar) -> BusinessCalendar:
    """Validates and saves; callers run in a transaction, which a refusal rolls back."""
    # One default at a time (a constraint guards it): the new default takes over the flag,
    # before validation, which checks that constraint.
    if calendar.is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(
            is_default=False
        )
    calendar.full_clean()
    calendar.save()
    return calendar


@transaction.atomic
def calendar_create(
    *, name: str, time_zone: str, hours: list, region: str, is_default: bool = False
) -> BusinessCalendar:
    """A new calendar; the first one becomes the default, so SLA clocks always have one."""
    is_default = is_default or not BusinessCalendar.objects.exists()
    return _calendar_save(
        BusinessCalendar(
            name=name,
            time_zone=time_zone,
            hours=hours,
            region=region,
            is_default=is_default,
        )
    )


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    name: str,
    time_zone: str,
    hours: list,
    region: str,
    is_default: bool,
) -> BusinessCalendar:
    """Saves changed settings. The default is changed by making another calendar the default,
    never by unticking it, so that there is always one."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    calendar.name, calendar.time_zone, calendar.hours, calendar.region = (
        name,
        time_zone,
        hours,
        region,
    )
    calendar.is_default = calendar.is_default or is_default
    return _calendar_save(calendar)


def calendar_day_set(
    *, calendar: BusinessCalendar, day: date, kind: str, name: str = ""
) -> CalendarDay:
    """Opens or closes one date, replacing any earlier override of the same date."""
    CalendarDay(calendar=calendar, date=day, kind=kind, name=name).full_clean(
        validate_unique=False, validate_constraints=False
    )
    # update_or_create retries as an update when a concurrent request created the date.
    override, _created = CalendarDay.objects.update_or_create(
        calendar=calendar, date=day, defaults={"kind": kind, "name": name}
    )
    return override


def calendar_day_delete(*, override: CalendarDay) -> None:
    """The date goes back to the weekly hours and the holiday package."""
    override.delete()


@transaction.atomic
def provisional_year_notices_send(*, now: datetime | None = None) -> int:
    """Emails every supervisor, once per region and year, when a year whose official holiday
    schedule is not published comes within 60 days (selectors.provisional_years_ahead).
    Returns the number of years told about; the emails go once the run commits."""
    now = _now(now)
    told = 0
    bosses = [user.email for user in selectors.supervisors() if user.email]
    for region, year in selectors.provisional_years_ahead(today=timezone.localdate(now)):
        _notice, created = ProvisionalYearNotice.objects.get_or_create(
            region=region, year=year, defaults={"sent_at": now}
        )
        if not created:
            continue
        told += 1
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Holidays of %(year)s not published yet") % {"year": year}
            body = _(
                "The official holiday schedule of %(year)s (%(region)s) is not published yet. "
                "Until it is, kehu estimates that year's holidays and knows none of its "
                "adjusted working days: service-level deadlines that fall in %(year)s are "
                "provisional. Check the days against the State Council's notice when it "
                "comes out, and add those that differ to each calendar."
            ) % {"year": year, "region": region}
        if bosses:
            transaction.on_commit(
                lambda subject=subject, body=body: send_mass_mail(
                    [(subject, body, None, [email]) for email in bosses], fail_silently=False
                )
            )
    return told


# --- Service cases ----------------------------------------------------------------------

S = Case.Status
# Where each status may go. Leaving RESOLVED or CLOSED for IN_PROGRESS is a reopen.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.WAITING, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.WAITING, S.RESOLVED}),
    S.WAITING: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
}
# Round the clock in UTC: the clock used when no business calendar exists at all, so that a
# case still gets honest due times (counted in plain hours) rather than none.
ROUND_THE_CLOCK = WorkingTime(time_zone=ZoneInfo("UTC"), week=(((0, 24 * 60),),) * 7)
SEQUENCE_PREFIX = "C"


def sla_warning_share() -> float:
    """The share of a target after which the sweep warns (setting KEHU_SLA_WARNING_SHARE)."""
    return float(getattr(settings, "KEHU_SLA_WARNING_SHARE", 0.8))


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _case_reference(*, when: datetime) -> str:
    """The next "C2026-000123": numbered per year of the server's time zone."""
    from kehu.customers.models import NumberSequence

    year = timezone.localtime(when).year
    sequence, _created = NumberSequence.objects.select_for_update().get_or_create(
        name=f"case-{year}"
    )
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{SEQUENCE_PREFIX}{year}-{sequence.last:06d}"


def _working_time(case: Case) -> WorkingTime:
    if case.calendar_id is None:
        return ROUND_THE_CLOCK
    return selectors.working_time_for(calendar=case.calendar)


def _pauses(case: Case, *, now: datetime) -> list[tuple[datetime, datetime]]:
    pauses = [
        (datetime.fromisoformat(start), datetime.fromisoformat(end))
        for start, end in case.sla_pauses
    ]
    if case.sla_paused_at is not None:
        pauses.append((case.sla_paused_at, now))
    return pauses


def _pause_close(case: Case, *, now: datetime) -> None:
    if case.sla_paused_at is not None:
        case.sla_pauses = [
            *case.sla_pauses,
            [case.sla_paused_at.astimezone(UTC).isoformat(), now.isoformat()],
        ]
        case.sla_paused_at = None


def _sla_compute(case: Case, *, now: datetime) -> None:
    """Due and warning times from the case's targets, its calendar and its pauses so far."""
    working_time = _working_time(case)
    pauses = _pauses(case, now=now)
    share = sla_warning_share()
    for target, due, warn in (
        ("first_response_minutes", "first_response_due_at", "first_response_warn_at"),
        ("resolution_minutes", "resolution_due_at", "resolution_warn_at"),
    ):
        minutes = getattr(case, target)
        if minutes is None:
            continue
        full = timedelta(minutes=minutes)
        setattr(
            case,
            due,
            working_time.deadline_after(
                start=case.created_at, business_duration=full, pauses=pauses
            ),
        )
        setattr(
            case,
            warn,
            working_time.deadline_after(
                start=case.created_at, business_duration=full * share, pauses=pauses
            ),
        )


def _business_minutes(case: Case, *, now: datetime) -> int | None:
    """Business minutes since the case was opened, not counting its pauses."""
    if case.first_response_minutes is None and case.resolution_minutes is None:
        return None
    elapsed = _working_time(case).business_time_between(
        start=case.created_at, end=now, pauses=_pauses(case, now=now)
    )
    return int(elapsed.total_seconds() // 60)


def _event(
    case: Case,
    *,
    actor: User | None,
    at: datetime,
    kind: str,
    from_value: str = "",
    to_value: str = "",
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        at=at,
        kind=kind,
        from_value=from_value[:200],
        to_value=to_value[:200],
    )


def _check_can_edit(actor: User) -> None:
    if not actor.can(Capability.CASE_EDIT):
        raise ValidationError(_("You may not change service cases."), code="forbidden")


def _case_for_write(*, case: Case, expected_version: int, actor: User) -> Case:
    """The case locked for writing, refused when someone saved it since it was read."""
    _check_can_edit(actor)
    locked = Case.objects.select_for_update(of=("self",)).select_related("calendar").get(pk=case.pk)
    if locked.version != expected_version:
        raise ValidationError(
            _("Someone else changed this case; reload it and try again."), code="stale"
        )
    return locked


def _case_save(case: Case, *, now: datetime) -> Case:
    case.version += 1
    case.updated_at = now
    case.full_clean(exclude=["customer", "contact", "owner", "category"])
    case.save()
    return case


def _clean_text(value: str, *, field: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    return value


@transaction.atomic
def case_create(
    *,
    actor: User | None,
    customer,
    kind: str,
    channel: str,
    subject: str,
    description: str = "",
    priority: str = Case.Priority.NORMAL,
    contact=None,
    category: ComplaintCategory | None = None,
    owner: User | None = None,
    team: str = "",
    now: datetime | None = None,
) -> Case:
    """Opens a case with its SLA: the matching policy's targets on its calendar.

    Without an actor the system opens it (the public web form): no one owns it yet."""
    if actor is not None:
        _check_can_edit(actor)
    now = _now(now)
    errors: dict[str, str] = {}
    if customer.merged_into_id:
        errors["customer"] = _("This customer was merged into another; open the case there.")
    if contact is not None and contact.organisation_id != customer.pk:
        errors["contact"] = _("This contact does not belong to the customer.")
    if category is not None and kind != Case.Kind.COMPLAINT:
        errors["category"] = _("Only complaints have a complaint category.")
    if category is not None and not category.is_active:
        errors["category"] = _("This complaint category is no longer in use.")
    if owner is not None and not owner.can(Capability.CASE_EDIT):
        errors["owner"] = _("This user may not work on cases.")
    if errors:
        raise ValidationError(errors)
    case = Case(
        reference="-",
        kind=kind,
        channel=channel,
        category=category,
        priority=priority,
        customer=customer,
        contact=contact,
        subject=_clean_text(subject, field="subject", required=True),
        description=_clean_text(description, field="description"),
        owner=owner if owner is not None else actor,
        team=_clean_text(team, field="team"),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    case.full_clean(exclude=["reference", "customer", "contact", "owner", "category", "created_by"])
    policy = selectors.sla_policy_for(
        kind=kind,
        priority=priority,
        key_account=selectors.customer_is_key_account(customer),
        values=customer_value_conditions(customer=customer),
    )
    if policy is not None:
        case.sla_policy = policy
        case.calendar = policy.calendar or selectors.calendar_default()
        case.first_response_minutes = policy.first_response_minutes
        case.resolution_minutes = policy.resolution_minutes
        _sla_compute(case, now=now)
    case.reference = _case_reference(when=now)
    case.save()
    _event(case, actor=actor, at=now, kind=CaseEvent.Kind.CREATED, to_value=case.status)
    case_event_record(case=case, event="case.created", now=now)
    return case


@transaction.atomic
def case_transition(
    *,
    actor: User,
    case: Case,
    to: str,
    expected_version: int,
    root_cause: RootCause | None = None,
    root_cause_note: str = "",
    now: datetime | None = None,
) -> Case:
    """Moves a case along its lifecycle; waiting on the customer stops the SLA clock.

    A complaint is resolved only with its root cause recorded (given here or before)."""
    now = _now(now)
    case = _case_for_write(case=case, expected_version=expected_version, actor=actor)
    source = case.status
    if root_cause is not None:
        _root_cause_record(case, actor=actor, root_cause=root_cause, note=root_cause_note, now=now)
    if to == S.RESOLVED and case.kind == Case.Kind.COMPLAINT and case.root_cause_id is None:
        raise ValidationError(
            {"root_cause": _("Record the root cause of the complaint before resolving it.")},
            code="root_cause",
        )
    if to not in TRANSITIONS.get(source, ()):
        raise ValidationError(
            _("A case cannot go from %(from)s to %(to)s.")
            % {
                "from": Case.Status(source).label,
                "to": Case.Status(to).label if to in Case.Status.values else to,
            },
            code="transition",
        )
    reopening = source in (S.RESOLVED, S.CLOSED)
    if source == S.WAITING:
        _pause_close(case, now=now)
    if reopening and case.resolved_at is not None:
        # Time spent resolved does not count against the resolution target.
        case.sla_pauses = [
            *case.sla_pauses,
            [case.resolved_at.astimezone(UTC).isoformat(), now.isoformat()],
        ]
        case.resolved_at = None
    if to == S.WAITING:
        case.sla_paused_at = now
    if to == S.RESOLVED:
        case.resolved_at = now
        case.resolution_business_minutes = _business_minutes(case, now=now)
    if source == S.WAITING or reopening:
        _sla_compute(case, now=now)
    case.status = to
    _case_save(case, now=now)
    _event(case, actor=actor, at=now, kind=CaseEvent.Kind.STATUS, from_value=source, to_value=to)
    case_event_record(
        case=case, event="case.resolved" if to == S.RESOLVED else "case.updated", now=now
    )
    return case


def _reply_address(case: Case) -> str:
    owner = case.contact if case.contact_id else case.customer
    email = owner.emails.order_by("pk").first()
    return email.address if email else ""


@transaction.atomic
def case_note_add(
    *,
    actor: User,
    case: Case,
    kind: str,
    body: str,
    expected_version: int,
    now: datetime | None = None,
) -> CaseNote:
    """An internal note, or a reply emailed to the customer; the first reply is the
    first response."""
    now = _now(now)
    case = _case_for_write(case=case, expected_version=expected_version, actor=actor)
    if case.status == S.CLOSED:
        raise ValidationError(_("This case is closed; reopen it to add to it."), code="closed")
    note = CaseNote(
        case=case,
        kind=kind,
        body=_clean_text(body, field="body", required=True),
        author=actor,
        created_at=now,
    )
    note.full_clean(exclude=["case", "author"])
    if kind == CaseNote.Kind.REPLY:
        note.sent_to = _reply_address(case)
        if case.first_responded_at is None:
            case.first_responded_at = now
            case.first_response_business_minutes = _business_minutes(case, now=now)
    note.save()
    _case_save(case, now=now)
    _event(
        case,
        actor=actor,
        at=now,
        kind=CaseEvent.Kind.REPLY if kind == CaseNote.Kind.REPLY else CaseEvent.Kind.NOTE,
    )
    if kind == CaseNote.Kind.REPLY:
        # Internal notes stay inside kehu; a reply is news the customer's systems may track.
        case_event_record(case=case, event="case.updated", now=now)
    if note.sent_to:
        # Plain text: whatever markup the agent typed is sent as typed, never rendered.
        send_mail(
            subject=f"[{case.reference}] {case.subject}",
            message=note.body,
            from_email=None,
            recipient_list=[note.sent_to],
        )
    return note


@transaction.atomic
def case_assign(
    *,
    actor: User,
    case: Case,
    owner: User | None,
    team: str,
    expected_version: int,
    now: datetime | None = None,
) -> Case:
    now = _now(now)
    case = _case_for_write(case=case, expected_version=expected_version, actor=actor)
    if case.status == S.CLOSED:
        raise ValidationError(_("This case is closed; reopen it to add to it."), code="closed")
    if owner is not None and not owner.can(Capability.CASE_EDIT):
        raise ValidationError({"owner": _("This user may not work on cases.")})
    before = f"{case.owner or ''} / {case.team}"
    case.owner, case.team = owner, _clean_text(team, field="team")
    _case_save(case, now=now)
    _event(
        case,
        actor=actor,
        at=now,
        kind=CaseEvent.Kind.ASSIGNMENT,
        from_value=before,
        to_value=f"{owner or ''} / {case.team}",
    )
    case_event_record(case=case, event="case.updated", now=now)
    return case


def _events_record(cases: QuerySet[Case], *, at, kind: str) -> int:
    """One event of `kind` per case, at `at` (a column or an instant), written by the
    database from the cases' rows in one INSERT … SELECT: no row makes a round trip."""
    if connection.features.has_select_for_update:
        # Locked first, so that the events written and the cases marked next are the same.
        list(cases.select_for_update(of=("self",)).values_list("pk", flat=True))
    rows = cases.annotate(_at=at, _kind=Value(kind), _from=Value(""), _to=Value("")).values_list(
        "pk", "_at", "_kind", "_from", "_to"
    )
    select, params = rows.query.sql_with_params()
    columns = ", ".join(
        connection.ops.quote_name(CaseEvent._meta.get_field(name).column)
        for name in ("case", "at", "kind", "from_value", "to_value")
    )
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)
        return cursor.rowcount


@transaction.atomic
def case_sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Records each breach and warning whose time has come, from the stored due times.

    Set-based: per kind, one INSERT … SELECT writes the events and one UPDATE marks the
    cases, over all open cases whose clock runs; a breach is recorded at its due time (the
    moment it happened), a warning at the sweep. Returns the counts.
    """
    now = _now(now)
    # Unordered, and naming resolved_at (never set on an open case), so that the database
    # reads the small partial indexes of running clocks (see Case.Meta).
    running = Case.objects.order_by().filter(
        status__in=Case.OPEN_STATUSES, sla_paused_at__isnull=True, resolved_at__isnull=True
    )
    found: dict[str, int] = {}
    for kind, due, breached, done in (
        (
            CaseEvent.Kind.FIRST_RESPONSE_BREACH,
            "first_response_due_at",
            "first_response_breached_at",
            "first_responded_at",
        ),
        (
            CaseEvent.Kind.RESOLUTION_BREACH,
            "resolution_due_at",
            "resolution_breached_at",
            "resolved_at",
        ),
    ):
        late = running.filter(
            **{f"{breached}__isnull": True, f"{done}__isnull": True, f"{due}__lte": now}
        )
        found[kind] = _events_record(late, at=F(due), kind=kind)
        if found[kind]:
            late.update(**{breached: F(due)})
    # One warning per case: a case the first pass warns is no longer unwarned in the second.
    # Two passes rather than one OR, which the database could not answer from the indexes.
    found[CaseEvent.Kind.WARNING] = 0
    for done, warn_at in (
        ("first_responded_at", "first_response_warn_at"),
        ("resolved_at", "resolution_warn_at"),
    ):
        warn = running.filter(
            warned_at__isnull=True, **{f"{done}__isnull": True, f"{warn_at}__lte": now}
        )
        count = _events_record(
            warn, at=Value(now, output_field=DateTimeField()), kind=CaseEvent.Kind.WARNING
        )
        if count:
            warn.update(warned_at=now)
            found[CaseEvent.Kind.WARNING] += count
    return found


# One run tells about at most this many events; the next minute's run takes the rest.
NOTIFY_BATCH = 5000


@transaction.atomic
def sla_notifications_send(*, now: datetime | None = None) -> int:
    """Tells each owner of their cases' new SLA warnings and breaches, and every supervisor
    of each new breach: one email per person per run, sent once the run commits. Returns
    the number of emails."""
    now = _now(now)
    events = list(
        CaseEvent.objects.select_for_update(of=("self",))
        .filter(kind__in=CaseEvent.NOTIFIED_KINDS, notified_at__isnull=True)
        .select_related("case", "case__owner")
        .order_by("pk")[:NOTIFY_BATCH]
    )
    if not events:
        return 0
    CaseEvent.objects.filter(pk__in=[event.pk for event in events]).update(notified_at=now)
    bosses = [user.email for user in selectors.supervisors() if user.email]
    told: dict[str, list[CaseEvent]] = {}
    for event in events:
        owner = event.case.owner
        people = {owner.email} if owner is not None and owner.email else set()
        if event.kind != CaseEvent.Kind.WARNING:
            people.update(bosses)
        for email in people:
            told.setdefault(email, []).append(event)
    with translation.override(settings.LANGUAGE_CODE):
        mails = [
            (
                _("Service levels: %(count)d case(s) need attention") % {"count": len(listed)},
                "\n".join(
                    f"[{event.case.reference}] {event.case.subject} — "
                    f"{event.get_kind_display()} — /cases/{event.case_id}/"
                    for event in listed
                ),
                None,
                [email],
            )
            for email, listed in told.items()
        ]
    transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=False))
    return len(mails)


# --- SLA policies and complaint categories, configured by supervisors and admins -------


def _sla_policy_save(policy: SlaPolicy) -> SlaPolicy:
    errors: dict[str, str] = {}
    if policy.kind and policy.kind not in Case.Kind.values:
        errors["kind"] = _("Choose a kind of case, or any.")
    if policy.priority and policy.priority not in Case.Priority.values:
        errors["priority"] = _("Choose a priority, or any.")
    for field in ("first_response_minutes", "resolution_minutes"):
        value = getattr(policy, field)
        if value is None or value < 1:
            errors[field] = _("A target is at least one business minute.")
    if errors:
        raise ValidationError(errors)
    policy.name = policy.name.strip()
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def sla_policy_create(
    *,
    name: str,
    kind: str,
    priority: str,
    key_accounts: bool,
    first_response_minutes: int,
    resolution_minutes: int,
    calendar: BusinessCalendar | None,
    customer_value: str = "",
) -> SlaPolicy:
    """A new policy; it applies to cases opened from now on (open cases keep their targets)."""
    return _sla_policy_save(
        SlaPolicy(
            name=name,
            kind=kind,
            priority=priority,
            key_accounts=key_accounts,
            customer_value=customer_value,
            first_response_minutes=first_response_minutes,
            resolution_minutes=resolution_minutes,
            calendar=calendar,
        )
    )


@transaction.atomic
def sla_policy_update(*, policy: SlaPolicy, **fields) -> SlaPolicy:
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    for field, value in fields.items():
        setattr(policy, field, value)
    return _sla_policy_save(policy)


def sla_policy_delete(*, policy: SlaPolicy) -> None:
    """Cases opened under it keep the targets and due times they were given."""
    policy.delete()


def _named_item_create(model, *, code: str, name: str):
    """A complaint category or root cause, placed last."""
    last = model.objects.order_by("-position").values_list("position", flat=True)
    item = model(code=code.strip(), name=name.strip(), position=(last.first() or 0) + 10)
    item.full_clean()
    item.save()
    return item


def _named_item_update(item, *, name: str, is_active: bool):
    """Renames or retires one; a retired one stays on its cases but is not offered."""
    item.name, item.is_active = name.strip(), is_active
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def complaint_category_create(*, code: str, name: str) -> ComplaintCategory:
    return _named_item_create(ComplaintCategory, code=code, name=name)


@transaction.atomic
def complaint_category_update(
    *, category: ComplaintCategory, name: str, is_active: bool
) -> ComplaintCategory:
    return _named_item_update(category, name=name, is_active=is_active)


# --- Root causes and improvement actions ------------------------------------------------


def _root_cause_record(
    case: Case, *, actor: User, root_cause: RootCause, note: str, now: datetime
) -> None:
    if case.kind != Case.Kind.COMPLAINT:
        raise ValidationError({"root_cause": _("Only complaints have a root cause.")})
    if not root_cause.is_active:
        raise ValidationError({"root_cause": _("This root cause is no longer in use.")})
    before = str(case.root_cause) if case.root_cause_id else ""
    case.root_cause = root_cause
    case.root_cause_note = _clean_text(note, field="root_cause_note")
    _event(
        case,
        actor=actor,
        at=now,
        kind=CaseEvent.Kind.ROOT_CAUSE,
        from_value=before,
        to_value=str(root_cause),
    )


@transaction.atomic
def case_root_cause_set(
    *,
    actor: User,
    case: Case,
    root_cause: RootCause,
    note: str = "",
    expected_version: int,
    now: datetime | None = None,
) -> Case:
    """Records (or corrects) why a complaint happened, also after it was resolved."""
    now = _now(now)
    case = _case_for_write(case=case, expected_version=expected_version, actor=actor)
    _root_cause_record(case, actor=actor, root_cause=root_cause, note=note, now=now)
    return _case_save(case, now=now)


@transaction.atomic
def root_cause_create(*, code: str, name: str) -> RootCause:
    return _named_item_create(RootCause, code=code, name=name)


@transaction.atomic
def root_cause_update(*, root_cause: RootCause, name: str, is_active: bool) -> RootCause:
    return _named_item_update(root_cause, name=name, is_active=is_active)


def _improvement_check(action: ImprovementAction, *, actor: User) -> None:
    _check_can_edit(actor)
    errors: dict[str, str] = {}
    if not action.owner.can(Capability.CASE_EDIT):
        errors["owner"] = _("This user may not work on cases.")
    if action.root_cause_id and not action.root_cause.is_active and action._state.adding:
        errors["root_cause"] = _("This root cause is no longer in use.")
    if errors:
        raise ValidationError(errors)
    action.title = _clean_text(action.title, field="title", required=True)
    action.description = _clean_text(action.description, field="description")
    action.full_clean(exclude=["owner", "root_cause", "created_by"])


@transaction.atomic
def improvement_action_create(
    *,
    actor: User,
    title: str,
    owner: User,
    due_date: date,
    description: str = "",
    root_cause: RootCause | None = None,
    cases: list[Case] = (),
    now: datetime | None = None,
) -> ImprovementAction:
    now = _now(now)
    if due_date < timezone.localdate(now):
        raise ValidationError({"due_date": _("The due date is in the past.")})
    action = ImprovementAction(
        title=title,
        description=description,
        owner=owner,
        due_date=due_date,
        root_cause=root_cause,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _improvement_check(action, actor=actor)
    action.save()
    for case in cases:
        _improvement_link(action, case=case, actor=actor, now=now)
    return action


@transaction.atomic
def improvement_action_update(
    *,
    actor: User,
    action: ImprovementAction,
    title: str,
    description: str,
    owner: User,
    due_date: date,
    status: str,
    root_cause: RootCause | None,
    now: datetime | None = None,
) -> ImprovementAction:
    now = _now(now)
    action = ImprovementAction.objects.select_for_update().get(pk=action.pk)
    if status not in ImprovementAction.Status.values:
        raise ValidationError({"status": _("Choose a status.")})
    if due_date != action.due_date and due_date < timezone.localdate(now):
        raise ValidationError({"due_date": _("The due date is in the past.")})
    done = (ImprovementAction.Status.DONE, ImprovementAction.Status.CANCELLED)
    if status in done and action.status not in done:
        action.completed_at = now
    elif status not in done:
        action.completed_at = None
    action.title, action.description, action.owner = title, description, owner
    action.due_date, action.status, action.root_cause = due_date, status, root_cause
    action.updated_at = now
    _improvement_check(action, actor=actor)
    action.save()
    return action


def _improvement_link(action: ImprovementAction, *, case: Case, actor: User, now: datetime) -> None:
    if case.kind != Case.Kind.COMPLAINT:
        raise ValidationError(_("Only complaints are linked to improvement actions."))
    if action.cases.filter(pk=case.pk).exists():
        return
    action.cases.add(case)
    _event(case, actor=actor, at=now, kind=CaseEvent.Kind.IMPROVEMENT, to_value=action.title)


@transaction.atomic
def improvement_action_link(
    *, actor: User, action: ImprovementAction, case: Case, now: datetime | None = None
) -> None:
    """Adds a complaint to what an action answers; linking twice changes nothing."""
    _check_can_edit(actor)
    _improvement_link(action, case=case, actor=actor, now=_now(now))


# --- Authority and approval -------------------------------------------------------------


@transaction.atomic
def authority_limit_set(
    *, actor: User, role: str, max_amount: Decimal | None, now: datetime | None = None
) -> AuthorityLimit:
    if not actor.can(Capability.AUTHORITY_MANAGE):
        raise ValidationError(_("Only an administrator sets authority limits."), code="forbidden")
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    limit, _created = AuthorityLimit.objects.select_for_update().get_or_create(role=role)
    limit.max_amount, limit.updated_by, limit.updated_at = max_amount, actor, _now(now)
    limit.full_clean()
    limit.save()
    return limit


def _within_authority(user: User, *, case: Case, amount: Decimal) -> bool:
    """Whether the user may give this much more on the case: the limit is per case, so
    that splitting one compensation into small ones needs the same approval."""
    limit = selectors.authority_limit(role=user.role)
    if limit is None:
        return True
    return selectors.case_remedies_given(case=case) + amount <= limit


@transaction.atomic
def remedy_request(
    *,
    actor: User,
    case: Case,
    kind: str,
    amount: Decimal,
    description: str,
    now: datetime | None = None,
) -> Remedy:
    """Goodwill or compensation: granted at once within the actor's authority, otherwise
    put to a supervisor."""
    _check_can_edit(actor)
    now = _now(now)
    # Locked, so that two grants at once cannot both fit under the same limit.
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(
            _("Goodwill is given on open cases only; reopen the case first."), code="closed"
        )
    errors: dict[str, str] = {}
    if kind not in Remedy.Kind.values:
        errors["kind"] = _("Choose what is given.")
    if amount is None or amount <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    if errors:
        raise ValidationError(errors)
    within = _within_authority(actor, case=case, amount=amount)
    remedy = Remedy(
        case=case,
        kind=kind,
        amount=amount,
        currency=settings.KEHU_CURRENCY,
        description=_clean_text(description, field="description", required=True),
        status=Remedy.Status.GRANTED if within else Remedy.Status.PENDING,
        requested_by=actor,
        requested_at=now,
    )
    remedy.full_clean(exclude=["case", "requested_by"])
    if within:
        remedy.decided_by, remedy.decided_at = actor, now
    remedy.save()
    _event(
        case,
        actor=actor,
        at=now,
        kind=CaseEvent.Kind.REMEDY_GRANTED if within else CaseEvent.Kind.REMEDY_REQUESTED,
        to_value=f"{remedy.get_kind_display()} {selectors.money_display(remedy.amount, remedy.currency)}",
    )
    return remedy


@transaction.atomic
def remedy_decide(
    *,
    actor: User,
    remedy: Remedy,
    approve: bool,
    reason: str,
    now: datetime | None = None,
) -> Remedy:
    """A supervisor's decision on a request above the requester's authority, with a reason."""
    if not actor.can(Capability.REMEDY_APPROVE):
        raise ValidationError(
            _("Only a supervisor or an administrator approves goodwill."), code="forbidden"
        )
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).get(pk=remedy.case_id)
    remedy = Remedy.objects.select_for_update().get(pk=remedy.pk)
    if remedy.status != Remedy.Status.PENDING:
        raise ValidationError(
            _("This request was already decided: %(status)s.")
            % {"status": remedy.get_status_display()},
            code="decided",
        )
    if remedy.requested_by_id == actor.pk:
        raise ValidationError(
            _("Someone else must decide on your own request."), code="own_request"
        )
    if approve and not _within_authority(actor, case=case, amount=remedy.amount):
        raise ValidationError(
            _("This is above your own limit; an administrator must decide."), code="limit"
        )
    remedy.decision_reason = _clean_text(reason, field="decision_reason", required=True)
    remedy.full_clean(exclude=["case", "requested_by", "decided_by"])
    remedy.status = Remedy.Status.APPROVED if approve else Remedy.Status.REJECTED
    remedy.decided_by, remedy.decided_at = actor, now
    remedy.save()
    _event(
        case,
        actor=actor,
        at=now,
        kind=CaseEvent.Kind.REMEDY_APPROVED if approve else CaseEvent.Kind.REMEDY_REJECTED,
        from_value=f"{remedy.get_kind_display()} {selectors.money_display(remedy.amount, remedy.currency)}",
        to_value=remedy.decision_reason,
    )
    return remedy


# --- The worksheet and handing a case up ------------------------------------------------


def _hand_up(case: Case, *, actor: User, superior: User, now: datetime) -> None:
    before = str(case.owner or "")
    case.owner = superior
    _event(
        case,
        actor=actor,
        at=now,
        kind=CaseEvent.Kind.HANDED_UP,
        from_value=before,
        to_value=str(superior),
    )


@transaction.atomic
def worksheet_save(
    *,
    actor: User,
    case: Case,
    answers: dict,
    expected_version: int,
    superior: User | None = None,
    now: datetime | None = None,
) -> ComplaintWorksheet:
    """Saves the four steps of the analysis; deciding to hand the case to the superior
    makes that supervisor its owner."""
    now = _now(now)
    case = _case_for_write(case=case, expected_version=expected_version, actor=actor)
    if case.kind != Case.Kind.COMPLAINT:
        raise ValidationError(_("Only complaints have an analysis worksheet."))
    if case.status == S.CLOSED:
        raise ValidationError(_("This case is closed; reopen it to add to it."), code="closed")
    answers = worksheet.answers_clean(answers)
    handing_up = answers.get("position") == worksheet.HAND_TO_SUPERIOR
    if handing_up and superior is None:
        raise ValidationError({"superior": _("Choose the supervisor to hand the case to.")})
    if handing_up and (not superior.can(Capability.REMEDY_APPROVE) or superior.pk == actor.pk):
        raise ValidationError({"superior": _("Choose a supervisor other than yourself.")})
    sheet, _created = ComplaintWorksheet.objects.get_or_create(
        case=case, defaults={"updated_at": now}
    )
    sheet.answers, sheet.updated_by, sheet.updated_at = answers, actor, now
    sheet.save()
    _event(case, actor=actor, at=now, kind=CaseEvent.Kind.WORKSHEET)
    if handing_up and case.owner_id != superior.pk:
        _hand_up(case, actor=actor, superior=superior, now=now)
    _case_save(case, now=now)
    return sheet


# --- Attachments ------------------------------------------------------------------------


@transaction.atomic
def attachment_add(
    *, actor: User, case: Case, upload: UploadedFile, now: datetime | None = None
) -> CaseAttachment:
    """Keeps a file with the case (photos of a fault, a letter); refused above the limit."""
    _check_can_edit(actor)
    now = _now(now)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status == S.CLOSED:
        raise ValidationError(_("This case is closed; reopen it to add to it."), code="closed")
    limit = settings.KEHU_ATTACHMENT_MAX_MB * 1024 * 1024
    if upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)d MB.")
                % {"mb": settings.KEHU_ATTACHMENT_MAX_MB}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    name = Path(upload.name or "").name.strip()[:200] or "file"
    attachment = CaseAttachment(
        case=case,
        name=name,
        size=upload.size,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        uploaded_by=actor,
        uploaded_at=now,
    )
    attachment.file.save(name, upload, save=False)
    # The file is written before the row; if the row is not, it must not stay behind.
    try:
        attachment.save()
        _event(case, actor=actor, at=now, kind=CaseEvent.Kind.ATTACHMENT, to_value=name)
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


# --- Service settings, changed by an admin ----------------------------------------------

SERVICE_SETTING_FIELDS = ("complaint_rate_percent", "habitual_threshold", "habitual_window_months")


@transaction.atomic
def service_settings_update(
    *,
    actor: User,
    complaint_rate_percent: Decimal,
    habitual_threshold: int,
    habitual_window_months: int,
    now: datetime | None = None,
) -> ServiceSettings:
    """Saves the desk's settings and records each changed value with who changed it."""
    if not actor.can(Capability.SERVICE_SETTINGS_EDIT):
        raise ValidationError(_("You may not change the service settings."), code="forbidden")
    now = _now(now)
    current, _created = ServiceSettings.objects.select_for_update().get_or_create(pk=1)
    before = {name: getattr(current, name) for name in SERVICE_SETTING_FIELDS}
    current.complaint_rate_percent = complaint_rate_percent
    current.habitual_threshold = habitual_threshold
    current.habitual_window_months = habitual_window_months
    current.updated_at = now
    current.full_clean()
    current.save()
    setting_changes_record(
        ServiceSettingsChange,
        actor=actor,
        at=now,
        before=before,
        after={name: getattr(current, name) for name in before},
    )
    return current
