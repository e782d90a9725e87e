"""SQLite's WAL is copied back into the database by a thread of its own, never by a writer's
commit (which would make every writer waiting its turn wait for the copy too)."""

import os
import time

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from kehu import db as kehu_db

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL")
SAFETY_NET_PAGES = 64 * 2**20 // 4096


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
            assert cursor.fetchone()[0] == SAFETY_NET_PAGES
            cursor.execute("CREATE TABLE filler (data BLOB)")
        assert str(path.resolve()) in kehu_db._checkpointed
        size = path.stat().st_size
        with own.cursor() as cursor:
            # Enough pages that SQLite's default checkpoint (at 1,000) would have copied
            # them, far below the safety net: only the thread copies them back.
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
def test_without_the_thread_a_writer_still_checkpoints_past_the_safety_net(tmp_path):
    """Should the thread be gone, SQLite's own checkpoint copies the WAL back in the commit
    that passes 64 MB, and the file is cut back to 64 MB: the WAL never grows without
    limit."""
    path = tmp_path / "kehu.sqlite3"
    kehu_db._checkpointed.add(str(path.resolve()))  # as if a thread ran: none starts
    own = DatabaseWrapper(connection.settings_dict | {"NAME": str(path)}, "no-thread")
    wal = tmp_path / "kehu.sqlite3-wal"
    try:
        with own.cursor() as cursor:
            cursor.execute("PRAGMA journal_size_limit")
            assert cursor.fetchone()[0] == 64 * 2**20
            cursor.execute("CREATE TABLE filler (data BLOB)")
            # One transaction past 64 MB: no checkpoint can run before its commit.
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany("INSERT INTO filler VALUES (zeroblob(1000000))", [()] * 72)
            cursor.execute("COMMIT")
        assert wal.stat().st_size > 72 * 10**6
        # Copied back by that writer's commit, no thread needed.
        assert path.stat().st_size > 72 * 10**6
        # The next writer starts the WAL over and cuts the file back to the limit.
        with own.cursor() as cursor:
            cursor.execute("INSERT INTO filler VALUES (zeroblob(1000))")
        assert wal.stat().st_size <= 64 * 2**20
    finally:
        own.close()
        kehu_db._checkpointed.discard(str(path.resolve()))


@pytest.mark.django_db
def test_in_memory_databases_need_no_checkpoints():
    before = set(kehu_db._checkpointed)
    memory = DatabaseWrapper(connection.settings_dict | {"NAME": ":memory:"}, "memory")
    memory.ensure_connection()
    memory.close()
    assert kehu_db._checkpointed == before
