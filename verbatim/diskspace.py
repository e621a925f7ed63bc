"""Why a write failed, in words: full, read-only or forbidden disks and databases.

Pure functions of an OSError or SQLite error and a folder, importing nothing of
verbatim, so ``verbatim.errors`` and ``verbatim.storage`` can both use them
without importing each other.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

SQLITE_PERM = 3
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CANTOPEN = 14
SQLITE_FULL = 13

# Below this much free space a failed write is taken to be a full disk (SQLite's
# "disk I/O error" on opening at 0 bytes free names no cause of its own).
NEARLY_FULL_BYTES = 256 * 1024


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


