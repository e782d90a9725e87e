"""What kehu relies on from the PostgreSQL server itself (skipped on SQLite).

Customer search writes Chinese as space-separated bigrams and characters (see
kehu.customers.search) and asks PostgreSQL's 'simple' text-search configuration for
phrases of them. That works only if the server's parser reads each CJK token as a word,
which depends on the database's encoding and LC_CTYPE: checked here on the real server.
"""

import pytest
from django.db import connection

from kehu.customers import services
from kehu.customers.models import SearchEntry
from kehu.customers.search import search_document, search_terms, tsquery

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL-specific (KEHU_DATABASE_URL)"
)


def _one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _all(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_test_database_is_utf8(db):
    encoding, ctype = _one(
        "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database"
        " WHERE datname = current_database()"
    )
    assert encoding == "UTF8", ctype


def test_the_parser_reads_each_cjk_token_as_one_word(db):
    document = search_document(["张伟明", "杭州西湖茶业", "王 건국 ｱｲ"])
    tokens = _all(
        "SELECT alias, token FROM ts_debug('simple', %s) WHERE alias <> 'blank'", [document]
    )
    assert [token for _alias, token in tokens] == document.split(" ")
    assert {alias for alias, _token in tokens} == {"word"}


def test_phrases_of_bigrams_match_substrings_and_nothing_else(db):
    document = search_document(["张伟明", "青岛海尔集团"])

    def matches(query: str) -> bool:
        return _one(
            "SELECT to_tsvector('simple', %s) @@ to_tsquery('simple', %s)",
            [document, tsquery(search_terms(query))],
        )[0]

    for query in ("张", "伟明", "张伟明", "海尔集团", "岛海", "集团"):
        assert matches(query), query
    for query in ("明张", "伟张", "明青", "明青岛", "海尔有限", "刘"):  # includes across fields
        assert not matches(query), query


def test_the_search_vector_is_stored_indexed_and_follows_changes(agent):
    customer = services.customer_create(actor=agent, kind="individual", name="张伟明")
    (stored,) = _one(
        "SELECT document_tsv = to_tsvector('simple', document) FROM customers_searchentry"
        " WHERE customer_id = %s",
        [customer.pk],
    )
    assert stored
    services.customer_update(actor=agent, customer=customer, name="李娜")
    entry = SearchEntry.objects.get(customer=customer, contact=None)
    (vector,) = _one(
        "SELECT document_tsv::text FROM customers_searchentry WHERE id = %s", [entry.pk]
    )
    assert "'李娜'" in vector and "伟明" not in vector

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM customers_searchentry"
            " WHERE document_tsv @@ to_tsquery('simple', %s)",
            [tsquery(search_terms("李娜"))],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customers_searchentry_document_fts" in plan, plan
