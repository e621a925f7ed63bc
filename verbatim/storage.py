"""Full disks, read-only folders and databases: one line naming the folder and the fix.

Every write path (a study's database, its recordings, an export, a backup)
can meet ENOSPC, EDQUOT, EROFS, EACCES, or SQLite's SQLITE_FULL and
SQLITE_READONLY. ``explain`` turns any of them into the sentence a user can
act on; ``verbatim.cli`` applies it to anything a command lets through, so a
full disk is never an "internal error". ``preflight`` is the one-second check
before a long job: enough free space, a database that accepts a write.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from verbatim.diskspace import (
    NEARLY_FULL_BYTES,
    disk_full,
    explain,
    free_bytes,
)
from verbatim.errors import UserError

# SQLite primary result codes (sqlite3.h); extended codes carry them in the low byte.

class StorageError(UserError):
    """A write the disk refused (full, read-only, no permission); one line with the fix."""

    exit_code = 74  # sysexits EX_IOERR


def as_storage_error(exc: BaseException, folder: Path | str | None) -> StorageError | None:
    message = explain(exc, folder)
    return StorageError(message) if message else None


def sweep_temps(target: Path) -> None:
    """Remove the half-written temporary copies of ``target`` a killed writer left beside it.

    ``write_atomic`` writes ``.<name>.<random>.tmp`` and renames it; a kill in
    between leaves that file. The next write of the same target removes it.
    """
    target = Path(target)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


def preflight(folder: Path, *, need_bytes: int = 0, database: Path | None = None) -> None:
    """Before a long job: refuse in a second what would fail after minutes of work.

    Checks that ``folder`` has ``need_bytes`` free (plus a margin for SQLite's
    journal) and, when ``database`` is given, that it takes a write lock.
    """
    folder = Path(folder)
    left = free_bytes(folder)
    if left is not None and left < need_bytes + NEARLY_FULL_BYTES:
        raise StorageError(disk_full(folder).replace("; nothing was lost", "")
                           + f" (about {max(need_bytes, NEARLY_FULL_BYTES) // 1024} KB "
                           "needed)")
    if database is not None and (not os.access(database, os.W_OK)
                                 or not os.access(database.parent, os.W_OK)):
        raise StorageError(explain(sqlite3.OperationalError(
            "attempt to write a readonly database"), database.parent) or "read-only")
