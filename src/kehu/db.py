"""What many writers share: taking turns for SQLite's single write lock, and the WAL's
checkpoints off their path."""

import fcntl
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)
CHECKPOINT_EVERY_S = 0.1

_turns = threading.Lock()
_turn_files: dict[str, int] = {}


@contextmanager
def write_turn(db):
    """On SQLite, writers take turns on a lock of the operating system (a thread lock,
    then flock on a file beside the database, for the other processes); elsewhere nothing.

    SQLite has one writer at a time, and a writer that finds the database locked sleeps
    and tries again, for 1, 2, 5, 10… up to 100 ms; under a few hundred events a second
    those sleeps, not the work, held events back (p95 60 ms, p99 180 ms for a lock held
    half a millisecond). A writer waiting here wakes as soon as the one before is done.
    Enter it before the transaction begins, so the wait is here and not in SQLite.
    """
    if db.vendor != "sqlite":
        yield
        return
    with _turns:
        if db.is_in_memory_db():  # one process: the thread lock is enough
            yield
            return
        path = f"{db.settings_dict['NAME']}-writers.lock"
        if path not in _turn_files:
            _turn_files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(_turn_files[path], fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(_turn_files[path], fcntl.LOCK_UN)


_checkpointed: set[str] = set()
_checkpointed_lock = threading.Lock()


def checkpoints_start(sender, connection, **kwargs) -> None:
    """On each new SQLite connection (`connection_created`): once per database file and
    process, a daemon thread that copies the WAL back into the database every 0.1 s,
    PASSIVE (it waits for no reader or writer).

    SQLite's own checkpoint ran inside the commit that took the WAL past 1,000 pages,
    while that writer held its turn, so every writer behind it waited too (redemption p99
    36 ms with it, 18 ms without). The connections keep it only as a safety net at 64 MB
    (`wal_autocheckpoint` in settings), which this thread keeps the WAL far below; should
    the thread fall behind or die, a writer's commit still copies the WAL back and the
    file is cut back to 64 MB (`journal_size_limit`), so it never grows without limit."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    path = str(Path(connection.settings_dict["NAME"]).resolve())
    with _checkpointed_lock:
        if path in _checkpointed:
            return
        _checkpointed.add(path)
    threading.Thread(target=_checkpoint_loop, args=(path,), name="sqlite-checkpoints",
                     daemon=True).start()


def checkpoint(db) -> None:
    """For a batch job that wrote much (earning, the tier evaluation): it copies its WAL
    back itself before it returns, rather than leave the copy to the thread while the
    writers after it (redemptions) share the disk with gigabytes of it; PASSIVE, so it
    waits for no one. Elsewhere nothing."""
    if db.vendor == "sqlite" and not db.is_in_memory_db():
        with db.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _checkpoint_loop(path: str) -> None:
    db = None
    try:
        # mode=rw: never create the file again once it is gone (tests remove theirs).
        while os.path.exists(path):
            time.sleep(CHECKPOINT_EVERY_S)
            try:
                if db is None:
                    db = sqlite3.connect(f"{Path(path).as_uri()}?mode=rw", uri=True,
                                         timeout=0, check_same_thread=False)
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # busy or gone: the next round tries again
                logger.debug("checkpoint of %s: %s", path, error)
    finally:
        if db is not None:
            db.close()
        with _checkpointed_lock:
            _checkpointed.discard(path)
