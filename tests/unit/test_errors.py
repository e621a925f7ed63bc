"""verbatim.errors.os_error_line: one line naming the thing and the fix, for each errno;
and the CLI's one line for a file problem no command turned into its own words."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

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


def _busy() -> sqlite3.Error:
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]
    return busy


@pytest.mark.parametrize(("exc", "words"), [
    (OSError(errno.ENOSPC, "No space left on device", "/data/out/t.json"),
     "disk full: no space left in /data/out; "),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/data/gone/t.json"),
     "cannot use /data/gone/t.json: no such file or folder; "),
    (_busy(), "cannot use {study}/study.sqlite: the study database is in use by another "),
])
def test_the_cli_says_a_stray_file_problem_once_in_one_line(
        exc: Exception, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from verbatim import cli, diskspace, storage

    asked: list[BaseException] = []
    real = diskspace.explain

    def explain(error: BaseException, folder: Path | str | None) -> str | None:
        asked.append(error)
        return real(error, folder)

    def handler(args: object, config: object) -> int:
        raise exc

    monkeypatch.setattr(diskspace, "explain", explain)  # verbatim.errors asks here
    monkeypatch.setattr(storage, "explain", explain)    # the CLI asks here
    monkeypatch.setattr(cli, "_resolve", lambda key: handler)
    assert cli.main(["--study", str(tmp_path), "study", "info"]) == 74
    err = capsys.readouterr().err
    assert err.startswith("verbatim: " + words.format(study=tmp_path))
    assert err.count("\n") == 1 and err.endswith("\n")
    assert asked == [exc]  # the disk is asked about the error once, not again for the line
