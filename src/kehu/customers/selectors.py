"""Reads of the customer archive that span relations."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from kehu.customers.models import Change, Contact, Customer, Email, Note, Phone, SearchEntry
from kehu.customers.phones import phone_parse_or_none
from kehu.customers.search import fts5_query, search_terms, tsquery

if TYPE_CHECKING:
    from kehu.telephony.models import Call


@dataclass(frozen=True)
class SearchHit:
    customer: Customer
    contact: Contact | None
    matched_by: str  # "phone", "email", "number" or "name"


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    page: int
    has_next: bool


def _text_entry_ids(query: str, *, offset: int, limit: int) -> list[int]:
    terms = search_terms(query)
    if not terms:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            return _fts5_entry_ids(cursor, terms, offset=offset, limit=limit)
        # document_tsv: to_tsvector('simple', document), stored and GIN-indexed
        # (migration 0003).
        cursor.execute(
            "SELECT id FROM customers_searchentry WHERE document_tsv"
            " @@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT %s OFFSET %s",
            [tsquery(terms), limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]


# FTS5 answers a prefix term by merging the entries of every word that starts with it:
# "86" starts every stored phone number, a million words, and takes seconds; it comes in
# every query written "+86 138 0013 8000". So short prefixes are left out of a first
# query, whose few candidates are then matched against the whole query by FTS5 itself,
# on a scratch index of just their documents: the same answer, in a millisecond or two.
_SHORT_PREFIX = 3  # characters
_MAX_CANDIDATES = 500


def _fts5_entry_ids(cursor, terms: list, *, offset: int, limit: int) -> list[int]:
    short = [t for t in terms if t[0] == "prefix" and len(t[1][0]) <= _SHORT_PREFIX]
    rest = [t for t in terms if t not in short]
    if short and rest:
        cursor.execute(
            "SELECT rowid FROM customers_searchentry_fts WHERE customers_searchentry_fts"
            " MATCH %s ORDER BY rowid DESC LIMIT %s",
            [fts5_query(rest), _MAX_CANDIDATES + 1],
        )
        candidates = [row[0] for row in cursor.fetchall()]
        if len(candidates) <= _MAX_CANDIDATES:
            return _fts5_matching(cursor, candidates, terms, offset=offset, limit=limit)
    cursor.execute(
        "SELECT rowid FROM customers_searchentry_fts WHERE customers_searchentry_fts"
        " MATCH %s ORDER BY rowid DESC LIMIT %s OFFSET %s",
        [fts5_query(terms), limit, offset],
    )
    return [row[0] for row in cursor.fetchall()]


def _fts5_matching(cursor, ids: list[int], terms: list, *, offset: int,
                   limit: int) -> list[int]:
    """Those of the entries `ids` that match `terms`, newest first."""
    if not ids:
        return []
    # A temporary FTS5 table lives in this connection only; same tokenizer as the index.
    cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'customers_searchentry_fts'")
    tokenize = re.search(r"tokenize\s*=\s*('(?:[^']|'')*')", cursor.fetchone()[0]).group(1)
    cursor.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.customers_search_candidates"
        f" USING fts5(document, tokenize={tokenize})"
    )
    cursor.execute("DELETE FROM temp.customers_search_candidates")
    cursor.execute(
        "INSERT INTO temp.customers_search_candidates (rowid, document)"
        " SELECT id, document FROM customers_searchentry"
        f" WHERE id IN ({', '.join(['%s'] * len(ids))})",
        ids,
    )
    cursor.execute(
        "SELECT rowid FROM temp.customers_search_candidates WHERE customers_search_candidates"
        " MATCH %s ORDER BY rowid DESC LIMIT %s OFFSET %s",
        [fts5_query(terms), limit, offset],
    )
    return [row[0] for row in cursor.fetchall()]


def _exact_hits(query: str) -> list[SearchHit]:
    """Phone, email and customer-number lookups: each one index probe.

    Each asks the index with plain SQL first, and builds the ORM query (which takes
    longer to put together than the database takes to answer) only for what exists.
    """
    text = query.strip()
    hits: list[SearchHit] = []
    phone = phone_parse_or_none(text) if sum(c.isdigit() for c in text) >= 5 else None
    if phone and _exists("SELECT 1 FROM customers_phone WHERE e164 = %s", phone.e164):
        # The contact, if any (a customer's own phones have none), is read when needed.
        for row in Phone.objects.filter(e164=phone.e164).select_related("customer"):
            hits.append(SearchHit(customer_live(row.customer), row.contact, "phone"))
    address = text.lower()
    if "@" in text and _exists("SELECT 1 FROM customers_email WHERE address = %s", address):
        for row in Email.objects.filter(address=address).select_related("customer", "contact"):
            hits.append(SearchHit(customer_live(row.customer), row.contact, "email"))
    number = text.upper()
    if _exists("SELECT 1 FROM customers_customer WHERE number = %s", number):
        found = Customer.objects.filter(number=number).select_related("merged_into").first()
        hits.append(SearchHit(customer_live(found), None, "number"))
    return hits


def _exists(sql: str, value: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql + " LIMIT 1", [value])
        return cursor.fetchone() is not None


def customer_live(customer: Customer) -> Customer:
    """The customer a (possibly merged-away) record now lives on."""
    while customer.merged_into_id:
        customer = customer.merged_into
    return customer


def customer_browse(
    *, page: int = 1, page_size: int = 25, owner_id: int | None = None, status: str = "",
    kind: str = "",
) -> SearchPage:
    """Newest first, optionally one account manager's portfolio, a status or a kind."""
    page = max(page, 1)
    customers = Customer.objects.filter(merged_into=None)
    if owner_id:
        customers = customers.filter(owner_id=owner_id)
    if status:
        customers = customers.filter(status=status)
    if kind:
        customers = customers.filter(kind=kind)
    found = list(customers.order_by("-id")[(page - 1) * page_size : page * page_size + 1])
    hits = [SearchHit(c, None, "") for c in found]
    return _with_own_phones(SearchPage(hits[:page_size], page, len(hits) > page_size))


