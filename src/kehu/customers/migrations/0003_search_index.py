"""The full-text index behind customer search: FTS5 on SQLite, GIN on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE customers_searchentry_fts USING fts5("
    "document, content='customers_searchentry', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER customers_searchentry_ai AFTER INSERT ON customers_searchentry BEGIN"
    " INSERT INTO customers_searchentry_fts(rowid, document) VALUES (new.id, new.document); END",
    "CREATE TRIGGER customers_searchentry_ad AFTER DELETE ON customers_searchentry BEGIN"
    " INSERT INTO customers_searchentry_fts(customers_searchentry_fts, rowid, document)"
    " VALUES ('delete', old.id, old.document); END",
    "CREATE TRIGGER customers_searchentry_au AFTER UPDATE ON customers_searchentry BEGIN"
    " INSERT INTO customers_searchentry_fts(customers_searchentry_fts, rowid, document)"
    " VALUES ('delete', old.id, old.document);"
    " INSERT INTO customers_searchentry_fts(rowid, document) VALUES (new.id, new.document); END",
]
SQLITE_DROP = [
    "DROP TRIGGER customers_searchentry_au",
    "DROP TRIGGER customers_searchentry_ad",
    "DROP TRIGGER customers_searchentry_ai",
    "DROP TABLE customers_searchentry_fts",
]
# PostgreSQL keeps the tsvector in a stored generated column rather than indexing the
# expression: phrase queries (<->) need positions, which a GIN index does not hold, so
# every candidate row is rechecked, and with an expression index each recheck re-parses
# the document. On 1,000,000 generated customers the stored column took name searches
# from p95 ~300 ms to ~5 ms for a surname, ~156 ms to ~3 ms for two characters.
# The parser ('simple' configuration) reads each CJK bigram or character of the document
# as one word both in C and in UTF-8 locales (see tests/test_postgres.py). The column is
# not on the Django model: it is written by PostgreSQL alone, and read by
# kehu.customers.selectors.
POSTGRES_CREATE = [
    "ALTER TABLE customers_searchentry ADD COLUMN document_tsv tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, document)) STORED",
    "CREATE INDEX customers_searchentry_document_fts ON customers_searchentry"
    " USING gin (document_tsv)",
]
POSTGRES_DROP = [
    "DROP INDEX customers_searchentry_document_fts",
    "ALTER TABLE customers_searchentry DROP COLUMN document_tsv",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
