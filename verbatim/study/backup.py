"""Backups that are all or nothing: built aside, verified, then renamed into place.

A folder backup is assembled in a hidden ``.<name>-backup-<time>.partial``
folder (with the writer's pid in it), checked (``PRAGMA integrity_check`` of
the copied database, every recording's sha256 against the study's record) and
only then renamed to ``<name>-backup-<time>``; a killed backup is never a
folder that looks like a backup, and the next backup into the same place
removes what a dead one left. A recording that is missing or altered does not
stop the rest: the backup is still written, named ``…-INCOMPLETE``, with
``backup.json`` saying which recordings are missing or altered. The study's enrolled
voiceprints (``voices/``) go with a folder backup byte for byte: a sealed one
(``.json.age``) stays sealed, readable only with the study's key. A file backup
(the database alone) is written as a hidden partial file and renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from transcript.document import fsync_dir, write_atomic
from verbatim.scratch import alive
from verbatim.study import files
from verbatim.study.errors import StudyError

if TYPE_CHECKING:  # pragma: no cover
    from verbatim.study.store import Study

DB_NAME = "study.sqlite"
MANIFEST = "backup.json"
PARTIAL = ".partial"


@dataclass
class BackupReport:
    """What a backup holds: where it is, and the recordings it could not copy faithfully."""

    path: Path
    recordings: int = 0
    voices: int = 0  # voiceprints copied from the study's voices/
    missing: list[str] = field(default_factory=list)  # interview ids
    altered: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.altered


def wants_folder(dest: Path | str) -> bool:
    """``DEST/`` (a trailing slash) or an existing folder means a whole-study backup."""
    text = os.fspath(dest)
    return text.endswith(os.sep) or Path(text).expanduser().is_dir()


def backup(study: Study, dest: Path | str) -> BackupReport:
    """Back ``study`` up into ``dest`` (a folder: the whole study) or as ``dest`` (a file)."""
    if wants_folder(dest):
        folder = Path(os.fspath(dest)).expanduser()
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StudyError(f"cannot create {folder}: {exc.strerror or exc}") from exc
        return _backup_folder(study, folder)
    return _backup_file(study, Path(dest).expanduser())


def sweep_dead_partials(folder: Path) -> list[Path]:
    """Remove partial backups in ``folder`` whose writer has died; returns them."""
    removed = []
    for partial in folder.glob(f".*-backup-*{PARTIAL}"):
        if _writer_alive(partial):
            continue
        shutil.rmtree(partial, onerror=_force)
        removed.append(partial)
    return removed


def _writer_alive(partial: Path) -> bool:
    """Whether the backup writing ``partial`` (its pid inside) still runs."""
    try:
        pid = int((partial / ".pid").read_text())
    except (OSError, ValueError):
        return False
    return pid == os.getpid() or alive(pid)


def _force(func: object, path: str, exc_info: object) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
        os.unlink(path)


def _backup_folder(study: Study, dest: Path) -> BackupReport:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{study.path.name}-backup-{stamp}"
    if (dest / name).exists() or (dest / f"{name}-INCOMPLETE").exists():
        raise StudyError(f"{dest / name} already exists; a backup never overwrites")
    sweep_dead_partials(dest)
    from verbatim.storage import preflight

    # a second now, not a full disk half-way: the database and every recording
    preflight(dest, need_bytes=sum(p.stat().st_size for p in study.path.rglob("*")
                                   if p.is_file()))
    work = dest / f".{name}{PARTIAL}"
    try:
        work.mkdir(mode=0o700)
        (work / ".pid").write_text(str(os.getpid()))
        study.ledger.backup_to(work / DB_NAME)
        report = _copy_recordings(study, work)
        report.voices = _copy_voices(study.path, work)
        _verify_database(study, work / DB_NAME)
        (work / ".pid").unlink()
        report.path = dest / (name if report.complete else f"{name}-INCOMPLETE")
        write_atomic(work / MANIFEST, json.dumps({
            "format": "verbatim-backup/1", "study": study.name, "made_at": stamp,
            "complete": report.complete, "recordings": report.recordings,
            "voices": report.voices,
            "missing": report.missing, "altered": report.altered}, indent=1) + "\n")
        os.replace(work, report.path)
        fsync_dir(dest)
    except BaseException:
        if work.exists():
            shutil.rmtree(work, onerror=_force)
        raise
    return report


def _copy_recordings(study: Study, work: Path) -> BackupReport:
    (work / files.AUDIO_DIR).mkdir(mode=0o700, exist_ok=True)
    report = BackupReport(path=work)
    for interview in study.interviews():
        if not interview.has_audio or interview.audio_file is None:
            continue
        report.recordings += 1
        source = files.audio_path(study.path, interview.audio_file)
        if not source.is_file():
            report.missing.append(interview.id)
            continue
        sha = files.copy_in(source, work, interview.audio_file)
        if sha != interview.audio_sha256:
            report.altered.append(interview.id)
    return report


def _copy_voices(study_dir: Path, work: Path) -> int:
    """Copy the study's voiceprints (``voices/*.json``, sealed ``*.json.age``) as they are
    (owner-only, synced); a half-written one (a hidden partial) is left behind."""
    source = study_dir / "voices"
    prints = sorted(p for p in source.glob("*.json*") if p.is_file()
                    and not p.name.startswith(".") and p.name.endswith((".json", ".json.age"))
                    ) if source.is_dir() else []
    if not prints:
        return 0
    target = work / "voices"
    target.mkdir(mode=0o700, exist_ok=True)
    for path in prints:
        data = path.read_bytes()
        fd = os.open(target / path.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    fsync_dir(target)
    return len(prints)


def _verify_database(study: Study, copy: Path) -> None:
    """The copy must pass ``PRAGMA integrity_check`` (under the study's key if encrypted)."""
    if study.ledger.encrypted:
        from verbatim.vault import cipherdb, session

        conn = cipherdb.connect(copy, session.keys_for(study.path).db_keys, timeout=10.0)
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    else:
        plain = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            result = plain.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            plain.close()
        conn = None
    if conn is not None:
        conn.close()
    if result != "ok":
        raise StudyError(f"the copied database did not verify ({result}); no backup was made")


def _backup_file(study: Study, dest: Path) -> BackupReport:
    if dest.exists():
        raise StudyError(f"{dest} already exists; a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise StudyError(f"{dest.parent}: no such folder (end DEST with / to back the whole "
                         "study up into a new folder)")
    work = dest.with_name(f".{dest.name}{PARTIAL}-db")
    with contextlib.suppress(FileNotFoundError):
        work.unlink()
    try:
        study.ledger.backup_to(work)
        _verify_database(study, work)
        os.replace(work, dest)
        if study.ledger.encrypted:
            vault = work.with_name(work.name + ".vault.json")
            os.replace(vault, dest.with_name(dest.name + ".vault.json"))
        fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            work.unlink()
            work.with_name(work.name + ".vault.json").unlink()
        raise
    return BackupReport(path=dest)
