"""Real concurrency in tests: the test database as a file every thread opens on its own
connection, and a live server whose request threads each do so, as separate server
processes would.

pytest-django hands every thread the test's one in-memory SQLite connection, so concurrent
requests would share a single transaction and prove nothing about locking. PostgreSQL
needs none of this: there each thread gets its own connection anyway.
"""

import sqlite3
from pathlib import Path


def sqlite_file_copy(path: Path) -> dict:
    """Copies the (SQLite) test database, with what the test made so far, to `path`;
    returns the settings of a connection to the copy."""
    from django.db import connection

    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    # In WAL mode already, as kehu's databases are: otherwise the first threads to connect
    # race to switch it (each connection's init_command asks for WAL), and switching
    # needs the database to itself, so a thread connecting meanwhile fails at once with
    # "database is locked", whatever the busy timeout.
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    return connection.settings_dict | {"NAME": str(path)}


class OwnConnectionServer:
    """Django's live server thread, but each request thread opens its own connection to
    the database of `settings_dict` (a sqlite_file_copy). On PostgreSQL use live_server."""

    def __init__(self, settings_dict: dict):
        from django.core.servers.basehttp import ThreadedWSGIServer
        from django.db import connections
        from django.db.backends.sqlite3.base import DatabaseWrapper
        from django.test.testcases import (
            LiveServerThread,
            QuietWSGIRequestHandler,
            _StaticFilesHandler,
        )

        class Server(ThreadedWSGIServer):
            def process_request_thread(self, request, client_address):
                connections["default"] = DatabaseWrapper(dict(settings_dict), "default")
                super().process_request_thread(request, client_address)

        class Thread(LiveServerThread):
            def _create_server(self, connections_override=None):
                return Server(
                    (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
                )

        self.thread = Thread("127.0.0.1", _StaticFilesHandler)
        self.thread.daemon = True
        self.thread.start()
        self.thread.is_ready.wait()
        if self.thread.error:
            raise self.thread.error
        self.url = f"http://127.0.0.1:{self.thread.port}"

    def stop(self):
        self.thread.terminate()
