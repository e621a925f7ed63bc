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
import errno
import os
import sqlite3
from pathlib import Path

from verbatim.errors import UserError

# SQLite primary result codes (sqlite3.h); extended codes carry them in the low byte.
SQLITE_PERM = 3
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CANTOPEN = 14
SQLITE_FULL = 13

# Below this much free space a failed write is taken to be a full disk (SQLite's
# "disk I/O error" on opening at 0 bytes free names no cause of its own).
NEARLY_FULL_BYTES = 256 * 1024


class StorageError(UserError):
    """A write the disk refused (full, read-only, no permission); one line with the fix."""

    exit_code = 74  # sysexits EX_IOERR


def free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use under ``folder``; None if unknown."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        stat = os.statvfs(probe)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def disk_full(folder: Path) -> str:
    return (f"disk full: no space left in {folder}; free some space there (or move the study "
            "to a larger disk) and run this again; nothing was lost")


def _kind(exc: BaseException, folder: Path) -> str | None:
    if isinstance(exc, OSError):
        code = exc.errno
        if code in (errno.ENOSPC, errno.EDQUOT):
            return "full"
        if code == errno.EROFS:
            return "readonly-fs"
        if code in (errno.EACCES, errno.EPERM):
            return "permission"
        if code == errno.EIO and _nearly_full(folder):
            return "full"
        return None
    if isinstance(exc, sqlite3.Error):
        primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        text = str(exc).lower()
        if primary == SQLITE_FULL or "database or disk is full" in text:
            return "full"
        if primary == SQLITE_READONLY or "readonly database" in text:
            return "readonly-db"
        if primary in (SQLITE_PERM, SQLITE_CANTOPEN) or "unable to open database" in text:
            return "permission" if not _nearly_full(folder) else "full"
        if primary == SQLITE_IOERR or "disk i/o error" in text:
            return "full" if _nearly_full(folder) else None
    return None


def _read_only_disk(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _nearly_full(folder: Path) -> bool:
    left = free_bytes(folder)
    return left is not None and left < NEARLY_FULL_BYTES


def explain(exc: BaseException, folder: Path | str | None) -> str | None:
    """The one line for a storage failure, or None when ``exc`` is not one."""
    filename = getattr(exc, "filename", None) if isinstance(exc, OSError) else None
    if filename:
        where = Path(os.fsdecode(filename))
        if not where.is_dir():
            where = where.parent
    else:
        where = Path(folder) if folder is not None else Path.cwd()
    kind = _kind(exc, where)
    if kind in ("readonly-db", "permission") and _read_only_disk(where):
        kind = "readonly-fs"
    if kind == "full":
        return disk_full(where)
    if kind == "readonly-fs":
        return (f"{where} is on a read-only disk; remount it read-write or copy the study "
                "to a writable disk, then run this again; nothing was changed")
    if kind == "readonly-db":
        return (f"the study database in {where} is read-only; make it writable (chmod u+w "
                f"{where}/study.sqlite, and the folder) or work on a copy; nothing was changed")
    if kind == "permission":
        return (f"no permission to write in {where}; check its owner and permissions "
                f"(ls -ld {where}); nothing was changed")
    return None


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
