"""Personal touches and tier notices: what the programme tells its members, and how.

Birthday and membership-anniversary greetings (seed 003), and the notices of the tier
changes the nightly evaluation decided. Each goes out through the feedback app's senders
(email through Django's backend, SMS through KEHU_SMS_SENDER) on the member's channel,
and is logged as a Notice.

At most once: the Notice row is committed before the message leaves, so a job that runs
again (or twice at once) finds it and sends nothing; a crash between the two loses one
greeting rather than sending it twice, which is the better mistake for a greeting.
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.customers.models import Customer, Email, Phone
from kehu.feedback import senders
from kehu.feedback.models import Channel
from kehu.loyalty.models import Member, Notice, TierChange
from kehu.loyalty.services import programme_get

log = logging.getLogger(__name__)

# A job that did not run for a day or two (a stopped server) still greets, late.
CATCH_UP_DAYS = 3
# Tier changes older than this when the notices first run are history, not news.
NOTICE_WITHIN = timedelta(days=7)
# Nobody is greeted before this hour of their (kehu's) morning.
GREET_FROM_HOUR = 9
# Greetings go by SMS where the member has a mobile: it is personal and read at once.
CHANNELS = (Channel.SMS, Channel.EMAIL)


def _members_to_reach():
    """Members with what is needed to reach them, in two queries however many."""
    return Member.objects.select_related("customer", "tier").filter(
        customer__merged_into=None
    ).prefetch_related(
        Prefetch("customer__phones", queryset=Phone.objects.order_by("pk")),
        Prefetch("customer__emails", queryset=Email.objects.order_by("pk")),
    )


def member_reach(customer: Customer) -> tuple[str, str]:
    """(channel, address) to send to: a mobile, else any phone, else an email; ("", "")."""
    phones = list(customer.phones.all())
    mobile = next((p.e164 for p in phones if p.label == "mobile"), None) or next(
        (p.e164 for p in phones), None)
    email = next((e.address for e in customer.emails.all()), None)
    options = {Channel.SMS: mobile, Channel.EMAIL: email}
    for channel in CHANNELS:
        if options[channel]:
            return channel, options[channel]
    return "", ""


def _language() -> str:
    return settings.LANGUAGE_CODE


def _greeting(customer: Customer) -> str:
    return customer.salutation or customer.name or _("Dear member")


def _message(kind: str, member: Member, *, years: int = 0,
             change: TierChange | None = None) -> tuple[str, str]:
    """(subject, body) in the programme's language."""
    programme = programme_get().name
    with translation.override(_language()):
        hello = _greeting(member.customer)
        if kind == Notice.Kind.BIRTHDAY:
            return _("Happy birthday"), _(
                "%(greeting)s, happy birthday from all of us at %(programme)s! "
                "Thank you for being with us.") % {"greeting": hello, "programme": programme}
        if kind == Notice.Kind.ANNIVERSARY:
            return _("Thank you for your loyalty"), ngettext(
                "%(greeting)s, today you have been a member of %(programme)s for %(years)d "
                "year. Thank you for your loyalty.",
                "%(greeting)s, today you have been a member of %(programme)s for %(years)d "
                "years. Thank you for your loyalty.", years,
            ) % {"greeting": hello, "programme": programme, "years": years}
        to = change.to_tier.name if change.to_tier_id else _("no tier")
        if kind == Notice.Kind.UPGRADE:
            return _("You have a new membership tier"), _(
                "%(greeting)s, congratulations: you are now a %(tier)s member of "
                "%(programme)s.") % {"greeting": hello, "tier": to, "programme": programme}
        if kind == Notice.Kind.AT_RISK:
            until = formats.date_format(
                timezone.localtime(member.grace_until or change.at), "DATE_FORMAT")
            return _("Keep your membership tier"), _(
                "%(greeting)s, to stay a %(tier)s member of %(programme)s you need a little "
                "more over the coming weeks; you keep the tier until %(until)s.") % {
                "greeting": hello, "tier": change.from_tier.name if change.from_tier_id
                else to, "programme": programme, "until": until}
        return _("Your membership tier has changed"), _(
            "%(greeting)s, your membership of %(programme)s is now: %(tier)s. We look "
            "forward to seeing you again.") % {"greeting": hello, "tier": to,
                                              "programme": programme}


