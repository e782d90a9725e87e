"""SQLite's WAL is copied back into the database by a thread of its own, never by a writer's
commit (which would make every writer waiting its turn wait for the copy too)."""

import os
import time

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from kehu import db as kehu_db

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL")


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.django_db
def test_writers_leave_checkpoints_to_a_thread_of_their_own(tmp_path):
    path = tmp_path / "kehu.sqlite3"
    own = DatabaseWrapper(connection.settings_dict | {"NAME": str(path)}, "checkpoints")
    try:
        with own.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone()[0] == 0  # no commit checkpoints
            cursor.execute("CREATE TABLE filler (data BLOB)")
        assert str(path.resolve()) in kehu_db._checkpointed
        size = path.stat().st_size
        with own.cursor() as cursor:
            # Enough pages that SQLite's own checkpoint (at 1,000) would have copied them.
            cursor.executemany("INSERT INTO filler VALUES (zeroblob(4000))", [()] * 2000)
        assert os.path.getsize(f"{path}-wal") > 2000 * 4000
        # In WAL mode the database file only grows when a checkpoint copies pages into it.
        assert _until(lambda: path.stat().st_size > size + 2000 * 4000)
    finally:
        own.close()
    # The thread ends with its database, so a later file at that path gets a new one.
    for name in ("", "-wal", "-shm"):
        (tmp_path / f"kehu.sqlite3{name}").unlink(missing_ok=True)
    assert _until(lambda: str(path.resolve()) not in kehu_db._checkpointed)


@pytest.mark.django_db
def test_in_memory_databases_need_no_checkpoints():
    before = set(kehu_db._checkpointed)
    memory = DatabaseWrapper(connection.settings_dict | {"NAME": ":memory:"}, "memory")
    memory.ensure_connection()
    memory.close()
    assert kehu_db._checkpointed == before
