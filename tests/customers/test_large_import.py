"""A large file: rows checked by worker processes and, on a first load into an empty archive
(SQLite), the indexes built once at the end. The result must be the row-by-row one."""

import csv
import io

import pytest
from django.db import connection

from kehu.customers import services, transfer
from kehu.customers.models import Customer, Phone, SearchEntry
from kehu.customers.selectors import customer_search

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's first-load path"),
]

SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = "伟芳娜敏静丽强磊军洋"


def large_file(rows: int = 300, *, bad_row: int | None = None,
               again: dict[int, int] | None = None) -> bytes:
    """`again`: rows (key) with the phones and email of an earlier row (value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["external_id", "name", "tags", "phones", "emails", "addresses"])
    for i in range(rows):
        j = (again or {}).get(i, i)
        name = SURNAMES[i % 10] + GIVEN[i // 10 % 10] + GIVEN[i // 100 % 10]
        writer.writerow([
            f"L-{i}", name, f"批量;组{i % 7}",
            "12345" if i == bad_row else f"138 {j:04d} 8000; (021) 6234-{j:04d}",
            f"u{j}@example.com", f"上海市{i}号",
        ])
    return buffer.getvalue().encode()


@pytest.fixture
def large(monkeypatch):
    """Every file counts as large; small chunks, so that several go through the workers."""
    monkeypatch.setattr(transfer, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(transfer, "CHUNK", 40)


def schema() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
            " AND tbl_name LIKE 'customers%' ORDER BY name")
        return cursor.fetchall()


def statements(run) -> list[str]:
    executed = []

    def record(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return executed


def assert_search_index_sound():
    with connection.cursor() as cursor:  # FTS5 compares its index with the documents
        cursor.execute("INSERT INTO customers_searchentry_fts(customers_searchentry_fts, rank)"
                       " VALUES ('integrity-check', 1)")


def test_a_first_large_load_builds_the_indexes_once_and_finds_everyone(large, agent):
    before = schema()
    executed = statements(lambda: transfer.import_file(name="big.csv", data=large_file()))
    assert any(sql.startswith("DROP INDEX") for sql in executed)  # the first-load way ran
    assert Customer.objects.count() == SearchEntry.objects.count() == 300
    assert Phone.objects.count() == 600
    assert schema() == before
    assert_search_index_sound()
    for i in (0, 157, 299):
        customer = Customer.objects.get(external_id=f"L-{i}")
        assert [h.customer.pk for h in customer_search(query=f"{customer.name} L-{i}").hits] \
            == [customer.pk]
        assert customer_search(query=f"021 6234 {i:04d}").hits[0].customer == customer
        assert customer_search(query=customer.number).hits[0].customer == customer
    assert {h.customer.name for h in customer_search(query="王伟").hits} == {
        "王伟伟", "王伟芳", "王伟娜"}
    # The search index follows later changes again.
    later = services.customer_create(actor=agent, kind="individual", name="欧阳修")
    assert customer_search(query="阳修").hits[0].customer == later
    assert_search_index_sound()


@pytest.mark.parametrize("stored_before", [False, True])
def test_a_large_import_feeds_the_search_index_chunk_by_chunk(large, agent, stored_before):
    if stored_before:  # not a first load: the other indexes stay, the feed is the same
        services.customer_create(actor=agent, kind="individual", name="欧阳修")
    indexed = []

    def progress(done, total):  # called after each chunk is written
        with connection.cursor() as cursor:  # every external id "L-…" has the word "l"
            cursor.execute("SELECT count(*) FROM customers_searchentry_fts"
                           " WHERE customers_searchentry_fts MATCH 'l'")
            indexed.append((done, cursor.fetchone()[0]))

    transfer.import_file(name="big.csv", data=large_file(), progress=progress)
    assert [done for done, _count in indexed[:3]] == [40, 80, 120]
    assert all(count == done for done, count in indexed), indexed
    assert_search_index_sound()


def test_a_failed_first_large_load_leaves_the_archive_and_its_indexes(large, agent):
    before = schema()
    report = transfer.import_file(name="big.csv", data=large_file(bad_row=250))
    assert not report.written and [r["row"] for r in report.rejected] == [252]
    assert Customer.objects.count() == SearchEntry.objects.count() == 0
    assert schema() == before
    later = services.customer_create(actor=agent, kind="individual", name="欧阳修")
    assert customer_search(query="阳修").hits[0].customer == later
    assert_search_index_sound()


def test_a_large_file_into_a_stored_archive_keeps_its_indexes(large, agent):
    stored = services.customer_create(actor=agent, kind="individual", name="王伟伟",
                                      phones=["138 0000 8000"])
    before = schema()
    executed = statements(lambda: transfer.import_file(name="big.csv", data=large_file()))
    assert not any(sql.startswith("DROP INDEX") for sql in executed)
    assert any(sql.startswith("DROP TRIGGER") for sql in executed)  # the search index fed
    assert Customer.objects.count() == 301 and schema() == before
    assert {h.customer.pk for h in customer_search(query="王伟伟").hits} == {
        stored.pk, Customer.objects.get(external_id="L-0").pk}
    assert_search_index_sound()


def test_a_large_file_updating_stored_customers_keeps_the_search_index_sound(large, agent):
    for i in (3, 150):
        services.customer_create(actor=agent, kind="individual", name="欧阳修",
                                 external_id=f"L-{i}")
    result = transfer.import_file(name="big.csv", data=large_file())
    assert (result.created, result.updated) == (298, 2)
    assert_search_index_sound()
    assert customer_search(query="欧阳修").hits == []
    renamed = Customer.objects.get(external_id="L-150")  # the file's name for row 150
    assert [h.customer for h in customer_search(query=f"{renamed.name} L-150").hits] == [
        renamed]


@pytest.mark.parametrize("stored_before", [False, True])
def test_phones_and_emails_of_earlier_rows_are_warned_about_either_way(
        large, agent, stored_before):
    """Rows 120 and 250 repeat the phones and email of row 3 (other chunks); row 7 has the
    phone of a customer stored before the file when there is one."""
    if stored_before:
        stored = services.customer_create(actor=agent, kind="individual", name="王伟",
                                          phones=["138 0007 8000"])
    report = transfer.import_file(name="big.csv", data=large_file(again={120: 3, 250: 3}))
    assert report.written
    number = {i: Customer.objects.get(external_id=f"L-{i}").number for i in (3, 120)}
    expected = [
        (122, f"Phone +8613800038000 already belongs to {number[3]}"),
        (122, f"Phone +862162340003 already belongs to {number[3]}"),
        (122, f"Email u3@example.com already belongs to {number[3]}"),
        # in the order the phones were stored: row 3's two, then row 120's
        (252, f"Phone +8613800038000 already belongs to {number[3]}"),
        (252, f"Phone +862162340003 already belongs to {number[3]}"),
        (252, f"Phone +8613800038000 already belongs to {number[120]}"),
        (252, f"Phone +862162340003 already belongs to {number[120]}"),
        (252, f"Email u3@example.com already belongs to {number[3]}"),
        (252, f"Email u3@example.com already belongs to {number[120]}"),
    ]
    if stored_before:
        expected.insert(0, (9, f"Phone +8613800078000 already belongs to {stored.number}"))
    assert [(w["row"], w["message"].split(":")[0]) for w in report.warnings] == expected


def pragma(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("bad_row", [None, 250])
def test_a_large_import_commits_without_a_checkpoint_and_restores_the_settings(
        large, agent, bad_row):
    before = pragma("wal_autocheckpoint"), pragma("cache_size")
    during = []
    transfer.import_file(
        name="big.csv", data=large_file(bad_row=bad_row),
        progress=lambda done, total: during.append(
            (pragma("wal_autocheckpoint"), pragma("cache_size"))))
    assert during and set(during) == {(0, -262144)}
    assert (pragma("wal_autocheckpoint"), pragma("cache_size")) == before != (0, -262144)
