"""Every write to the customer archive goes through these functions."""

import re
from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.customers.choices import CustomerKind, CustomerStatus, PhoneLabel
from kehu.customers.models import (
    Address,
    Change,
    Contact,
    Customer,
    Email,
    Note,
    NumberSequence,
    Phone,
    SearchEntry,
    Tag,
)
from kehu.customers.phones import InvalidPhone, ParsedPhone, phone_parse
from kehu.customers.search import search_document
from kehu.users.models import User

NUMBER_PREFIX = "K"
_MARKUP = re.compile(r"[<>]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Customer fields a person edits directly; the rest are lists or relations.
CUSTOMER_FIELDS = (
    "kind", "name", "salutation", "birthday", "industry", "status", "lost_reason",
    "preferences", "usual", "needs", "external_id", "owner",
)
CONTACT_FIELDS = ("name", "salutation", "title", "decision_role", "style", "notes", "external_id")


def customer_numbers_reserve(*, count: int) -> list[str]:
    with transaction.atomic():
        sequence, _created = NumberSequence.objects.select_for_update().get_or_create(
            name="customer"
        )
        first = sequence.last + 1
        sequence.last += count
        sequence.save(update_fields=["last"])
    return [f"{NUMBER_PREFIX}{n:07d}" for n in range(first, first + count)]


def phones_parse(texts: Iterable[str], *, field: str = "phones") -> list[ParsedPhone]:
    parsed, errors, seen = [], [], set()
    for text in texts:
        if not text.strip():
            continue
        try:
            phone = phone_parse(text)
        except InvalidPhone as error:
            errors.append(str(error))
            continue
        if (phone.e164, phone.extension) not in seen:
            seen.add((phone.e164, phone.extension))
            parsed.append(phone)
    if errors:
        raise ValidationError({field: errors})
    return parsed


def emails_clean(texts: Iterable[str], *, field: str = "emails") -> list[str]:
    cleaned, errors = [], []
    for text in texts:
        address = text.strip().lower()
        if not address:
            continue
        if len(address) > 254 or not _EMAIL.match(address):
            errors.append(_("“%(text)s” is not an email address.") % {"text": text.strip()})
        elif address not in cleaned:
            cleaned.append(address)
    if errors:
        raise ValidationError({field: errors})
    return cleaned


def name_check(name: str, *, field: str = "name") -> None:
    if _MARKUP.search(name or ""):
        raise ValidationError({field: _("Names may not contain “<” or “>”.")})


def phone_label(phone: ParsedPhone) -> str:
    """Mobile or work, from the number's type libphonenumber gave when it was read."""
    return PhoneLabel.MOBILE if phone.is_mobile else PhoneLabel.WORK


def _customer_validate(customer: Customer) -> None:
    name_check(customer.name)
    if customer.status == CustomerStatus.LOST and not customer.lost_reason:
        raise ValidationError({"lost_reason": _("Say why the customer was lost.")})
    if customer.status != CustomerStatus.LOST:
        customer.lost_reason = ""
    if (customer.pk and customer.kind != CustomerKind.ORGANISATION
            and customer.contacts.exists()):
        raise ValidationError(
            {"kind": _("An organisation with contacts cannot become an individual.")}
        )
    customer.full_clean(exclude=["number", "tags"] if not customer.number else ["tags"])


def _lost_at_set(customer: Customer, *, was_lost: bool) -> None:
    """Stamps the moment a customer becomes lost (the exit survey and win-back follow-ups
    start from it) and forgets it when they are won back. A customer imported as lost has
    none: when they were lost is not known, so no exit survey goes to them."""
    if customer.status != CustomerStatus.LOST:
        customer.lost_at = None
    elif not was_lost:
        customer.lost_at = timezone.now()


def _value_for_history(value) -> str | int | None:
    """A JSON-safe rendering of a field value (dates, users) for the change log."""
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def search_entries_refresh(*, customer: Customer) -> None:
    """Rebuilds the findable text of a customer and of each of its contacts."""
    aliases = Customer.objects.filter(merged_into=customer).values_list("number", flat=True)
    phones = list(customer.phones.all())
    emails = list(customer.emails.all())
    own_phones = [p for p in phones if p.contact_id is None]
    own_emails = [e for e in emails if e.contact_id is None]
    document = search_document(
        [customer.name, customer.number, customer.external_id or "", *aliases,
         *(p.e164[1:] for p in own_phones), *(e.address for e in own_emails)]
    )
    SearchEntry.objects.update_or_create(
        customer=customer, contact=None, defaults={"document": document}
    )
    for contact in customer.contacts.all():
        document = search_document(
            [contact.name, customer.name,
             *(p.e164[1:] for p in phones if p.contact_id == contact.id),
             *(e.address for e in emails if e.contact_id == contact.id)]
        )
        SearchEntry.objects.update_or_create(
            contact=contact, defaults={"customer": customer, "document": document}
        )


def _lists_replace(
    *, customer: Customer, contact: Contact | None, phones: Sequence[ParsedPhone] | None,
    emails: Sequence[str] | None,
) -> dict:
    """Replaces the phones/emails of the customer (or of one contact); returns the diff."""
    diff = {}
    if phones is not None:
        current = Phone.objects.filter(customer=customer, contact=contact)
        before = [p.display for p in current]
        keep = {(p.e164, p.extension) for p in phones}
        current.exclude(
            pk__in=[p.pk for p in current if (p.e164, p.extension) in keep]
        ).delete()
        existing = {(p.e164, p.extension) for p in current.all()}
        Phone.objects.bulk_create(
            Phone(customer=customer, contact=contact, e164=p.e164, extension=p.extension,
                  label=phone_label(p))
            for p in phones if (p.e164, p.extension) not in existing
        )
        after = [p.display for p in Phone.objects.filter(customer=customer, contact=contact)]
        if sorted(before) != sorted(after):
            diff["phones"] = [before, after]
    if emails is not None:
        current = Email.objects.filter(customer=customer, contact=contact)
        before = [e.address for e in current]
        current.exclude(address__in=emails).delete()
        Email.objects.bulk_create(
            Email(customer=customer, contact=contact, address=a)
            for a in emails if a not in before
        )
        if sorted(before) != sorted(emails):
            diff["emails"] = [before, list(emails)]
    return diff


def _tags_set(*, customer: Customer, tags: Sequence[str]) -> dict:
    names = sorted({t.strip() for t in tags if t.strip()})
    for name in names:
        name_check(name, field="tags")
        if len(name) > 50:
            raise ValidationError({"tags": _("A tag may have at most 50 characters.")})
    before = sorted(customer.tags.values_list("name", flat=True))
    if names == before:
        return {}
    objects = [Tag.objects.get_or_create(name=name)[0] for name in names]
    customer.tags.set(objects)
    return {"tags": [before, names]}


def _addresses_set(*, customer: Customer, addresses: Sequence[str]) -> dict:
    texts = [a.strip() for a in addresses if a.strip()]
    for text in texts:
        if len(text) > 300:
            raise ValidationError({"addresses": _("An address may have at most 300 characters.")})
    before = list(customer.addresses.values_list("text", flat=True))
    if before == texts:
        return {}
    customer.addresses.all().delete()
    Address.objects.bulk_create(Address(customer=customer, text=t) for t in texts)
    return {"addresses": [before, texts]}


@transaction.atomic
def customer_create(
    *, actor: User | None, kind: str, name: str, phones: Sequence[str] = (),
    emails: Sequence[str] = (), addresses: Sequence[str] = (), tags: Sequence[str] = (),
    **fields,
) -> Customer:
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    customer = Customer(kind=kind, name=(name or "").strip(), **fields)
    customer.external_id = customer.external_id or None
    parsed_phones = phones_parse(phones)
    clean_emails = emails_clean(emails)
    _customer_validate(customer)
    _lost_at_set(customer, was_lost=False)
    customer.number = customer_numbers_reserve(count=1)[0]
    customer.save()
    _lists_replace(customer=customer, contact=None, phones=parsed_phones, emails=clean_emails)
    _addresses_set(customer=customer, addresses=addresses)
    _tags_set(customer=customer, tags=tags)
    Change.objects.create(customer=customer, actor=actor, action="created")
    search_entries_refresh(customer=customer)
    return customer


@transaction.atomic
def customer_update(
    *, actor: User | None, customer: Customer, phones: Sequence[str] | None = None,
    emails: Sequence[str] | None = None, addresses: Sequence[str] | None = None,
    tags: Sequence[str] | None = None, **fields,
) -> Customer:
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id:
        raise ValidationError(_("This customer was merged into another and can no longer change."))
    # lost_reason is cleared by validation when the status changes, so it is watched too.
    watched = [*fields, *({"lost_reason"} - set(fields))]
    before = {f: getattr(customer, f) for f in watched}
    was_lost = customer.status == CustomerStatus.LOST
    for field, value in fields.items():
        setattr(customer, field, value.strip() if isinstance(value, str) else value)
    customer.external_id = customer.external_id or None
    parsed_phones = phones_parse(phones) if phones is not None else None
    clean_emails = emails_clean(emails) if emails is not None else None
    _customer_validate(customer)
    _lost_at_set(customer, was_lost=was_lost)
    customer.save()
    diff = {
        f: [_value_for_history(before[f]), _value_for_history(getattr(customer, f))]
        for f in watched if before[f] != getattr(customer, f)
    }
    diff |= _lists_replace(
        customer=customer, contact=None, phones=parsed_phones, emails=clean_emails
    )
    if addresses is not None:
        diff |= _addresses_set(customer=customer, addresses=addresses)
    if tags is not None:
        diff |= _tags_set(customer=customer, tags=tags)
    if diff:
        Change.objects.create(customer=customer, actor=actor, action="updated", fields=diff)
        search_entries_refresh(customer=customer)
    return customer


def _contact_validate(contact: Contact) -> None:
    name_check(contact.name)
    if contact.organisation.kind != CustomerKind.ORGANISATION:
        raise ValidationError(_("Only organisations have contacts."))
    if contact.organisation.merged_into_id:
        raise ValidationError(_("This customer was merged into another and can no longer change."))
    contact.full_clean()


@transaction.atomic
def contact_create(
    *, actor: User | None, organisation: Customer, name: str, phones: Sequence[str] = (),
    emails: Sequence[str] = (), **fields,
) -> Contact:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    contact = Contact(organisation=organisation, name=(name or "").strip(), **fields)
    contact.external_id = contact.external_id or None
    parsed_phones = phones_parse(phones)
    clean_emails = emails_clean(emails)
    _contact_validate(contact)
    contact.save()
    _lists_replace(customer=organisation, contact=contact, phones=parsed_phones,
                   emails=clean_emails)
    Change.objects.create(
        customer=organisation, actor=actor, action="contact_added", fields={"contact": contact.name}
    )
    search_entries_refresh(customer=organisation)
    return contact


@transaction.atomic
def contact_update(
    *, actor: User | None, contact: Contact, phones: Sequence[str] | None = None,
    emails: Sequence[str] | None = None, **fields,
) -> Contact:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    contact = Contact.objects.select_related("organisation").get(pk=contact.pk)
    before = {f: getattr(contact, f) for f in fields}
    for field, value in fields.items():
        setattr(contact, field, value.strip() if isinstance(value, str) else value)
    contact.external_id = contact.external_id or None
    parsed_phones = phones_parse(phones) if phones is not None else None
    clean_emails = emails_clean(emails) if emails is not None else None
    _contact_validate(contact)
    contact.save()
    diff = {f: [before[f], getattr(contact, f)] for f in fields if before[f] != getattr(contact, f)}
    diff |= _lists_replace(
        customer=contact.organisation, contact=contact, phones=parsed_phones, emails=clean_emails
    )
    if diff:
        Change.objects.create(
            customer=contact.organisation, actor=actor, action="contact_updated",
            fields={"contact": contact.name, **diff},
        )
        search_entries_refresh(customer=contact.organisation)
    return contact


@transaction.atomic
def note_add(
    *, actor: User | None, customer: Customer, body: str, kind: str = "note",
    contact: Contact | None = None, outcome: str = "", reason: str = "",
) -> Note:
    """A note, or a logged contact: a contact needs an outcome or a few words."""
    note = Note(customer=customer, body=(body or "").strip(), kind=kind, contact=contact,
                author=actor, outcome=outcome, reason=reason)
    if not note.body and not note.outcome:
        raise ValidationError({"body": _("Write something first.")})
    if customer.merged_into_id:
        raise ValidationError(_("This customer was merged into another and can no longer change."))
    note.full_clean(exclude=["author", "contact"])
    note.save()
    return note


_MERGE_TEXT_FIELDS = ("preferences", "needs")
_MERGE_FILL_FIELDS = ("salutation", "birthday", "industry", "usual", "owner")


def _records_move(*, duplicate: Customer, survivor: Customer) -> None:
    """Every row of any app that points at the duplicate (phones, notes, calls, cases…)
    moves to the survivor; found from the model graph so no later app is forgotten."""
    for relation in Customer._meta.related_objects:
        if not relation.one_to_many or relation.related_model is Customer:
            continue
        field = relation.field.name
        relation.related_model._base_manager.filter(**{field: duplicate}).update(
            **{field: survivor}
        )


@transaction.atomic
def customer_merge(*, actor: User | None, survivor: Customer, duplicate: Customer) -> Customer:
    """Folds `duplicate` into `survivor`; every phone, email, contact, note and change moves.

    The duplicate stays as a tombstone pointing at the survivor so its number still
    finds the survivor and imports by its external id land on the survivor.
    """
    survivor = Customer.objects.select_for_update().get(pk=survivor.pk)
    duplicate = Customer.objects.select_for_update().get(pk=duplicate.pk)
    if survivor.pk == duplicate.pk:
        raise ValidationError(_("A customer cannot be merged into itself."))
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise ValidationError(_("One of these customers has already been merged."))
    if duplicate.contacts.exists() and not survivor.is_organisation:
        raise ValidationError(_("Merge an organisation into an organisation to keep its contacts."))

    filled = {}
    for field in _MERGE_FILL_FIELDS:
        if not getattr(survivor, field) and getattr(duplicate, field):
            setattr(survivor, field, getattr(duplicate, field))
            filled[field] = [None, _value_for_history(getattr(duplicate, field))]
    for field in _MERGE_TEXT_FIELDS:
        theirs = getattr(duplicate, field)
        if theirs and theirs not in getattr(survivor, field):
            combined = "\n".join(filter(None, [getattr(survivor, field), theirs]))
            filled[field] = [getattr(survivor, field), combined]
            setattr(survivor, field, combined)
    survivor.save()

    existing_phones = set(survivor.phones.values_list("e164", "extension", "contact_id"))
    for phone in duplicate.phones.all():
        if (phone.e164, phone.extension, phone.contact_id) in existing_phones:
            phone.delete()
    existing_emails = set(survivor.emails.values_list("address", "contact_id"))
    for email in duplicate.emails.all():
        if (email.address, email.contact_id) in existing_emails:
            email.delete()
    SearchEntry.objects.filter(customer=duplicate, contact=None).delete()
    _records_move(duplicate=duplicate, survivor=survivor)
    survivor.tags.add(*duplicate.tags.all())

    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "updated_at"])
    Change.objects.create(
        customer=survivor, actor=actor, action="merged",
        fields={"merged": duplicate.number, "name": duplicate.name, **filled},
    )
    Change.objects.create(
        customer=duplicate, actor=actor, action="merged_into", fields={"into": survivor.number}
    )
    search_entries_refresh(customer=survivor)
    return survivor