def _with_own_phones(result: SearchPage) -> SearchPage:
    """Result rows show each customer's first phone: one query for the page.

    It reads all the customers' phones and drops their contacts' here: asked for
    "contact_id IS NULL" too, SQLite (without ANALYZE statistics) walks the contact_id
    index, that is every customer's own phone, 200 ms with a million customers.
    """
    customers = [hit.customer for hit in result.hits]
    if not customers:
        return result
    own_phones: dict[int, list[Phone]] = {customer.pk: [] for customer in customers}
    for phone in Phone.objects.filter(customer_id__in=own_phones):
        if phone.contact_id is None:
            own_phones[phone.customer_id].append(phone)
    for customer in customers:
        customer.own_phones = own_phones[customer.pk]
    return result


def customer_search(*, query: str, page: int = 1, page_size: int = 25) -> SearchPage:
    """One box: name (Chinese substring), organisation, phone in any form, email, number."""
    return _with_own_phones(_customer_search(query=query, page=page, page_size=page_size))


def _customer_search(*, query: str, page: int, page_size: int) -> SearchPage:
    page = max(page, 1)
    query = (query or "").strip()
    if not query:
        return customer_browse(page=page, page_size=page_size)

    exact = _exact_hits(query) if page == 1 else []
    ids = _text_entry_ids(query, offset=(page - 1) * page_size, limit=page_size + 1)
    entries = {
        e.id: e
        for e in SearchEntry.objects.filter(id__in=ids).select_related("customer", "contact")
    } if ids else {}  # (building the empty query alone costs as much as a phone lookup)
    seen = {(h.customer.pk, h.contact.pk if h.contact else None) for h in exact}
    hits = list(exact)
    for entry_id in ids[:page_size]:
        entry = entries.get(entry_id)
        if entry is None:
            continue
        key = (entry.customer_id, entry.contact_id)
        if key not in seen:
            seen.add(key)
            hits.append(SearchHit(entry.customer, entry.contact, "name"))
    return SearchPage(hits, page, len(ids) > page_size)


def customer_card(*, pk: int) -> Customer:
    """Everything the card's first screen shows, in a fixed number of queries."""
    return (
        Customer.objects.select_related("owner", "merged_into")
        .prefetch_related(
            Prefetch("phones", queryset=Phone.objects.filter(contact=None)),
            Prefetch("emails", queryset=Email.objects.filter(contact=None)),
            "addresses",
            "tags",
            Prefetch(
                "contacts",
                queryset=Contact.objects.prefetch_related("phones", "emails").order_by(
                    "decision_role", "id"
                ),
            ),
        )
        .get(pk=pk)
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    note: Note | None = None
    call: "Call | None" = None


def customer_timeline(*, customer: Customer, limit: int = 50) -> list[TimelineEntry]:
    """Notes, logged contacts and calls, newest first; a logged call shows as one entry."""
    from kehu.telephony.models import Call

    calls = list(
        Call.objects.filter(customer=customer).select_related("agent", "note", "contact")
        .order_by("-started_at")[:limit]
    )
    logged = {call.note_id for call in calls if call.note_id}
    notes = (
        Note.objects.filter(customer=customer).exclude(id__in=logged)
        .select_related("author", "contact")[:limit]
    )
    entries = [TimelineEntry(note.created_at, note=note) for note in notes]
    entries += [TimelineEntry(call.started_at, call=call) for call in calls]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def customer_history(*, customer: Customer, limit: int = 200) -> list[Change]:
    return list(Change.objects.filter(customer=customer).select_related("actor")[:limit])


def customer_duplicates(
    *, e164s: list[str], emails: list[str], exclude: int | None = None
) -> QuerySet[Customer]:
    """Live customers sharing any normalised phone or email."""
    condition = Q(phones__e164__in=e164s) | Q(emails__address__in=[e.lower() for e in emails])
    found = Customer.objects.filter(condition, merged_into=None).distinct()
    if exclude:
        found = found.exclude(pk=exclude)
    return found.order_by("id")


def customer_duplicates_of(*, customer: Customer) -> QuerySet[Customer]:
    return customer_duplicates(
        e164s=list(customer.phones.values_list("e164", flat=True)),
        emails=list(customer.emails.values_list("address", flat=True)),
        exclude=customer.pk,
    )
