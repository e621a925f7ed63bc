"""Errors a user can act on: the CLI prints them as one line, never a traceback.

``os_error_line`` is the one place that turns an ``OSError`` (or SQLite's
full/read-only/locked errors) into a sentence that names the file or folder
and says what to do; write paths and both doors (CLI and app) use it, so a full
disk or an unwritable folder reads the same everywhere. Full disks, read-only
disks and missing permissions are worded by ``verbatim.storage.explain``
(the reliability room's one source); this module covers the other errnos
(paths, loops, folders where files belong) and SQLite's "in use".
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path


class UserError(Exception):
    """Bad input or a state the user can fix; ``str(err)`` is the whole message."""

    exit_code = 1


class StudyError(UserError):
    """A study that cannot be opened or an operation it refuses; one line for the user.

    Defined here, below both ``verbatim.study`` and ``verbatim.vault``, so the
    vault's errors can be study errors without the vault knowing the study.
    """


class FileProblemError(UserError):
    """A file or folder the program cannot read or write (permissions, space, path)."""

    exit_code = 74  # sysexits EX_IOERR


# errno -> (what went wrong, what to do). "{path}" and "{folder}" are filled in.
_ERRNO_LINES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space on it, or choose another folder"),
    errno.EDQUOT: ("your disk quota is used up", "free some space, or choose another folder"),
    errno.EFBIG: ("the file would be larger than this file system allows",
                  "choose a folder on another disk"),
    errno.EROFS: ("the file system is read-only", "choose a folder you can write to"),
    errno.EACCES: ("permission denied",
                   "choose a place you may use, or change the permissions of {folder}"),
    errno.EPERM: ("the operation is not permitted",
                  "choose a place you may use, or change the permissions of {folder}"),
    errno.ENOENT: ("no such file or folder", "check the path ({folder} must exist)"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "check the path"),
    errno.EISDIR: ("it is a folder, not a file", "give a file name inside it"),
    errno.ELOOP: ("too many symbolic links (a loop?)", "give the real path"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter name"),
    errno.EEXIST: ("it already exists", "choose another name, or remove it first"),
    errno.ENOTEMPTY: ("the folder is not empty", "choose an empty or new folder"),
    errno.EXDEV: ("it is on another disk", "choose a place on the same disk"),
    errno.EMFILE: ("too many files are open", "close other programs and try again"),
    errno.EIO: ("the disk reported an input/output error",
                "check the disk (it may be failing or unplugged)"),
    errno.EBUSY: ("it is in use", "close the program that uses it and try again"),
    errno.ETXTBSY: ("it is in use", "close the program that uses it and try again"),
}

# SQLite's primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF).
_SQLITE_LINES: dict[int, tuple[str, str]] = {
    5: ("the study database is in use by another program (locked)",
        "close the other program (or the app) and try again"),
    6: ("the study database is in use by another program (locked)",
        "close the other program (or the app) and try again"),
    8: ("the study database is read-only", "make {folder} and study.sqlite writable"),
    10: ("the disk reported an input/output error while using the study database",
         "check the disk, and that it has free space"),
    13: ("the disk is full", "free some space on it and try again"),
    14: ("the study database cannot be opened", "check that {folder} exists and is writable"),
}


def os_error_line(exc: BaseException, path: str | Path | None = None, *,
                  action: str = "write") -> str:
    """One line naming the thing and the fix for an OSError or a SQLite error.

    ``path`` is what the user asked for (the error's own file name is used when
    absent); ``action`` is the verb ("write", "read", "create"...). A full,
    read-only or forbidden disk is said in ``verbatim.diskspace``'s words.
    """
    from verbatim.diskspace import explain

    if path is not None:
        storage = explain(exc, Path(path) if Path(path).is_dir() else Path(path).parent)
    else:
        storage = explain(exc, None) if getattr(exc, "filename", None) else None
    return storage or file_and_fix_line(exc, path, action=action)


def file_and_fix_line(exc: BaseException, path: str | Path | None = None, *,
                      action: str = "write") -> str:
    """``os_error_line`` from the error code alone, for a caller that has already asked
    ``verbatim.diskspace.explain`` (and heard it is not a full or read-only disk)."""
    target = path if path is not None else getattr(exc, "filename", None)
    name = str(target) if target is not None else ""
    folder = str(Path(name).parent) if name else "the folder"
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        what, fix = _SQLITE_LINES.get((code or 0) & 0xFF, (str(exc), "try again"))
        if code is None:  # older SQLite bindings: read the message
            text = str(exc).lower()
            for key, probe in ((13, "full"), (8, "readonly"), (5, "locked")):
                if probe in text:
                    what, fix = _SQLITE_LINES[key]
    else:
        code = getattr(exc, "errno", None)
        if isinstance(code, int) and code in _ERRNO_LINES:
            what, fix = _ERRNO_LINES[code]
        else:
            what = getattr(exc, "strerror", None) or type(exc).__name__
            fix = "check the path and try again"
    subject = f" {name}" if name else ""
    return f"cannot {action}{subject}: {what}; {fix.format(folder=folder, path=name)}"


def file_problem(exc: BaseException, path: str | Path | None = None, *,
                 action: str = "write") -> FileProblemError:
    """``os_error_line`` as an exception to raise (``raise file_problem(exc, p) from None``)."""
    return FileProblemError(os_error_line(exc, path, action=action))


def write_crash_log(log_dir: Path, exc: BaseException) -> Path | None:
    """Save a bug's stack frames owner-only; returns the file, or None when it cannot.

    Only the exception's type and the frames (file, line, function, source line)
    are kept: never the exception's message or any local variable, which may hold
    transcript words, notes or names.
    """
    import os
    import traceback
    from datetime import UTC, datetime

    try:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = log_dir / f"crash-{stamp}-{os.getpid()}.log"
        chain: list[str] = []
        seen: BaseException | None = exc
        while seen is not None and len(chain) < 5:
            chain.append(f"{type(seen).__module__}.{type(seen).__qualname__}\n"
                         + "".join(traceback.format_tb(seen.__traceback__)))
            seen = seen.__cause__ or seen.__context__
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\nwhile handling:\n".join(chain))
        return path
    except OSError:
        return None


def crash_line(prog: str, exc: BaseException, log: Path | None) -> str:
    """The one line a user sees for a bug: the exception's type, where the details are."""
    where = f" (details in {log})" if log else ""
    return f"{prog}: internal error: {type(exc).__name__}{where}"
