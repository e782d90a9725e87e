"""Import and export of customers and contacts as CSV or Excel.

Reading is strict: every row is validated, and by default one bad row rejects the
whole file (nothing is kept: the import writes in one transaction, committed only
once every row has passed), or bad rows are skipped when the user asks for that.
Rows with an external id are matched to what is already stored, so importing the
same file twice changes nothing.

Large files are the reason for the shape of the customer import: rows are checked in
worker processes (libphonenumber is most of the work) while this process writes the
rows already checked, with plain INSERTs rather than ORM objects.
"""

import csv
import gc
import io
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from itertools import chain, compress, islice
from pathlib import Path
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import HUEY

from kehu.customers import services
from kehu.customers.choices import (
    CommunicationStyle,
    CustomerKind,
    CustomerStatus,
    DecisionRole,
    LostReason,
)
from kehu.customers.models import (
    Address,
    Change,
    Contact,
    Customer,
    Email,
    Phone,
    SearchEntry,
    Tag,
)
from kehu.customers.phones import InvalidPhone, phone_parse
from kehu.customers.search import field_tokens, search_document
from kehu.customers.selectors import customer_live
from kehu.users.models import User

CHUNK = 2000
LIST_SEPARATORS = (";", "；", "\n")


class ImportFileError(ValueError):
    """The file as a whole cannot be read: nothing was imported."""


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)  # {"row": n, "errors": [...]}
    warnings: list[dict] = field(default_factory=list)  # {"row": n, "message": ...}
    written: bool = False

    def as_dict(self) -> dict:
        return self.__dict__.copy()


# ---------------------------------------------------------------- columns

@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...]
    max_length: int = 0


CUSTOMER_COLUMNS = (
    Column("external_id", ("外部编号", "外部ID"), 100),
    Column("number", ("客户编号",), 20),
    Column("kind", ("类型", "客户类型"), 0),
    Column("name", ("名称", "姓名", "客户名称"), 200),
    Column("salutation", ("称呼",), 100),
    Column("status", ("状态",), 0),
    Column("lost_reason", ("流失原因",), 0),
    Column("owner", ("客户经理",), 150),
    Column("birthday", ("生日",), 0),
    Column("industry", ("行业",), 100),
    Column("usual", ("常购",), 200),
    Column("preferences", ("偏好",), 5000),
    Column("needs", ("需求",), 5000),
    Column("tags", ("标签",), 500),
    Column("phones", ("电话", "手机"), 500),
    Column("emails", ("邮箱", "电子邮件"), 1000),
    Column("addresses", ("地址",), 1000),
)
CONTACT_COLUMNS = (
    Column("external_id", ("外部编号", "外部ID"), 100),
    Column("organisation", ("所属客户", "客户编号"), 100),
    Column("name", ("姓名", "名称"), 100),
    Column("salutation", ("称呼",), 100),
    Column("title", ("职务",), 100),
    Column("decision_role", ("决策角色",), 0),
    Column("style", ("沟通风格",), 0),
    Column("phones", ("电话", "手机"), 500),
    Column("emails", ("邮箱", "电子邮件"), 1000),
    Column("notes", ("备注",), 5000),
)
REQUIRED = {"customers": ("name",), "contacts": ("organisation", "name")}


def _choice_lookup(choices) -> dict[str, str]:
    """Accepts the stored value, the English label or the Chinese label of a choice."""
    from django.utils import translation

    lookup = {}
    for value, label in choices:
        lookup[str(value).lower()] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                lookup[str(label).lower()] = value
    return lookup


_EXTRA_KIND = {"个人": CustomerKind.INDIVIDUAL, "企业": CustomerKind.ORGANISATION,
               "集团": CustomerKind.ORGANISATION, "集团客户": CustomerKind.ORGANISATION,
               "个人客户": CustomerKind.INDIVIDUAL, "company": CustomerKind.ORGANISATION,
               "organization": CustomerKind.ORGANISATION}


# ---------------------------------------------------------------- reading

def decode(data: bytes, encoding: str = "") -> str:
    """UTF-8 (with or without BOM) or GBK/GB18030, the encoding of Chinese Excel's CSV."""
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if "\x00" in text:
            break
        return text
    raise ImportFileError(
        _("The file could not be read as text in UTF-8 or GBK/GB18030. Save it as CSV (UTF-8) "
          "or as an Excel workbook and try again.")
    )


def rows_from_csv(data: bytes, encoding: str = "") -> Iterator[list[str]]:
    text = decode(data, encoding)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file is malformed: %(error)s") % {"error": error}) from None


def rows_from_xlsx(data: bytes) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFileError(_("The file is not a readable Excel (.xlsx) workbook.")) from None
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield ["" if v is None else _cell_text(v) for v in row]
    workbook.close()


def _cell_text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rows_from_file(name: str, data: bytes, encoding: str = "") -> Iterator[list[str]]:
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return rows_from_xlsx(data)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return rows_from_csv(data, encoding)
    raise ImportFileError(_("Only CSV and Excel (.xlsx) files can be imported."))


