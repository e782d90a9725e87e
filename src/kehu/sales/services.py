"""Recording purchases and refunds, one at a time or a whole file at once."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from kehu.customers.models import Customer
from kehu.customers.transfer import ImportFileError, ImportReport, rows_from_file
from kehu.sales.models import Transaction
from kehu.users.models import User
from kehu.users.roles import Capability

# Tills and web shops disagree with our clock by a little; more than this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)
MAX_AMOUNT = Decimal("999999999999.99")
IMPORT_BATCH = 5000


def _check_can_record(actor: User | None) -> None:
    if actor is not None and not actor.can(Capability.SALES_RECORD):
        raise ValidationError(_("You may not record purchases or refunds."), code="forbidden")


def _refunded_so_far(purchase: Transaction) -> Decimal:
    return purchase.refunds.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def _check(*, customer: Customer, kind: str, occurred_at: datetime, amount: Decimal,
           cost: Decimal | None, refund_of: Transaction | None, now: datetime,
           already_refunded: Decimal | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if customer.merged_into_id:
        errors["customer"] = _("This customer was merged into another; use that one.")
    if kind not in Transaction.Kind.values:
        errors["kind"] = _("The kind must be purchase or refund.")
    if occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = _("The time is in the future.")
    if amount is None or amount <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    elif amount > MAX_AMOUNT or amount.as_tuple().exponent < -2:
        errors["amount"] = _("The amount must be a sum of money with at most two decimals.")
    if cost is not None and cost < 0:
        errors["cost"] = _("The cost may not be negative.")
    if refund_of is not None:
        if kind != Transaction.Kind.REFUND:
            errors["refund_of"] = _("Only a refund can name the purchase it refunds.")
        elif refund_of.kind != Transaction.Kind.PURCHASE:
            errors["refund_of"] = _("A refund can only refund a purchase.")
        elif refund_of.customer_id != customer.pk:
            errors["refund_of"] = _("That purchase belongs to another customer.")
        elif amount and amount > 0:
            done = (_refunded_so_far(refund_of) if already_refunded is None
                    else already_refunded)
            if amount + done > refund_of.amount:
                errors["amount"] = _(
                    "The refund is more than what is left of the purchase (%(left)s)."
                ) % {"left": refund_of.amount - done}
    return errors


@transaction.atomic
def transaction_record(
    *,
    actor: User | None,
    customer: Customer,
    amount: Decimal,
    occurred_at: datetime | None = None,
    kind: str = Transaction.Kind.PURCHASE,
    cost: Decimal | None = None,
    product: str = "",
    category: str = "",
    channel: str = "",
    external_id: str | None = None,
    refund_of: Transaction | None = None,
    now: datetime | None = None,
) -> Transaction:
    """Records one purchase or refund. A known external id returns the recorded one."""
    _check_can_record(actor)
    now = now or timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    external_id = (external_id or "").strip() or None
    if external_id:
        existing = Transaction.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.customer_id != customer.pk or existing.amount != amount:
                raise ValidationError({"external_id": _(
                    "Another transaction already has this external id.")})
            return existing
    if refund_of is not None:
        # Two refunds of one purchase at once must not together exceed it.
        refund_of = Transaction.objects.select_for_update().get(pk=refund_of.pk)
    errors = _check(customer=customer, kind=kind, occurred_at=occurred_at, amount=amount,
                    cost=cost, refund_of=refund_of, now=now)
    if errors:
        raise ValidationError(errors)
    return Transaction.objects.create(
        customer=customer, kind=kind, occurred_at=occurred_at, amount=amount,
        currency=settings.KEHU_CURRENCY, cost=cost, product=product.strip()[:200],
        category=category.strip()[:100], channel=channel.strip()[:50],
        external_id=external_id, refund_of=refund_of, created_by=actor,
    )


# --- Import -------------------------------------------------------------------------------

COLUMNS = ("customer", "time", "amount", "kind", "cost", "product", "category", "channel",
           "external_id", "refund_of")
REQUIRED = ("customer", "time", "amount")
_KINDS = {
    "purchase": "purchase", "refund": "refund", "购买": "purchase", "消费": "purchase",
    "退款": "refund", "退货": "refund",
}


def _decimal(value: str) -> Decimal | None:
    value = value.replace(",", "").replace("¥", "").replace("￥", "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def _time(value: str) -> datetime | None:
    value = value.strip()
    moment = parse_datetime(value) if value else None
    if moment is None and value:
        day = parse_date(value)
        moment = datetime(day.year, day.month, day.day) if day else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _customers_by_reference(references: set[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    references_list = list(references)
    for start in range(0, len(references_list), 500):
        batch = references_list[start:start + 500]
        for customer in Customer.objects.filter(number__in=batch).only(
                "pk", "number", "merged_into_id"):
            found[customer.number] = customer
        for customer in Customer.objects.filter(external_id__in=batch).only(
                "pk", "external_id", "merged_into_id"):
            found.setdefault(customer.external_id, customer)
    return found


def transactions_import(
    *, actor: User | None, name: str, data: bytes, encoding: str = "",
    now: datetime | None = None,
) -> ImportReport:
    """Checks every row, then writes all of them in one transaction, or none. A row whose
    external id is already recorded, for the same customer, amount and kind, is counted as
    unchanged: importing a file again changes nothing.

    Columns: customer (number or external id), time, amount; optional kind
    (purchase/refund), cost, product, category, channel, external_id, refund_of (the
    external id of the purchase refunded, earlier in the file or already recorded).
    """
    _check_can_record(actor)
    now = now or timezone.now()
    rows = rows_from_file(name, data, encoding)
    try:
        header = [cell.strip().lower() for cell in next(rows)]
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None
    columns = {key: header.index(key) for key in COLUMNS if key in header}
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        raise ImportFileError(_(
            "Required columns are missing: %(columns)s. The first row must name the columns."
        ) % {"columns": ", ".join(missing)})
    raw = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw.append((number, {key: (row[i].strip() if i < len(row) else "")
                             for key, i in columns.items()}))
    if not raw:
        raise ImportFileError(_("The file has no data rows."))
    report = ImportReport(total=len(raw))
    customers = _customers_by_reference({values["customer"] for _n, values in raw})
    external_ids = [v["external_id"] for _n, v in raw if v.get("external_id")]
    known: dict[str, list] = {}  # external id -> [customer, amount, kind] recorded
    for start in range(0, len(external_ids), 500):
        known.update((e, rest) for e, *rest in Transaction.objects.filter(
            external_id__in=external_ids[start:start + 500]).values_list(
            "external_id", "customer_id", "amount", "kind"))
    refund_refs = {v["refund_of"] for _n, v in raw if v.get("refund_of")}
    earlier = {t.external_id: t for t in Transaction.objects.filter(external_id__in=list(
        refund_refs)[:50000])} if refund_refs else {}
    refunded = {t.pk: _refunded_so_far(t) for t in earlier.values()}
    in_file: dict[str, tuple[int, Transaction]] = {}
    records: list[Transaction] = []
    for number, values in raw:
        errors: list[str] = []
        customer = customers.get(values["customer"])
        if customer is None:
            errors.append(_("customer: no customer “%(ref)s”.") % {"ref": values["customer"]})
        try:
            amount = _decimal(values["amount"])
        except ValueError:
            amount = None
            errors.append(_("amount: “%(value)s” is not a number.") % {"value": values["amount"]})
        try:
            cost = _decimal(values.get("cost", ""))
        except ValueError:
            cost = None
            errors.append(_("cost: “%(value)s” is not a number.") % {"value": values["cost"]})
        occurred_at = _time(values["time"])
        if occurred_at is None:
            errors.append(_("time: “%(value)s” is not a date or time (YYYY-MM-DD HH:MM).") % {
                "value": values["time"]})
        kind = _KINDS.get((values.get("kind") or "purchase").lower())
        if kind is None:
            errors.append(_("kind: unknown value “%(value)s”.") % {"value": values["kind"]})
        external_id = values.get("external_id") or None
        if external_id in known:
            # The same file (or an overlapping export) imported again: already there.
            if not errors and customer is not None and known[external_id] == [
                    customer.pk, amount, kind]:
                report.unchanged += 1
                continue
            errors.append(_("external_id “%(id)s” is already recorded for another customer, "
                            "amount or kind.") % {"id": external_id})
        elif external_id in in_file:
            errors.append(_("external_id “%(id)s” already appears in row %(row)d.") % {
                "id": external_id, "row": in_file[external_id][0]})
        refund_of = None
        if values.get("refund_of"):
            ref = values["refund_of"]
            refund_of = in_file[ref][1] if ref in in_file else earlier.get(ref)
            if refund_of is None:
                errors.append(_("refund_of: no purchase “%(ref)s”.") % {"ref": ref})
        if not errors and customer is not None and amount is not None:
            key = id(refund_of) if refund_of is not None and refund_of.pk is None else (
                refund_of.pk if refund_of is not None else None)
            field_errors = _check(
                customer=customer, kind=kind, occurred_at=occurred_at, amount=amount,
                cost=cost, refund_of=refund_of, now=now,
                already_refunded=refunded.get(key, Decimal(0)) if refund_of else None)
            errors.extend(f"{field}: {message}" for field, message in field_errors.items())
            if not field_errors and refund_of is not None:
                refunded[key] = refunded.get(key, Decimal(0)) + amount
        if errors:
            report.rejected.append({"row": number, "errors": errors})
            continue
        record = Transaction(
            customer_id=customer.pk, kind=kind, occurred_at=occurred_at, amount=amount,
            currency=settings.KEHU_CURRENCY, cost=cost,
            product=values.get("product", "")[:200], category=values.get("category", "")[:100],
            channel=values.get("channel", "")[:50], external_id=external_id,
            refund_of=refund_of, created_by=actor,
        )
        if external_id:
            in_file[external_id] = (number, record)
        records.append(record)
    if report.rejected:
        return report
    with transaction.atomic():
        # Refunds of purchases in the same file need those purchases' ids first.
        purchases = [r for r in records if r.refund_of is None or r.refund_of.pk]
        later = [r for r in records if r.refund_of is not None and not r.refund_of.pk]
        for batch in (purchases, later):
            for record in batch:
                if record.refund_of is not None:
                    record.refund_of_id = record.refund_of.pk
            for start in range(0, len(batch), IMPORT_BATCH):
                Transaction.objects.bulk_create(batch[start:start + IMPORT_BATCH])
    report.created = len(records)
    report.written = True
    return report
