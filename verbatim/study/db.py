"""The one door to the study database: every connection is opened here.

Keeping connection set-up in one small function is deliberate: an encrypted
study (a folder with ``vault.json``, see ``verbatim.vault``) is opened through
SQLCipher here, with the key of the unlocked session, and the store never
notices. The pragmas are what let the TUI and the CLI work on one study at the
same time and what make a committed edit survive a crash or a power cut.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_NAME = "study.sqlite"

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
    conn = _open_encrypted(path)
    if conn is None:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _open_encrypted(path: Path) -> sqlite3.Connection | None:
    """A SQLCipher connection when the study is encrypted; None for a plain study."""
    from verbatim.vault import session

    study_dir = path.parent
    if not session.will_be_encrypted(study_dir):
        return None
    from verbatim.vault import cipherdb

    session.write_pending_vault(study_dir)  # a study being created: vault before database
    cipherdb.refuse_half_encrypted(path)
    keys = session.keys_for(study_dir)
    conn = cipherdb.connect(path, keys.db_keys, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.study_dir = study_dir
    return conn  # type: ignore[return-value]  # the sqlite3.Connection surface the store uses


def is_encrypted(conn: sqlite3.Connection) -> bool:
    from verbatim.vault.cipherdb import CipherConnection

    return isinstance(conn, CipherConnection)


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
    plain rollback-journal file so it opens anywhere. An encrypted study's copy
    stays encrypted with the same key, and the study's ``vault.json`` goes with
    it (beside it as ``vault.json`` in a folder backup, else ``DEST.vault.json``):
    without that file the copy cannot be opened.
    """
    if is_encrypted(conn):
        _backup_encrypted(conn, dest)
        return
    target = sqlite3.connect(str(dest))
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()


def _backup_encrypted(conn: sqlite3.Connection, dest: Path) -> None:
    import shutil

    from verbatim.vault import VAULT_NAME, cipherdb

    assert isinstance(conn, cipherdb.CipherConnection)
    vault_dest = (dest.parent / VAULT_NAME if dest.name == DB_NAME
                  else dest.with_name(dest.name + ".vault.json"))
    if vault_dest.exists():
        raise FileExistsError(f"{vault_dest} already exists")
    shutil.copyfile(conn.study_dir / VAULT_NAME, vault_dest)
    vault_dest.chmod(0o600)
    cipherdb.backup(conn, dest)