def _header_map(header: list[str], columns: tuple[Column, ...], what: str) -> dict[str, int]:
    names = {}
    for column in columns:
        names[column.key] = column.key
        for alias in column.aliases:
            names[alias.lower()] = column.key
    mapping: dict[str, int] = {}
    for index, title in enumerate(header):
        key = names.get(title.strip().lower().lstrip("\ufeff"))
        if key and key not in mapping:
            mapping[key] = index
    missing = [c for c in REQUIRED[what] if c not in mapping]
    if missing:
        raise ImportFileError(
            _("Required columns are missing: %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(missing)}
        )
    return mapping


def _split(value: str) -> list[str]:
    if not value:
        return []
    if ";" not in value and "；" not in value and "\n" not in value:  # one item: most cells
        item = value.strip()
        return [item] if item else []
    for separator in LIST_SEPARATORS[1:]:
        value = value.replace(separator, LIST_SEPARATORS[0])
    return [part.strip() for part in value.split(LIST_SEPARATORS[0]) if part.strip()]


# ---------------------------------------------------------------- validation

# A customer row's own fields, in the order of CustomerRecord.values.
CUSTOMER_FIELDS = ("external_id", "kind", "name", "salutation", "status", "lost_reason",
                   "owner", "birthday", "industry", "usual", "preferences", "needs")


class CustomerRecord(NamedTuple):
    """A valid customer row that updates a stored customer (see CustomerChunk.record)."""

    row: int
    # CUSTOMER_FIELDS as stored: the owner as the user's id, the birthday as ISO text.
    values: tuple
    phones: tuple  # (e164, extension, label)
    emails: tuple
    addresses: tuple
    tags: tuple

    def fields(self, owners: dict[int, User]) -> dict:
        """The fields as services.customer_update takes them."""
        fields = dict(zip(CUSTOMER_FIELDS, self.values, strict=True))
        fields["owner"] = owners[fields["owner"]] if fields["owner"] else None
        if fields["birthday"]:
            fields["birthday"] = date.fromisoformat(fields["birthday"])
        return fields


_WIDTH = len(CUSTOMER_FIELDS)


class CustomerChunk:
    """A chunk of customer rows checked, as worker processes hand it back: its valid rows
    column by column, in plain lists of plain values. A million rows as records of their
    own (tuples in tuples, some 25 objects a row) cost the importing process more to
    unpickle than to write; a list of a chunk's phone numbers costs little more than the
    numbers. The i-th valid row is "record i"; the lists ending in `_of` say whose each
    phone, email, address or tag is."""

    def __init__(self):
        self.lines: list[int] = []  # every row's line in the file
        self.external_ids: list[str | None] = []  # every row's
        # Each bad row's position among the chunk's rows: (its errors, where an error for
        # an external id used twice goes among them: see _DuplicateIds).
        self.errors: dict[int, tuple[list[str], int]] = {}
        self.rows: list[int] = []  # the line of each record
        self.values: list = []  # CUSTOMER_FIELDS of each record as stored, one after another
        self.phone_of: list[int] = []
        self.phone_e164: list[str] = []
        self.phone_extension: list[str] = []
        self.phone_label: list[str] = []
        self.email_of: list[int] = []
        self.email_address: list[str] = []
        self.address_of: list[int] = []
        self.address_text: list[str] = []
        self.tag_of: list[int] = []
        self.tag_name: list[str] = []
        # The search tokens of the name and of what follows the customer number in the
        # search document (the number is handed out only when the row is written).
        self.name_tokens: list[str] = []
        self.other_tokens: list[str] = []
        # The customer number of an exported row: without an external id, it says which
        # stored customer the row updates, so export → edit → import changes in place.
        self.numbers: list[str] = []

    def __len__(self) -> int:
        return len(self.rows)

    def external_id(self, record: int) -> str | None:
        return self.values[record * _WIDTH]

    def record(self, record: int) -> CustomerRecord:
        def of(owners: list[int], values: list) -> tuple:
            return tuple(v for o, v in zip(owners, values, strict=True) if o == record)

        return CustomerRecord(
            row=self.rows[record],
            values=tuple(self.values[record * _WIDTH : (record + 1) * _WIDTH]),
            phones=tuple(zip(of(self.phone_of, self.phone_e164),
                             of(self.phone_of, self.phone_extension),
                             of(self.phone_of, self.phone_label), strict=True)),
            emails=of(self.email_of, self.email_address),
            addresses=of(self.address_of, self.address_text),
            tags=of(self.tag_of, self.tag_name),
        )

    def subset(self, records: list[int]) -> "CustomerChunk":
        """These records only (numbered from 0 again); the rows' errors stay behind."""
        kept = CustomerChunk()
        new = {old: index for index, old in enumerate(records)}
        for old in records:
            kept.rows.append(self.rows[old])
            kept.values += self.values[old * _WIDTH : (old + 1) * _WIDTH]
            kept.name_tokens.append(self.name_tokens[old])
            kept.other_tokens.append(self.other_tokens[old])
            kept.numbers.append(self.numbers[old])
        for owners, *columns in (
            ("phone_of", "phone_e164", "phone_extension", "phone_label"),
            ("email_of", "email_address"), ("address_of", "address_text"),
            ("tag_of", "tag_name"),
        ):
            for position, old in enumerate(getattr(self, owners)):
                if old in new:
                    getattr(kept, owners).append(new[old])
                    for column in columns:
                        getattr(kept, column).append(getattr(self, column)[position])
        return kept

    def accepted(self, duplicates: "_DuplicateIds", report: ImportReport) -> "CustomerChunk":
        """The chunk's valid records whose external id no earlier row had; every row
        counted in the report, the others with their errors."""
        if not self.errors and duplicates.all_new(self.lines, self.external_ids):
            report.total += len(self.lines)
            return self
        dropped = set()
        record = 0
        for position, (line, external_id) in enumerate(
                zip(self.lines, self.external_ids, strict=True)):
            bad = self.errors.get(position)
            errors, duplicate_at = bad if bad else ([], 0)
            kept = duplicates.check(line, external_id, bad is None, errors, duplicate_at)
            report.total += 1
            if errors:
                report.rejected.append({"row": line, "errors": errors})
            if bad is None:
                if not kept:
                    dropped.add(record)
                record += 1
        if not dropped:
            return self
        return self.subset([r for r in range(len(self)) if r not in dropped])


@dataclass
class ContactRecord:
    row: int
    organisation: str
    fields: dict
    phones: list
    emails: list[str]


class _Validator:
    """Checks rows a chunk at a time, and for large files in worker processes.

    So it reads nothing from the database (the active users come in as `owners`),
    and the one check that needs the rows before it, an external id used twice, is
    left to `_DuplicateIds` in the importing process: each check returns where that
    error goes among the row's errors.

    Each check runs down a column of the chunk rather than across a row: a million rows
    then cost one loop per column instead of a dictionary and a dozen calls per row. A
    row's errors still come in the order of the checks below.
    """

    def __init__(self, what: str, columns: dict[str, int], owners: dict[str, User]):
        self.what = what
        self.columns = columns  # column key -> its index in a row
        self.width = max(columns.values()) + 1
        self.kinds = _choice_lookup(CustomerKind.choices) | _EXTRA_KIND
        self.statuses = _choice_lookup(CustomerStatus.choices)
        self.reasons = _choice_lookup(LostReason.choices)
        self.roles = _choice_lookup(DecisionRole.choices)
        self.styles = _choice_lookup(CommunicationStyle.choices)
        self.owners = owners
        self.limits = {c.key: c.max_length for c in (
            CUSTOMER_COLUMNS if what == "customers" else CONTACT_COLUMNS) if c.max_length}

    def check_rows(self, rows: list[tuple[int, list[str]]]) -> "CustomerChunk | list[tuple]":
        """Customers: a CustomerChunk. Contacts: for each row (row number, external id,
        record or None, errors, where a duplicate-id error goes)."""
        values = _ChunkColumns(rows, self.columns, self.width)
        errors: list[list[str]] = [[] for _row in rows]
        phones, emails = self._common(values, errors)
        duplicate_at = [len(row_errors) for row_errors in errors]
        if self.what == "customers":
            return self._customers(rows, values, errors, phones, emails, duplicate_at)
        records = self._contacts(rows, values, errors, phones, emails)
        return [
            (line, external_id or None, None if row_errors else record, row_errors, at)
            for (line, _row), external_id, record, row_errors, at in zip(
                rows, values["external_id"], records, errors, duplicate_at, strict=True)
        ]

    @staticmethod
    def _chosen(lookup, column: list[str], label: str, errors: list[list[str]], default=""):
        chosen = []
        for row_errors, value in zip(errors, column, strict=True):
            if not value:
                chosen.append(default)
                continue
            found = lookup.get(value.lower())
            if found is None:
                row_errors.append(_("%(column)s: unknown value “%(value)s”.") % {
                    "column": label, "value": value})
                found = default
            chosen.append(found)
        return chosen

    def _common(self, values: "_ChunkColumns", errors: list[list[str]]):
        for key in self.columns:
            limit = self.limits.get(key)
            if not limit:
                continue
            column = values[key]
            if max(map(len, column), default=0) <= limit:
                continue
            for index, value in [(i, v) for i, v in enumerate(column) if len(v) > limit]:
                errors[index].append(
                    _("%(column)s: at most %(limit)d characters (this has %(n)d).") % {
                        "column": key, "limit": limit, "n": len(value)})
        for row_errors, name in zip(errors, values["name"], strict=True):
            if not name:
                row_errors.append(_("name: required."))
            elif "<" in name or ">" in name:
                row_errors.append(_("name: may not contain “<” or “>”."))
        phones = [_phones_read(text, row_errors) if text else []
                  for row_errors, text in zip(errors, values["phones"], strict=True)]
        emails = [_emails_read(text, row_errors) if text else []
                  for row_errors, text in zip(errors, values["emails"], strict=True)]
        return phones, emails

    def _customers(self, rows, values: "_ChunkColumns", errors: list[list[str]],
                   phones: list, emails: list, duplicate_at: list[int]) -> CustomerChunk:
        kinds = self._chosen(self.kinds, values["kind"], "kind", errors, CustomerKind.INDIVIDUAL)
        statuses = self._chosen(self.statuses, values["status"], "status", errors,
                                CustomerStatus.ACTIVE)
        reasons = self._chosen(self.reasons, values["lost_reason"], "lost_reason", errors)
        for index, (status, reason) in enumerate(zip(statuses, reasons, strict=True)):
            if status != CustomerStatus.LOST:
                reasons[index] = ""
            elif not reason:
                errors[index].append(_("lost_reason: required when the status is lost."))
        owners = []
        for row_errors, name in zip(errors, values["owner"], strict=True):
            owner = self.owners.get(name.lower()) if name else None
            if name and owner is None:
                row_errors.append(_("owner: no active user “%(name)s”.") % {"name": name})
            owners.append(owner.pk if owner else None)
        birthdays = []
        for row_errors, text in zip(errors, values["birthday"], strict=True):
            birthday = _iso_date(text) if text else None
            if text and birthday is None:
                row_errors.append(_("birthday: “%(value)s” is not a date (YYYY-MM-DD).") % {
                    "value": text})
            birthdays.append(birthday)
        tags = []
        for row_errors, text in zip(errors, values["tags"], strict=True):
            names = _split(text.replace(",", ";").replace("，", ";")) if text else []
            if any(len(t) > 50 or "<" in t or ">" in t for t in names):
                row_errors.append(_("tags: at most 50 characters each, without “<” or “>”."))
            tags.append(names)
        addresses = []
        for row_errors, text in zip(errors, values["addresses"], strict=True):
            texts = _split(text) if text else []
            if any(len(a) > 300 for a in texts):
                row_errors.append(_("addresses: at most 300 characters each."))
            addresses.append(texts)
        chunk = CustomerChunk()
        chunk.lines = [line for line, _row in rows]
        chunk.external_ids = [external_id or None for external_id in values["external_id"]]
        chunk.errors = {position: (row_errors, at) for position, (row_errors, at)
                        in enumerate(zip(errors, duplicate_at, strict=True)) if row_errors}
        # The valid rows' columns, as whole columns: a loop per row and field cost more
        # than checking it.
        valid = [position for position, row_errors in enumerate(errors) if not row_errors]

        def kept(column: list) -> list:
            return column if len(valid) == len(rows) else [column[i] for i in valid]

        def stored(choices: list) -> list[str]:  # choice members as their stored text
            text = {choice: str(choice) for choice in set(choices)}
            return kept([text[choice] for choice in choices])

        fields = {"external_id": kept(chunk.external_ids), "kind": stored(kinds),
                  "status": stored(statuses), "lost_reason": stored(reasons),
                  "owner": kept(owners), "birthday": kept(birthdays)}
        chunk.values = [None] * (len(valid) * _WIDTH)
        for position, name in enumerate(CUSTOMER_FIELDS):
            chunk.values[position::_WIDTH] = fields[name] if name in fields else kept(
                values[name])
        chunk.rows = kept(chunk.lines)
        valid_phones, valid_emails = kept(phones), kept(emails)
        for record, parsed in enumerate(valid_phones):
            for phone in parsed:
                chunk.phone_of.append(record)
                chunk.phone_e164.append(phone.e164)
                chunk.phone_extension.append(phone.extension)
                chunk.phone_label.append(str(services.phone_label(phone)))
        chunk.email_of, chunk.email_address = _flattened(valid_emails)
        chunk.address_of, chunk.address_text = _flattened(kept(addresses))
        chunk.tag_of, chunk.tag_name = _flattened(
            [list(dict.fromkeys(names)) if len(names) > 1 else names for names in kept(tags)])
        # search_document([name]): the name of a valid row is never empty.
        chunk.name_tokens = list(map(field_tokens, kept(values["name"])))
        chunk.other_tokens = [
            search_document([external_id or "", *(p.e164[1:] for p in parsed), *addresses])
            for external_id, parsed, addresses in zip(
                fields["external_id"], valid_phones, valid_emails, strict=True)]
        chunk.numbers = list(map(str.upper, kept(values["number"])))
        return chunk

    def _contacts(self, rows, values: "_ChunkColumns", errors: list[list[str]],
                  phones: list, emails: list) -> list[ContactRecord | None]:
        roles = self._chosen(self.roles, values["decision_role"], "decision_role", errors,
                             DecisionRole.OPERATIONAL)
        styles = self._chosen(self.styles, values["style"], "style", errors)
        for row_errors, organisation in zip(errors, values["organisation"], strict=True):
            if not organisation:
                row_errors.append(
                    _("organisation: required (its customer number or external id)."))
        records: list[ContactRecord | None] = []
        for index, (line, _row) in enumerate(rows):
            if errors[index]:
                records.append(None)
                continue
            records.append(ContactRecord(
                row=line, organisation=values["organisation"][index].strip(),
                fields={"external_id": values["external_id"][index] or None,
                        "name": values["name"][index],
                        "salutation": values["salutation"][index],
                        "title": values["title"][index], "decision_role": roles[index],
                        "style": styles[index], "notes": values["notes"][index]},
                phones=phones[index], emails=emails[index],
            ))
        return records


class _ChunkColumns:
    """The cells of a chunk of rows by column key: stripped, an export's formula guard
    taken off; a column the file does not have reads as empty cells."""

    def __init__(self, rows: list[tuple[int, list[str]]], columns: dict[str, int], width: int):
        cells = [row if len(row) >= width else row + [""] * (width - len(row))
                 for _line, row in rows]
        by_index = list(zip(*cells, strict=False))
        self.columns: dict[str, list[str]] = {}
        for key, index in columns.items():
            column = [cell.strip() for cell in by_index[index]] if by_index else []
            self.columns[key] = [_unguard(v) if v[:1] == "'" else v for v in column]
        self.blank = [""] * len(rows)

    def __getitem__(self, key: str) -> list[str]:
        return self.columns.get(key, self.blank)


def _flattened(lists: list[list]) -> tuple[list[int], list]:
    """Whose each item is (its list's place), and the items of the lists one after another."""
    return [owner for owner, items in enumerate(lists) for _item in items], list(
        chain.from_iterable(lists))


def _phones_read(text: str, errors: list[str]) -> list:
    phones = []
    for part in _split(text):
        try:
            phone = phone_parse(part)
        except InvalidPhone as error:
            errors.append(_("phones: %(error)s") % {"error": error})
        else:
            if phone not in phones:
                phones.append(phone)
    return phones


def _emails_read(text: str, errors: list[str]) -> list[str]:
    try:
        return services.emails_clean(_split(text))
    except Exception as error:  # ValidationError with per-address messages
        errors.extend(_("emails: %(error)s") % {"error": m}
                      for m in error.message_dict["emails"])
        return []


@lru_cache(maxsize=65536)  # birthdays repeat: some 20,000 days in sixty years
def _iso_date(text: str) -> str | None:
    try:
        return date.fromisoformat(text.replace("/", "-")).isoformat()
    except ValueError:
        return None


class _DuplicateIds:
    """An external id may appear once in a file: the first valid row with it counts."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def all_new(self, rows: list[int], external_ids: list[str | None]) -> bool:
        """Whether no id of these valid rows came before or comes twice; if so, all are
        remembered (a chunk's worth at once: check() takes them one by one)."""
        given = list(filter(None, external_ids))
        if len(set(given)) != len(given) or not self.seen.keys().isdisjoint(given):
            return False
        self.seen.update(zip(given, compress(rows, external_ids), strict=True))
        return True

    def check(self, row: int, external_id: str | None, valid: bool, errors: list[str],
              duplicate_at: int) -> bool:
        """Whether the row is still valid; if its id came before, the error is added."""
        if external_id in self.seen:
            errors.insert(duplicate_at, _("external_id “%(id)s” already appears in row %(row)d.")
                          % {"id": external_id, "row": self.seen[external_id]})
            return False
        if valid and external_id:
            self.seen[external_id] = row
        return valid


# Cells starting with these are formulas to a spreadsheet; exports quote them with "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _unguard(value: str) -> str:
    """Takes off the quote an export put before a formula-like cell."""
    return value[1:] if value[:1] == "'" and value[1:].startswith(FORMULA_STARTS) else value


# Files of at least this size (some 15,000 rows) are checked by worker processes while
# this one writes: libphonenumber alone reads some 30,000 numbers a second on one core.
# For smaller files, starting the workers costs more than they save.
PARALLEL_MIN_BYTES = 2_000_000
WORKERS = 2
WORKER_NICENESS = 10


class _ChunkReader:
    """A file's data rows read CHUNK records at a time, by the chunk's place in the file:
    (how many records it had, those not blank with their line numbers).

    Each worker process reads the file for itself, passing over the chunks the others
    check: parsing CSV costs less than handing rows over from another process, and the
    importing process, the one that writes, reads none of it. Chunks are asked for in
    file order; one asked for out of order starts the file again."""

    def __init__(self, open_rows: Callable[[], Iterator[list[str]]],
                 rows: Iterator[list[str]]):
        """`rows`: the file's rows after its header (a forked worker reads its own copy)."""
        self.open_rows = open_rows
        self.rows = rows
        self.position = 0  # records read after the header

    def read(self, index: int) -> tuple[int, list[tuple[int, list[str]]]]:
        start = index * CHUNK
        if start < self.position:
            self.rows = self.open_rows()
            next(self.rows, None)  # the header
            self.position = 0
        if start > self.position:
            deque(islice(self.rows, start - self.position), maxlen=0)
        records = list(islice(self.rows, CHUNK))
        self.position = start + len(records)
        return len(records), [
            (line, row) for line, row in enumerate(records, start=start + 2)
            if row and (row[0].strip() or "".join(row).strip())]  # not blank


# Chunks asked for ahead of the one being written, per worker process: enough that the
# workers never wait for the writer to ask, few enough that a large file is never held
# in memory whole.
AHEAD_PER_WORKER = 4


@contextmanager
def _checking(reader: _ChunkReader, validator: _Validator, *, parallel: bool):
    """The file's rows checked CHUNK records at a time, in file order, until it ends:
    (the chunk's number of records, blank ones included; its rows checked)."""
    workers = min(WORKERS, os.cpu_count() or 1)
    if not parallel or workers < 2 or not _can_fork():
        def check_here(index: int) -> Callable[[], tuple]:
            records, rows = reader.read(index)
            checked = validator.check_rows(rows)
            return lambda: (records, checked)

        yield _in_file_order(check_here, ahead=1)
        return
    # Forked workers start at once with this process's settings, translations, validator
    # and file, and never touch the database. (A spawned worker would import the
    # __main__ module again: a script without a main guard would import in a loop.)
    # A worker that dies makes the pool raise, rather than wait for it forever.
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_start,
        initargs=(validator, reader, translation.get_language()),
    )
    try:
        yield _in_file_order(lambda index: pool.submit(_check_in_worker, index).result,
                             ahead=AHEAD_PER_WORKER * workers)
    finally:
        pool.shutdown(cancel_futures=True)  # after an error, check no more chunks


def _in_file_order(check: Callable[[int], Callable[[], tuple]], *, ahead: int):
    """`check(index)` asks for a chunk and returns what waits for it; chunks follow one
    another until one is not full: the end of the file."""
    asked = deque(check(index) for index in range(ahead))
    following = ahead
    while asked:
        records, checked = asked.popleft()()
        if records == CHUNK:
            asked.append(check(following))
            following += 1
        if records:
            yield records, checked


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


_worker_validator: _Validator | None = None
_worker_reader: _ChunkReader | None = None


def _worker_start(validator: _Validator, reader: _ChunkReader, language: str) -> None:
    global _worker_validator, _worker_reader
    _worker_validator, _worker_reader = validator, reader
    translation.activate(language)  # messages in the importing user's language
    # The importing process, which alone writes, is the import's critical path: with
    # three processes on two cores it shared one with a worker, at half speed, while the
    # workers ran ahead. Niced, they use what it leaves, and they are four chunks ahead
    # at most.
    os.nice(WORKER_NICENESS)


def _check_in_worker(index: int) -> tuple:
    records, rows = _worker_reader.read(index)
    return records, _worker_validator.check_rows(rows)


@contextmanager
def _large_import_pragmas(*, large: bool):
    """SQLite settings of the importing connection while it imports a large file.

    - A larger page cache: a large import writes to pages all over the indexes of phone
      numbers, emails and search tokens, and a server connection's cache (64 MB) holds a
      small part of those of a million customers; every miss is a read and a write more.
    - No automatic checkpoint in its commit: SQLite's own, kehu.db's safety net, would
      copy the gigabytes of WAL a large import wrote back into the database inside the
      commit (5 s of a million rows' 57), before the import could say it is done. The
      checkpoint thread of kehu.db copies them right after, PASSIVE, in the background.
    """
    if not large or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (cache_size,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint")
        (autocheckpoint,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")  # KiB: 256 MiB
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")


# What a first load into an empty archive builds once at the end rather than row by row:
# the indexes whose keys come in no order (phone numbers, email addresses), where each
# row's entry lands on a page of its own. The others stay: their keys grow with the
# import (a customer's id, the time) or take a few values (an owner, a tag), so each
# entry lands on a page just written; kept up in the loop, they are written while the
# workers check, both cores busy, rather than after them on one. (The unique indexes
# stay too: they are constraints, and the import looks up numbers by them.)
_DEFERRED_INDEXES = {"customers_phone": "e164", "customers_email": "address"}
_SEARCH_INDEX_TRIGGER = "customers_searchentry_ai"


class _SearchIndexFeed:
    """During a large import, the search index is fed the entries written since the last
    call, after each chunk, instead of by its insert trigger, a statement per row. On a
    first load it replaces one 'rebuild' at the end, which took a fifth of the import's
    time on one core while the other was idle.

    The update trigger stays, for entries changed after they were fed (stored customers'
    ones). None is changed between its insert and its feed: a chunk updates the stored
    customers it names before it inserts its new ones, so whatever a later chunk
    updates was fed already."""

    def __init__(self):
        self.fed_through = self._last()  # the last search entry id in the index

    @staticmethod
    def _last() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM customers_searchentry")
            return cursor.fetchone()[0] or 0

    def feed(self) -> None:
        last = self._last()
        if last <= self.fed_through:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customers_searchentry_fts(rowid, document)"
                " SELECT id, document FROM customers_searchentry WHERE id > %s AND id <= %s",
                [self.fed_through, last])
        self.fed_through = last


@contextmanager
def _indexes_deferred(*, large: bool):
    """On SQLite, a large import's transaction drops the search index's insert trigger and
    feeds the index a chunk at a time (_SearchIndexFeed). On a first load of a large file
    into an empty archive (the day a service team moves to kehu), it also drops the
    indexes of _DEFERRED_INDEXES: one sort per index at the end instead of a million
    inserts at random places. Any customer already stored keeps them: searches and
    updates need them. Both are made again before the commit: another connection never
    sees them missing, and an import that fails rolls back to the archive as it was.

    Yields (the feed, or None; whether it is a first load: the import then remembers the
    phones and emails it wrote rather than ask their dropped indexes, see _Holders)."""
    if not large or connection.vendor != "sqlite":
        yield None, False
        return
    first_load = not Customer.objects.exists()
    with connection.cursor() as cursor:
        indexes = []
        if first_load:
            first_columns = " OR ".join(
                ["(m.tbl_name = %s AND i.name = %s)"] * len(_DEFERRED_INDEXES))
            cursor.execute(
                "SELECT m.name, m.sql FROM sqlite_master m, pragma_index_info(m.name) i"
                " WHERE m.type = 'index' AND m.sql NOT LIKE 'CREATE UNIQUE%%'"
                f" AND i.seqno = 0 AND ({first_columns})",
                [value for pair in _DEFERRED_INDEXES.items() for value in pair])
            indexes = cursor.fetchall()
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                       [_SEARCH_INDEX_TRIGGER])
        (trigger,) = cursor.fetchone()
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cursor.execute(f"DROP TRIGGER {_SEARCH_INDEX_TRIGGER}")
    search_index = _SearchIndexFeed()
    yield search_index, first_load
    search_index.feed()
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
        cursor.execute(trigger)


@contextmanager
def _gc_paused():
    """Python's cycle collector would walk the growing heap of rows and records again and
    again (over a tenth of the import's CPU time); reference counting frees what the
    import drops.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------- writing

def _follow_merges(customers: dict) -> dict:
    return {key: customer_live(c) for key, c in customers.items()}


def _customer_differs(existing: Customer, record: CustomerRecord,
                      owners: dict[int, User]) -> bool:
    for key, value in record.fields(owners).items():
        if key == "external_id":
            continue  # the key it was found by (a merged duplicate's, for a survivor)
        if key == "owner":
            if existing.owner_id != (value.pk if value else None):
                return True
        elif getattr(existing, key) != value:
            return True
    own_phones = sorted((p.e164, p.extension) for p in existing.phones.all() if not p.contact_id)
    own_emails = sorted(e.address for e in existing.emails.all() if not e.contact_id)
    return (
        own_phones != sorted((e164, extension) for e164, extension, _label in record.phones)
        or own_emails != sorted(record.emails)
        or [a.text for a in existing.addresses.all()] != list(record.addresses)
        or sorted(t.name for t in existing.tags.all()) != sorted(set(record.tags))
    )


def _write_customers(chunk: CustomerChunk, *, actor, report: ImportReport,
                     source: str, tag_ids: dict[str, int], users: dict[int, User],
                     holders: "_Holders") -> None:
    """One chunk of valid rows: new customers inserted, known ones updated if they differ."""
    external_ids = chunk.values[0::_WIDTH]
    # Most rows of a large file are new: ask which ids are known before loading those.
    # On a first load none is: the archive was empty, and a file's repeated id is refused.
    known = [] if holders.remembered else [row[0] for row in _select_in(
        "SELECT external_id FROM customers_customer WHERE external_id IN ({})",
        [external_id for external_id in external_ids if external_id])]
    existing = _follow_merges(
        Customer.objects.filter(external_id__in=known)
        .prefetch_related("phones", "emails", "addresses", "tags").in_bulk(
            field_name="external_id")
    ) if known else {}
    numbers = [number for number, external_id in zip(chunk.numbers, external_ids, strict=True)
               if number and not external_id]
    by_number = _follow_merges(
        Customer.objects.filter(number__in=numbers)
        .prefetch_related("phones", "emails", "addresses", "tags").in_bulk(field_name="number")
    ) if numbers else {}
    new = chunk
    if existing or numbers:
        new_records = []
        for index, (external_id, number) in enumerate(
                zip(external_ids, chunk.numbers, strict=True)):
            current = existing.get(external_id) or (
                by_number.get(number) if not external_id else None)
            if current is None:
                if number and not external_id:
                    report.warnings.append({"row": chunk.rows[index], "message": _(
                        "No customer has the number %(number)s: the row was added as a new "
                        "customer.") % {"number": number}})
                new_records.append(index)
                continue
            record = chunk.record(index)
            if _customer_differs(current, record, users):
                fields = {k: v for k, v in record.fields(users).items() if k != "external_id"}
                services.customer_update(
                    actor=actor, customer=current, **fields,
                    phones=[e164 + (f" ext. {extension}" if extension else "")
                            for e164, extension, _label in record.phones],
                    emails=record.emails, addresses=record.addresses, tags=record.tags,
                )
                report.updated += 1
            else:
                report.unchanged += 1
        new = chunk.subset(new_records)
    if len(new):
        _warn_duplicates(new, report, holders)
        numbers = _insert_customers(new, actor=actor, source=source, tag_ids=tag_ids)
        holders.remember(new, numbers)
        report.created += len(new)


class _Holders:
    """Which customers already have some phone numbers or emails, in the order the phones
    and emails were stored (as Phone.Meta and Email.Meta order): asked of the database,
    or, on a first load (whose indexes of phones and emails are only built at the end),
    remembered from the import's earlier chunks, all the archive holds."""

    def __init__(self, *, remembered: bool):
        self.remembered = remembered
        # Remembered: each value's first holder (order, customer number), and the later
        # ones of the few values held by more than one customer.
        self._first: dict[str, dict[str, tuple[int, str]]] = {"phone": {}, "email": {}}
        self._later: dict[str, dict[str, list[tuple[int, str]]]] = {"phone": {}, "email": {}}
        self._order = 0

    def found(self, kind: str, values: list[str]) -> list[tuple[int, str, str]]:
        """(order, value, customer number) for each stored one of `values`, in order."""
        if self.remembered:
            first, later = self._first[kind], self._later[kind]
            return sorted((order, value, number) for value in first.keys() & values
                          for order, number in (first[value], *later.get(value, ())))
        return sorted(_select_in({
            "phone": "SELECT p.id, p.e164, c.number FROM customers_phone p"
                     " JOIN customers_customer c ON c.id = p.customer_id"
                     " WHERE p.e164 IN ({})",
            "email": "SELECT e.id, e.address, c.number FROM customers_email e"
                     " JOIN customers_customer c ON c.id = e.customer_id"
                     " WHERE e.address IN ({})",
        }[kind], values))

    def remember(self, chunk: CustomerChunk, numbers: list[str]) -> None:
        """The phones and emails of customers just stored, with their numbers."""
        if not self.remembered:
            return
        for kind, owners, values in (("phone", chunk.phone_of, chunk.phone_e164),
                                     ("email", chunk.email_of, chunk.email_address)):
            first, later = self._first[kind], self._later[kind]
            holders = list(zip(range(self._order + 1, self._order + 1 + len(values)),
                               map(numbers.__getitem__, owners), strict=True))
            self._order += len(values)
            fresh = dict(zip(values, holders, strict=True))
            if len(fresh) == len(values) and first.keys().isdisjoint(fresh):
                first.update(fresh)  # as nearly always: each value new, and once
                continue
            for value, holder in zip(values, holders, strict=True):
                if value in first:
                    later.setdefault(value, []).append(holder)
                else:
                    first[value] = holder


def _warn_duplicates(chunk: CustomerChunk, report: ImportReport, holders: _Holders) -> None:
    # A value a chunk has twice counts as its last row's.
    by_phone = dict(zip(chunk.phone_e164, [chunk.rows[r] for r in chunk.phone_of],
                        strict=True))
    by_email = dict(zip(chunk.email_address, [chunk.rows[r] for r in chunk.email_of],
                        strict=True))
    for _order, e164, number in holders.found("phone", list(by_phone)):
        report.warnings.append({"row": by_phone[e164], "message": _(
            "Phone %(phone)s already belongs to %(number)s: a possible duplicate to merge.")
            % {"phone": e164, "number": number}})
    for _order, address, number in holders.found("email", list(by_email)):
        report.warnings.append({"row": by_email[address], "message": _(
            "Email %(email)s already belongs to %(number)s: a possible duplicate to merge.")
            % {"email": address, "number": number}})


def _select_in(sql: str, values: list) -> list[tuple]:
    """The rows of `sql`, whose "IN ({})" takes `values` (500 at a time).

    The ORM's __in prepares every value through the field: for the few thousand
    values of each chunk that took longer than the query.
    """
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), 500):
            batch = values[start : start + 500]
            cursor.execute(sql.format(", ".join(["%s"] * len(batch))), batch)
            rows.extend(cursor.fetchall())
    return rows


