"""SQLite's search index without its table of per-document token counts (columnsize=0).

Those counts serve only ranking (bm25), and kehu orders hits by recency: keeping them cost
a write per document, about a quarter of indexing one. The index is made again from the
documents; PostgreSQL has nothing to change."""

from django.db import migrations

TABLE = "customers_searchentry_fts"
OPTIONS = ("document, content='customers_searchentry', content_rowid='id',"
           " tokenize='unicode61 remove_diacritics 0'")


def _recreate(options: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        # The triggers that keep the index belong to customers_searchentry and name the
        # index table only in their bodies: they stay, and write to the new table.
        schema_editor.execute(f"DROP TABLE {TABLE}")
        schema_editor.execute(f"CREATE VIRTUAL TABLE {TABLE} USING fts5({options})")
        schema_editor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_customer_lost_at")]

    operations = [
        migrations.RunPython(_recreate(OPTIONS + ", columnsize=0"), _recreate(OPTIONS)),
    ]
