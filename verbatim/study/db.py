"""The one door to the study database: every connection is opened here.

Keeping connection set-up in one small function is deliberate: the encryption
issue swaps this module for SQLCipher without touching the store. The pragmas
are what let the TUI and the CLI work on one study at the same time and what
make a committed edit survive a crash or a power cut.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# How long a writer waits for another process's write transaction before giving up.
# The TUI autosaves small edits; ten seconds covers a CLI backup running alongside.
BUSY_TIMEOUT_MS = 10_000


def connect(path: Path) -> sqlite3.Connection:
    """Open the study database with WAL, synchronous=FULL and a busy timeout.

    ``isolation_level=None`` leaves transactions to ``transaction()`` so every
    write is an explicit ``BEGIN IMMEDIATE`` … ``COMMIT`` (no surprise implicit
    transactions holding locks). ``check_same_thread=False`` because the TUI
    calls the store from worker threads; the store serialises calls itself.
    """
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000,
                           isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it commits, or none of it does."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def backup(conn: sqlite3.Connection, dest: Path) -> None:
    """Copy the live database to ``dest`` through SQLite's online backup API.

    The copy is consistent even while another process writes, and it is a
    plain rollback-journal file so it opens anywhere.
    """
    target = sqlite3.connect(str(dest))
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