def _insert(model, columns: dict[str, Sequence], *, now) -> None:
    """Inserts rows given column by column: each named field's database values.

    Model instances and bulk_create cost several times what the database spends on a
    row, and these rows need no ids back. The model's other columns get their defaults
    (auto_now ones `now`). On SQLite, many rows to a statement: each statement's run has
    a fixed cost (AUTOINCREMENT's counter, FTS5's flush of its index) that executemany
    pays per row. PostgreSQL takes them all in one COPY: INSERTs, even pipelined, are
    parsed, planned and run one by one by the server.
    """
    count = len(next(iter(columns.values())))
    if not count:
        return
    given = [model._meta.get_field(name) for name in columns]
    others = [f for f in model._meta.concrete_fields if not f.primary_key and f not in given]
    fixed = [
        f.get_db_prep_save(
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default(), connection)
        for f in others
    ]
    quote = connection.ops.quote_name
    into = (f"{quote(model._meta.db_table)}"
            f" ({', '.join(quote(f.column) for f in given + others)})")
    connection.ensure_connection()
    if connection.vendor != "sqlite":
        with connection.connection.cursor() as cursor, \
                cursor.copy(f"COPY {into} FROM STDIN") as copy:
            for row in zip(*columns.values(), *[[value] * count for value in fixed],
                           strict=True):
                copy.write_row(row)
        return
    # The driver's own cursor and its "?" placeholders: Django's would rewrite every
    # "%s" of a statement of thousands with a regular expression, each time.
    sql = f"INSERT INTO {into} VALUES "
    width = len(given) + len(others)
    placeholders = "(" + ", ".join(["?"] * width) + ")"
    size = min(ROWS_PER_STATEMENT, _sqlite_variables() // width)
    cursor = connection.connection.cursor()
    try:
        for start in range(0, count, size):
            rows = min(size, count - start)
            # The values row after row, laid in a column at a time (a slice each).
            values = [None] * (rows * width)
            for position, column in enumerate(columns.values()):
                values[position::width] = column[start : start + rows]
            for position, value in enumerate(fixed, start=len(given)):
                values[position::width] = [value] * rows
            cursor.execute(sql + ", ".join([placeholders] * rows), values)
    finally:
        cursor.close()


ROWS_PER_STATEMENT = 500


def _sqlite_variables() -> int:
    """How many parameters one statement may have (Django assumes SQLite's old 999)."""
    import sqlite3

    connection.ensure_connection()
    return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def _customer_ids(numbers: list[str]) -> list[int]:
    """Ids of just-inserted customers, by their numbers (unique, and reserved for them)."""
    if connection.vendor == "sqlite":
        # One statement inserted them one after another, each taking the next rowid, and
        # nothing else writes while the import holds the write lock: the ids end at the
        # last one inserted. The first and the last are checked against their numbers.
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
            first = last - len(numbers) + 1
            cursor.execute("SELECT id, number FROM customers_customer WHERE id IN (%s, %s)",
                           [first, last])
            if sorted(cursor.fetchall()) == sorted({(first, numbers[0]), (last, numbers[-1])}):
                return list(range(first, last + 1))
    ids = dict(_select_in(
        "SELECT number, id FROM customers_customer WHERE number IN ({})", numbers))
    return [ids[number] for number in numbers]


def _insert_customers(chunk: CustomerChunk, *, actor, source: str,
                      tag_ids: dict[str, int]) -> list[str]:
    """New customers with their phones, emails, addresses, tags, history and search entry;
    returns their numbers.

    The same rows services.customer_create would write, without an ORM object each.
    """
    numbers = services.customer_numbers_reserve(count=len(chunk))
    now = timezone.now()
    customers = {"number": numbers} | {
        name: chunk.values[position::_WIDTH] for position, name in enumerate(CUSTOMER_FIELDS)}
    if connection.vendor != "sqlite":  # SQLite takes the ISO text of the birthday as it is
        as_date = connection.ops.adapt_datefield_value
        customers["birthday"] = [as_date(date.fromisoformat(text)) if text else None
                                 for text in customers["birthday"]]
    _insert(Customer, customers, now=now)
    if connection.vendor == "sqlite":  # JSON text, as json.dumps would write it
        head = '{"file": ' + json.dumps(source) + ', "row": '
        history = [f"{head}{row}}}" for row in chunk.rows]
    else:
        change_fields = Change._meta.get_field("fields")
        history = [connection.ops.adapt_json_value({"file": source, "row": row},
                                                   change_fields.encoder) for row in chunk.rows]
    ids = _customer_ids(numbers)
    # search_document([name, number, external id, phones, emails]), in three parts.
    documents = [" ".join(filter(None, parts)) for parts in zip(
        chunk.name_tokens, map(field_tokens, numbers), chunk.other_tokens, strict=True)]
    for name in dict.fromkeys(chunk.tag_name):
        if name not in tag_ids:  # perhaps made since, by a stored customer's update
            tag_ids[name] = Tag.objects.get_or_create(name=name)[0].pk
    _insert(Phone, {"customer": [ids[r] for r in chunk.phone_of], "e164": chunk.phone_e164,
                    "extension": chunk.phone_extension, "label": chunk.phone_label}, now=now)
    _insert(Email, {"customer": [ids[r] for r in chunk.email_of],
                    "address": chunk.email_address}, now=now)
    _insert(Address, {"customer": [ids[r] for r in chunk.address_of],
                      "text": chunk.address_text}, now=now)
    _insert(Change, {"customer": ids, "actor": [actor.pk if actor else None] * len(ids),
                     "action": ["imported"] * len(ids), "fields": history}, now=now)
    _insert(SearchEntry, {"customer": ids, "document": documents}, now=now)
    _insert(Customer.tags.through, {"customer": [ids[r] for r in chunk.tag_of],
                                    "tag": [tag_ids[name] for name in chunk.tag_name]}, now=now)
    return numbers


def _write_contacts(records: list[ContactRecord], *, actor, report: ImportReport,
                    source: str, progress: Callable[[int], None]) -> None:
    refs = {r.organisation for r in records}
    organisations = {c.number: c for c in Customer.objects.filter(number__in=refs)}
    organisations |= {c.external_id: c for c in Customer.objects.filter(external_id__in=refs)}
    organisations = _follow_merges(organisations)
    existing = Contact.objects.filter(
        external_id__in=[r.fields["external_id"] for r in records if r.fields["external_id"]]
    ).prefetch_related("phones", "emails").in_bulk(field_name="external_id")
    touched = set()
    for done, record in enumerate(records, start=1):
        organisation = organisations.get(record.organisation)
        if organisation is None or organisation.kind != CustomerKind.ORGANISATION:
            report.rejected.append({"row": record.row, "errors": [
                _("organisation: no organisation customer “%(ref)s”.") % {
                    "ref": record.organisation}]})
            continue
        phones = [p.e164 + (f" ext. {p.extension}" if p.extension else "") for p in record.phones]
        current = existing.get(record.fields["external_id"])
        if current is None:
            services.contact_create(actor=actor, organisation=organisation,
                                    phones=phones, emails=record.emails, **record.fields)
            report.created += 1
        elif (any(getattr(current, k) != v for k, v in record.fields.items())
              or sorted((p.e164, p.extension) for p in current.phones.all())
              != sorted((p.e164, p.extension) for p in record.phones)
              or sorted(e.address for e in current.emails.all()) != sorted(record.emails)):
            services.contact_update(actor=actor, contact=current, phones=phones,
                                    emails=record.emails, **record.fields)
            report.updated += 1
        else:
            report.unchanged += 1
        touched.add(organisation.pk)
        if done % 500 == 0:
            progress(done)
    progress(len(records))


class _Rollback(Exception):
    pass


def import_file(
    *, name: str, data: bytes, what: str = "customers", actor: User | None = None,
    skip_invalid: bool = False, encoding: str = "",
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ImportReport:
    """Checks every row and writes in one transaction; with a bad row, nothing is kept.

    Customers are written chunk by chunk while later rows are still being checked (by
    worker processes, for a large file): the transaction is only committed once every
    row has passed, so the outcome is that of checking first. After a bad row nothing
    more is written, but checking goes on, to report every bad row.
    """
    if what not in REQUIRED:
        raise ImportFileError(_("Unknown import kind."))
    report = ImportReport()
    with _gc_paused():
        rows = rows_from_file(name, data, encoding)
        try:
            header = next(rows)
        except StopIteration:
            raise ImportFileError(_("The file is empty.")) from None
        columns = _header_map(
            header, CUSTOMER_COLUMNS if what == "customers" else CONTACT_COLUMNS, what)
        owners = {u.username.lower(): u for u in User.objects.filter(is_active=True)}
        validator = _Validator(what, columns, owners)
        reader = _ChunkReader(lambda: rows_from_file(name, data, encoding), rows)
        large = len(data) >= PARALLEL_MIN_BYTES
        with _checking(reader, validator, parallel=large) as checked:
            if what == "contacts":
                return _import_contacts(checked, actor=actor, report=report, source=name,
                                        skip_invalid=skip_invalid, progress=progress)
            try:
                with _large_import_pragmas(large=large), transaction.atomic(), \
                        _indexes_deferred(large=large) as (search_index, first_load):
                    _import_customers(checked, total=_rows_estimate(name, data), actor=actor,
                                      report=report, source=name, skip_invalid=skip_invalid,
                                      search_index=search_index,
                                      holders=_Holders(remembered=first_load),
                                      progress=progress)
                    if report.rejected and not skip_invalid:
                        raise _Rollback
            except _Rollback:
                report.created = report.updated = report.unchanged = 0
                report.warnings = []
                return report
    report.written = True
    return report


def _accepted(checked: list[tuple], duplicates: _DuplicateIds, report: ImportReport) -> list:
    records = []
    for row, external_id, record, errors, duplicate_at in checked:
        valid = duplicates.check(row, external_id, record is not None, errors, duplicate_at)
        report.total += 1
        if errors:
            report.rejected.append({"row": row, "errors": errors})
        elif valid:
            records.append(record)
    return records


def _import_customers(checked: Iterator[tuple[int, CustomerChunk]], *, total: int, actor,
                      report: ImportReport, source: str, skip_invalid: bool,
                      search_index: _SearchIndexFeed | None, holders: _Holders,
                      progress: Callable[[int, int], None]) -> None:
    """`total`: about how many rows there are, for progress. `search_index`: for a large
    file, the feed of the search index (see _indexes_deferred)."""
    duplicates = _DuplicateIds()
    tag_ids = {t.name: t.pk for t in Tag.objects.all()}
    users = {u.pk: u for u in User.objects.all()}
    done = 0
    for records, chunk in checked:
        valid = chunk.accepted(duplicates, report)
        done += records
        if report.rejected and not skip_invalid:
            continue  # nothing will be kept; go on checking, to report every bad row
        if len(valid):
            _write_customers(valid, actor=actor, report=report, source=source,
                             tag_ids=tag_ids, users=users, holders=holders)
            if search_index:
                search_index.feed()
        progress(done, max(total, done))
    if not report.total:
        raise ImportFileError(_("The file has no data rows."))
    progress(done, done)  # the file is read: its size is known, no longer estimated


def _rows_estimate(name: str, data: bytes) -> int:
    """About how many data rows a file has, before it is read: its lines less the header
    (a quoted cell may hold line breaks), or the size an Excel sheet states."""
    if Path(name).suffix.lower() not in (".xlsx", ".xlsm"):
        return data.count(b"\n") + (not data.endswith(b"\n")) - 1
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = (workbook.worksheets[0].max_row or 1) - 1
    workbook.close()
    return rows


def _import_contacts(checked: Iterator[list[tuple]], *, actor, report: ImportReport,
                     source: str, skip_invalid: bool,
                     progress: Callable[[int, int], None]) -> ImportReport:
    """Contacts are checked first and written one by one through services."""
    duplicates = _DuplicateIds()
    records = [record for _records, chunk in checked
               for record in _accepted(chunk, duplicates, report)]
    if not report.total:
        raise ImportFileError(_("The file has no data rows."))
    if report.rejected and not skip_invalid:
        return report
    try:
        with transaction.atomic():
            _write_contacts(records, actor=actor, report=report, source=source,
                            progress=lambda done: progress(done, len(records)))
            if report.rejected and not skip_invalid:
                raise _Rollback
    except _Rollback:
        report.created = report.updated = report.unchanged = 0
        return report
    report.written = True
    return report


# ---------------------------------------------------------------- export

EXPORT_HEADER = [c.key for c in CUSTOMER_COLUMNS]
CONTACT_EXPORT_HEADER = [c.key for c in CONTACT_COLUMNS]


def _safe(value) -> str:
    """Spreadsheet formula injection guard: a cell a spreadsheet could run is quoted.

    Any cell starting with =, +, -, @, tab or CR, digits after it or not
    ("-2+3+cmd|' /C calc'!A0" runs); imports take the quote off again (`_unguard`).
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_rows(what: str = "customers") -> Iterator[list[str]]:
    if what == "contacts":
        yield CONTACT_EXPORT_HEADER
        contacts = Contact.objects.select_related("organisation").prefetch_related(
            "phones", "emails").order_by("id")
        for c in contacts.iterator(chunk_size=CHUNK):
            yield [_safe(v) for v in (
                c.external_id or "", c.organisation.number, c.name, c.salutation, c.title,
                c.decision_role, c.style, "; ".join(p.display for p in c.phones.all()),
                "; ".join(e.address for e in c.emails.all()), c.notes)]
        return
    yield EXPORT_HEADER
    customers = (
        Customer.objects.filter(merged_into=None).select_related("owner")
        .prefetch_related("phones", "emails", "addresses", "tags").order_by("id")
    )
    for c in customers.iterator(chunk_size=CHUNK):
        yield [_safe(v) for v in (
            c.external_id or "", c.number, c.kind, c.name, c.salutation, c.status,
            c.lost_reason, c.owner.username if c.owner else "",
            c.birthday.isoformat() if c.birthday else "", c.industry, c.usual, c.preferences,
            c.needs, "; ".join(t.name for t in c.tags.all()),
            "; ".join(p.display for p in c.phones.all() if not p.contact_id),
            "; ".join(e.address for e in c.emails.all() if not e.contact_id),
            "; ".join(a.text for a in c.addresses.all()))]


def export_csv(stream, *, what: str = "customers", encoding: str = "utf-8-sig") -> None:
    """UTF-8 with a BOM opens correctly in Chinese Excel; gb18030 is there for older tools."""
    wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="", write_through=True)
    writer = csv.writer(wrapper)
    for row in export_rows(what):
        writer.writerow(row)
    wrapper.detach()


def export_xlsx(stream, *, what: str = "customers") -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(what)
    for row in export_rows(what):
        sheet.append(row)
    workbook.save(stream)


def job_progress_key(job_id: int) -> str:
    return f"kehu-import-progress-{job_id}"


def job_progress(job) -> tuple[int, int]:
    if job.status != job.Status.RUNNING:
        return job.processed, job.total
    return HUEY.get(job_progress_key(job.pk), peek=True) or (0, 0)


def job_run(job_id: int) -> None:
    """Runs a web-uploaded import, recording progress on the job for the page to show."""
    from kehu.customers.models import ImportJob

    job = ImportJob.objects.get(pk=job_id)
    job.status = ImportJob.Status.RUNNING
    job.save(update_fields=["status"])

    def progress(done: int, total: int) -> None:
        # The import's transaction hides its own writes until it ends, so progress goes
        # to the task queue's storage, which every server process can read.
        HUEY.put(job_progress_key(job_id), (done, total))

    try:
        report = import_file(
            name=job.file_name, data=Path(job.stored_path).read_bytes(), what=job.what,
            actor=job.created_by, skip_invalid=job.skip_invalid, encoding=job.encoding,
            progress=progress,
        )
    except ImportFileError as error:
        job.status, job.report = ImportJob.Status.REJECTED, {"error": str(error)}
    except Exception as error:  # recorded for the user; the transaction rolled back
        job.status, job.report = ImportJob.Status.FAILED, {"error": repr(error)}
    else:
        job.status = ImportJob.Status.DONE if report.written else ImportJob.Status.REJECTED
        job.report = report.as_dict()
        job.total = report.total
        job.processed = report.total
    job.finished_at = timezone.now()
    job.save()
    Path(job.stored_path).unlink(missing_ok=True)