def _deliver(notice: Notice, subject: str) -> None:
    try:
        if notice.channel == Channel.EMAIL:
            senders.email_send(to=notice.address, subject=subject, body=notice.body)
        else:
            senders.sms_send(to=notice.address, body=notice.body)
    except Exception as error:  # a gateway's failure is logged on the notice, not fatal
        log.exception("Notice %s could not be sent", notice.pk)
        Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.FAILED,
                                                  error=str(error)[:300])


def _notify(member: Member, *, kind: str, now: datetime, year: int | None = None,
            change: TierChange | None = None, years: int = 0) -> Notice | None:
    """Logs the notice and sends it; None when it was logged before (sent once only)."""
    subject, body = _message(kind, member, years=years, change=change)
    channel, address = member_reach(member.customer)
    notice = Notice(member=member, kind=kind, year=year, tier_change=change, channel=channel,
                    address=address, body=body, at=now,
                    status=Notice.Status.SENT if address else Notice.Status.NO_ADDRESS)
    try:
        with transaction.atomic():
            notice.save()
            if change is not None:
                TierChange.objects.filter(pk=change.pk).update(notified_at=now)
    except IntegrityError:
        return None  # already greeted (or noticed), by an earlier run or another process
    if address:
        _deliver(notice, subject)
    return notice


def _days(today: date) -> list[date]:
    return [today - timedelta(days=n) for n in range(CATCH_UP_DAYS)]


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _falls_on(month: int, day: int, year: int) -> tuple[int, int]:
    """Where a date's month and day fall in a year: a 29 February on the 28th in the years
    without one."""
    return (2, 28) if (month, day) == (2, 29) and not _is_leap(year) else (month, day)


def _on_days(field: str, days: list[date]) -> Q:
    condition = Q()
    for day in days:
        condition |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
        if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
            condition |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return condition


def _occasion(of: date, days: list[date]) -> date | None:
    """The day among `days` that is this date's birthday or anniversary, if any."""
    return next((d for d in days if _falls_on(of.month, of.day, d.year) == (d.month, d.day)),
                None)


def greetings_send(*, now: datetime | None = None) -> dict[str, int]:
    """Greets the members whose birthday or membership anniversary is today (or was in the
    last CATCH_UP_DAYS days), each once a year, from GREET_FROM_HOUR on. Returns how many of
    each were sent now."""
    now = now or timezone.now()
    counts = {Notice.Kind.BIRTHDAY.value: 0, Notice.Kind.ANNIVERSARY.value: 0}
    if timezone.localtime(now).hour < GREET_FROM_HOUR:
        return counts
    days = _days(timezone.localdate(now))
    greeted = set(Notice.objects.filter(
        kind__in=Notice.GREETINGS, year__in={d.year for d in days},
    ).values_list("member_id", "kind", "year"))

    def greet(member: Member, kind: str, occasion: date | None, years: int = 0) -> None:
        if occasion is None or (member.pk, kind, occasion.year) in greeted:
            return
        if _notify(member, kind=kind, now=now, year=occasion.year, years=years):
            counts[kind] += 1

    for member in _members_to_reach().filter(_on_days("customer__birthday", days)):
        greet(member, Notice.Kind.BIRTHDAY, _occasion(member.customer.birthday, days))
    for member in _members_to_reach().filter(_on_days("joined_at", days)):
        joined = timezone.localdate(member.joined_at)
        occasion = _occasion(joined, days)
        if occasion is not None and occasion.year > joined.year:
            greet(member, Notice.Kind.ANNIVERSARY, occasion, occasion.year - joined.year)
    return counts


def tier_notices_send(*, now: datetime | None = None) -> int:
    """Sends the notice of every recent tier change not yet told (upgrade, downgrade, at
    risk), each once. Returns how many were sent now."""
    now = now or timezone.now()
    changes = TierChange.objects.filter(
        notified_at__isnull=True, at__gte=now - NOTICE_WITHIN, notice__isnull=True,
    ).select_related("from_tier", "to_tier").order_by("at", "pk")
    members = {m.pk: m for m in _members_to_reach().filter(
        pk__in=changes.values("member_id"))}
    sent = 0
    for change in changes:
        member = members.get(change.member_id)
        if member is not None and _notify(member, kind=change.kind, now=now, change=change):
            sent += 1
    return sent
