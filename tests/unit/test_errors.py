"""verbatim.errors.os_error_line: one line naming the thing and the fix, for each errno."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from verbatim.errors import FileProblemError, file_problem, os_error_line


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOSPC, "disk full: no space left in /data/out;"),
    (errno.EROFS, "/data/out is on a read-only disk;"),
    (errno.EACCES, "no permission to write in /data/out;"),
])
def test_storage_errors_use_the_storage_rooms_words(code: int, words: str) -> None:
    line = os_error_line(OSError(code, "strerror", "/data/out/t.json"))
    assert line.startswith(words) and "\n" not in line


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOENT, "no such file"),
    (errno.EISDIR, "is a folder"),
    (errno.ENOTDIR, "is a file, not a folder"),
    (errno.ELOOP, "symbolic links"),
    (errno.ENAMETOOLONG, "too long"),
])
def test_each_errno_names_the_path_and_a_fix(code: int, words: str) -> None:
    line = os_error_line(OSError(code, "strerror", "/data/out/t.json"))
    assert line.startswith("cannot write /data/out/t.json: ")
    assert words in line and "; " in line and "\n" not in line


def test_the_given_path_wins_over_the_errors_own() -> None:
    line = os_error_line(IsADirectoryError(errno.EISDIR, "x", "/tmp/.t.json.123.tmp"),
                         "/out/t.json", action="export to")
    assert line.startswith("cannot export to /out/t.json: it is a folder, not a file;")


def test_unknown_errno_keeps_the_system_words() -> None:
    assert "Exec format error" in os_error_line(OSError(errno.ENOEXEC, "Exec format error"))


def test_sqlite_codes() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13  # type: ignore[attr-defined]
    assert os_error_line(full, "/s/study.sqlite").startswith("disk full: no space left in /s")
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]
    assert "in use by another program" in os_error_line(busy, "/s/study.sqlite")


def test_file_problem_is_a_user_error_with_an_io_exit() -> None:
    err = file_problem(OSError(errno.ENOSPC, "x"), "/d/x")
    assert isinstance(err, FileProblemError) and err.exit_code == 74
