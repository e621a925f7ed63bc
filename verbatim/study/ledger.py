"""The study database's one connection: locking, write transactions and the audit trail.

The store's parts (participants, interviews, transcripts, notes) and its
helpers (integrity, backup, pack) all write through one ``Ledger``, so there is
one lock, one way to run a transaction and one way to audit. Keeping this
apart from the tables is what lets those modules share it through public
names instead of reaching into ``Study``'s private state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from verbatim.study import db
from verbatim.study.errors import StudyError


def now() -> str:
    """The store's timestamp: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """One study connection shared by threads: reads, write transactions, audit entries.

    The TUI calls the store from worker threads and the UI thread at once; the
    re-entrant lock serialises every statement on the connection, and a write
    transaction holds it from ``BEGIN IMMEDIATE`` to ``COMMIT``.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.RLock()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it commits, or none of it does."""
        with self._lock, db.transaction(self._conn) as conn:
            yield conn

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """The rows of one read."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def audit(self, action: str, target: str, **detail: Any) -> None:
        """Record an action (inside the caller's transaction): metadata, never text."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO audit (at, action, target, detail) VALUES (?, ?, ?, ?)",
                (now(), action, target, json.dumps(detail, sort_keys=True)))

    @property
    def encrypted(self) -> bool:
        """Whether the database is a SQLCipher one (an encrypted study)."""
        return db.is_encrypted(self._conn)

    def backup_to(self, dest: Path) -> None:
        """The database, consistent, into a new owner-only file ``dest``."""
        try:
            fd = dest.open("xb")
            fd.close()
            dest.chmod(0o600)
            with self._lock:
                db.backup(self._conn, dest)
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise StudyError(f"cannot write {dest}: {exc.strerror or exc}") from exc

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (for measuring its size)."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
