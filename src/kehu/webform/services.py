"""The public web form: anyone may open a case, within a rate limit per client address."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.customers import services as customer_services
from kehu.customers.choices import CustomerKind
from kehu.customers.models import Contact, Customer, Email
from kehu.customers.phones import phone_parse
from kehu.customers.selectors import customer_live
from kehu.service import services as case_services
from kehu.service.models import Case, ComplaintCategory
from kehu.telephony.selectors import caller_matches
from kehu.webform.models import SubmissionWindow


class RateLimited(Exception):
    pass


def _window() -> timedelta:
    return timedelta(minutes=settings.KEHU_WEBFORM_WINDOW_MINUTES)


def submission_take(*, client: str, now: datetime, limit: int | None = None) -> None:
    """Counts one submission from the client, or raises RateLimited when the window is full.

    `limit` defaults to the web form's; other public pages (the survey answer page) pass
    their own, and key their clients apart (e.g. "survey:<address>").

    The client's row is locked while it is read and written, so concurrent requests in
    different processes queue here instead of both slipping under the limit."""
    window, _created = SubmissionWindow.objects.select_for_update().get_or_create(
        client=client, defaults={"updated_at": now}
    )
    since = now - _window()
    recent = [t for t in window.times if datetime.fromisoformat(t) > since]
    full = len(recent) >= (settings.KEHU_WEBFORM_LIMIT if limit is None else limit)
    window.times = recent if full else [*recent, now.isoformat()]
    window.updated_at = now
    window.save(update_fields=["times", "updated_at"])
    if full:
        raise RateLimited


def submission_windows_prune(*, now: datetime | None = None) -> int:
    """Forgets clients whose every submission has left the window."""
    now = now or timezone.now()
    deleted, _by_model = SubmissionWindow.objects.filter(updated_at__lt=now - _window()).delete()
    return deleted


def _customer_find(*, e164: str, email: str) -> tuple[Customer | None, Contact | None]:
    """The customer (and contact) with this phone, most recently in touch first, else the
    one with this email address."""
    if e164:
        matches = caller_matches(e164=e164)
        if matches:
            return matches[0].customer, matches[0].contact
    if email:
        found = (
            Email.objects.filter(address=email)
            .select_related("customer__merged_into", "contact")
            .order_by("pk")
            .first()
        )
        if found:
            return customer_live(found.customer), found.contact
    return None, None


def _given_details(*, name: str, phone: str, email: str) -> str:
    """What the visitor wrote about themselves, for the agent, in the service desk's
    language: a matched customer's record is never changed by an anonymous form."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [_("Given on the web form:"), _("Name: %(name)s") % {"name": name}]
        if phone:
            lines.append(_("Phone: %(phone)s") % {"phone": phone})
        if email:
            lines.append(_("Email: %(email)s") % {"email": email})
    return "\n".join(lines)


@transaction.atomic
def web_case_submit(
    *,
    client: str,
    name: str,
    phone: str,
    email: str,
    kind: str,
    category: ComplaintCategory | None,
    subject: str,
    description: str,
    now: datetime | None = None,
) -> Case:
    """Opens a web-form case for the customer with this phone or email, or for a new one.

    Raises RateLimited (nothing written) past the client's limit, ValidationError on bad
    input; either rolls the submission back whole."""
    now = now or timezone.now()
    submission_take(client=client, now=now)
    name, email = name.strip(), email.strip().lower()
    e164 = phone_parse(phone).e164 if phone.strip() else ""
    customer, contact = _customer_find(e164=e164, email=email)
    if customer is None:
        customer = customer_services.customer_create(
            actor=None,
            kind=CustomerKind.INDIVIDUAL,
            name=name,
            phones=[phone] if e164 else [],
            emails=[email] if email else [],
        )
    case = case_services.case_create(
        actor=None,
        customer=customer,
        contact=contact,
        kind=kind,
        channel=Case.Channel.WEB,
        category=category if kind == Case.Kind.COMPLAINT else None,
        subject=subject,
        description="\n\n".join(
            [description.strip(), _given_details(name=name, phone=phone, email=email)]
        ),
        now=now,
    )
    if email:
        transaction.on_commit(lambda: _confirmation_send(case=case, email=email))
    return case


def _confirmation_send(*, case: Case, email: str) -> None:
    """In the visitor's language (the request's, still active after the commit)."""
    send_mail(
        subject=_("We received your message: %(reference)s") % {"reference": case.reference},
        message=_(
            "Thank you for writing to us. Your reference number is %(reference)s; please quote "
            "it if you contact us about this.\n\nSubject: %(subject)s"
        )
        % {"reference": case.reference, "subject": case.subject},
        from_email=None,
        recipient_list=[email],
    )
