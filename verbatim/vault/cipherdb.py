"""The encrypted study database: SQLCipher 4 with a random 256-bit raw key.

A raw key (``x'…'``) skips SQLCipher's PBKDF2 because the key is already
random; the passphrase is stretched once, by age's scrypt, when the vault is
unlocked. Every page, including those in the ``-wal`` file, is AES-256
encrypted and HMAC-SHA512 authenticated by SQLCipher.

The store was written against ``sqlite3``; ``CipherConnection`` gives it the
same surface and re-raises SQLCipher's exceptions as their ``sqlite3``
namesakes, so ``except sqlite3.IntegrityError`` in the store keeps working.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from transcript.document import fsync_dir
from verbatim.vault.errors import WrongKeyError

SQLITE_HEADER = b"SQLite format 3\x00"


def _dbapi() -> Any:
    from sqlcipher3 import dbapi2

    return dbapi2


def _translate(exc: Exception) -> Exception:
    cls = getattr(sqlite3, type(exc).__name__, sqlite3.DatabaseError)
    if not (isinstance(cls, type) and issubclass(cls, sqlite3.Error)):
        cls = sqlite3.DatabaseError
    translated = cls(*exc.args)
    for name in ("sqlite_errorcode", "sqlite_errorname"):  # what storage errors are told by
        if hasattr(exc, name):
            setattr(translated, name, getattr(exc, name))
    return translated


class CipherConnection:
    """A SQLCipher connection that looks like ``sqlite3.Connection`` to the store."""

    def __init__(self, raw: Any, key_hex: str) -> None:
        self.raw = raw
        self.key_hex = key_hex
        self.study_dir = Path()  # set by verbatim.study.db.connect

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        try:
            return self.raw.execute(sql, params)
        except _dbapi().Error as exc:
            raise _translate(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        try:
            return self.raw.executemany(sql, rows)
        except _dbapi().Error as exc:
            raise _translate(exc) from exc

    def executescript(self, script: str) -> Any:
        try:
            return self.raw.executescript(script)
        except _dbapi().Error as exc:
            raise _translate(exc) from exc

    def close(self) -> None:
        self.raw.close()

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.in_transaction)

    @property
    def row_factory(self) -> Any:
        return self.raw.row_factory

    @row_factory.setter
    def row_factory(self, value: Any) -> None:
        self.raw.row_factory = _dbapi().Row if value is sqlite3.Row else value

    def backup(self, target: Any, **kwargs: Any) -> None:
        raw_target = target.raw if isinstance(target, CipherConnection) else target
        self.raw.backup(raw_target, **kwargs)


def _keyed(path: Path, key_hex: str, *, timeout: float) -> Any:
    dbapi = _dbapi()
    conn = dbapi.connect(str(path), timeout=timeout, isolation_level=None,
                         check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")  # errors reach the user as one line
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")
    return conn


def has_plain_header(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == SQLITE_HEADER
    except OSError:
        return False


def refuse_half_encrypted(path: Path) -> None:
    """A plain database beside a vault: 'study encrypt' was interrupted."""
    if path.exists() and path.stat().st_size > 0 and has_plain_header(path):
        raise WrongKeyError(f"{path.parent.name}: an interrupted 'verbatim study encrypt' left "
                            "the database unencrypted; run it again to finish")


def connect(path: Path, key_hexes: Sequence[str], *, timeout: float) -> CipherConnection:
    """Open ``path`` with the first key that fits; ``WrongKeyError`` if none does.

    A new (empty) file is created encrypted with the first key.
    """
    dbapi = _dbapi()
    refuse_half_encrypted(path)
    for key_hex in key_hexes:
        conn = _keyed(path, key_hex, timeout=timeout)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except dbapi.DatabaseError:
            conn.close()
            continue
        wrapped = CipherConnection(conn, key_hex)
        wrapped.row_factory = sqlite3.Row
        return wrapped
    raise WrongKeyError(f"{path.name} does not open with this study's key (damaged, or "
                        "from another study)")


def backup(conn: CipherConnection, dest: Path) -> None:
    """An encrypted copy of the live database (same key) through the backup API."""
    target = _keyed(dest, conn.key_hex, timeout=10.0)
    try:
        conn.raw.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()


def export_encrypted(plain_path: Path, dest: Path, key_hex: str) -> None:
    """Copy a plain SQLite database into a new SQLCipher file (sqlcipher_export)."""
    dbapi = _dbapi()
    conn = dbapi.connect(str(plain_path), isolation_level=None, timeout=10.0)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        _copy_keyed(conn, dest, key_hex)
    finally:
        conn.close()


def _copy_keyed(conn: Any, dest: Path, key_hex: str) -> None:
    """Copy the open database into a new SQLCipher file under ``key_hex``, version kept."""
    conn.execute("BEGIN IMMEDIATE")  # no writer may slip in while the copy is made
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    conn.execute(f"ATTACH DATABASE ? AS keyed_copy KEY \"x'{key_hex}'\"", (str(dest),))
    conn.execute("SELECT sqlcipher_export('keyed_copy')")
    conn.execute(f"PRAGMA keyed_copy.user_version = {version}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE keyed_copy")


def export_rekeyed(path: Path, key_hexes: Sequence[str], new_key_hex: str) -> None:
    """Re-encrypt the database under ``new_key_hex``: a verified copy renamed over it.

    The copy (``.study.sqlite.rekey`` beside it) is made inside a write
    transaction, checked (``quick_check`` under the new key alone) and only
    then renamed over the original, so a kill at any moment leaves a database
    that one of ``key_hexes`` or the new key opens. A database already under
    the new key (a resumed rotation) is left as it is.
    """
    conn = connect(path, [new_key_hex, *key_hexes], timeout=10.0)
    try:
        if conn.key_hex == new_key_hex:
            return
        raw = conn.raw
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        staging = path.with_name(f".{path.name}.rekey")
        staging.unlink(missing_ok=True)
        _copy_keyed(raw, staging, new_key_hex)
    except _dbapi().OperationalError as exc:
        raise sqlite3.OperationalError(*exc.args) from None
    finally:
        conn.close()
    check = _keyed(staging, new_key_hex, timeout=10.0)
    try:
        if check.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise WrongKeyError("the re-keyed copy of the database did not verify; the study "
                                "is unchanged (run 'study rekey' again)")
    finally:
        check.close()
    staging.chmod(0o600)
    os.replace(staging, path)
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    fsync_dir(path.parent)


def rekey(conn: CipherConnection, new_key_hex: str) -> None:
    """Re-encrypt every page under a new key (outside WAL mode, as SQLCipher requires)."""
    raw = conn.raw
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.execute("PRAGMA journal_mode = DELETE")
    raw.execute(f"PRAGMA rekey = \"x'{new_key_hex}'\"")
    raw.execute("PRAGMA journal_mode = WAL")
    conn.key_hex = new_key_hex
