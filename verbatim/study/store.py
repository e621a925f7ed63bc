"""The study store: one folder, one SQLite database, recordings that never change.

``Study`` is the API the CLI and the TUI share. Every method either reads or
runs one write transaction, so two programs can work on one study at once and
a crash never leaves half an edit. Anything a user can get wrong raises
``StudyError`` with a one-line message, before anything is changed.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from transcript import document
from transcript.model import Extract, Line, Note, Transcript
from transcript.notation import Profile
from transcript.pseudonymise import Replacements
from verbatim.errors import os_error_line
from verbatim.study import db, files, schema, transcript_api
from verbatim.study.errors import StudyError
from verbatim.study.values import (
    AuditEntry,
    Interview,
    Participant,
    StoredNote,
    VersionInfo,
    attributes_from_json,
)

DB_NAME = "study.sqlite"
STUDY_FORMAT = "verbatim-study/1"
PHASES = ("during", "after", "analysis")
ORIGINS = ("pipeline", "edit", "lock", "import")

PARTICIPANT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
INTERVIEW_ID = re.compile(r"^([A-Za-z][A-Za-z0-9_]{0,31})-(\d+)$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_date(value: str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not ISO_DATE.match(value):
        raise StudyError(f"{what} must be a date like 2024-05-31, not {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise StudyError(f"{what} is not a real date: {value!r}") from None
    return value


def _pack_document(doc: Transcript) -> bytes:
    """A version as stored: compact JSON (3x faster to write than indented), zlib'd (~10x)."""
    text = json.dumps(document.to_dict(doc), ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack_document(blob: bytes) -> Transcript:
    return document.loads(zlib.decompress(blob).decode("utf-8"))


class Study:
    """An open study folder. Use ``Study.init`` or ``Study.open``; close it when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()

    # ---- opening and closing -------------------------------------------------

    @classmethod
    def init(cls, path: Path | str, *, name: str | None = None) -> Study:
        """Create a new study folder (owner-only) with an empty database."""
        path = Path(path).expanduser().absolute()
        if (path / DB_NAME).exists():
            raise StudyError(f"{path} is already a study")
        if path.exists() and not path.is_dir():
            raise StudyError(f"{path} exists and is not a folder")
        if path.is_dir() and any(path.iterdir()):
            raise StudyError(f"{path} is not empty; a new study needs an empty or new folder")
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.chmod(0o700)
            (path / files.AUDIO_DIR).mkdir(mode=0o700, exist_ok=True)
            db_path = path / DB_NAME
            db_path.touch(mode=0o600)
            db_path.chmod(0o600)
            conn = db.connect(db_path)
        except OSError as exc:
            raise StudyError(os_error_line(exc, path, action="create a study in")) from exc
        schema.migrate(conn)
        study = cls(path, conn)
        with study._tx():
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                ("format", STUDY_FORMAT), ("name", name or path.name), ("created_at", now())])
            study._audit("study.init", "")
        return study

    @classmethod
    def open(cls, path: Path | str) -> Study:
        """Open an existing study; ``StudyError`` if the folder is not one."""
        path = Path(path).expanduser().absolute()
        db_path = path / DB_NAME
        if not path.is_dir():
            raise StudyError(f"{path}: no such study folder")
        if not db_path.is_file():
            raise StudyError(f"{path} is not a study (no {DB_NAME}); create one with "
                             "'verbatim study init'")
        try:
            conn = db.connect(db_path)
            version = schema.schema_version(conn)
            if version > schema.SCHEMA_VERSION:
                conn.close()
                raise StudyError(f"{path} was made by a newer verbatim (schema {version}); "
                                 "upgrade verbatim")
            if version < schema.SCHEMA_VERSION:
                schema.migrate(conn)
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            from verbatim.storage import as_storage_error

            storage = as_storage_error(exc, path)  # a full disk is not a damaged study
            if storage is not None:
                raise storage from None
            raise StudyError(f"{path} is not a study: {DB_NAME} is unreadable ({exc})") from None
        if row is None or row[0] != STUDY_FORMAT:
            conn.close()
            raise StudyError(f"{path} is not a study ({DB_NAME} has no study format record)")
        return cls(path, conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, db.transaction(self._conn) as conn:
            yield conn

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _audit(self, action: str, target: str, **detail: Any) -> None:
        """Record an action (inside the caller's transaction): metadata, never text."""
        self._conn.execute("INSERT INTO audit (at, action, target, detail) VALUES (?, ?, ?, ?)",
                           (now(), action, target, json.dumps(detail, sort_keys=True)))

    # ---- the study -------------------------------------------------------------

    @property
    def name(self) -> str:
        rows = self._rows("SELECT value FROM meta WHERE key = 'name'")
        return rows[0][0] if rows else self.path.name

    def info(self) -> dict[str, Any]:
        """Counts for a summary line: participants, interviews, versions, notes, extracts."""
        def count(table: str) -> int:
            return int(self._rows(f"SELECT count(*) FROM {table}")[0][0])

        locked = int(self._rows(
            "SELECT count(*) FROM interviews WHERE locked_version IS NOT NULL")[0][0])
        created = self._rows("SELECT value FROM meta WHERE key = 'created_at'")
        return {"name": self.name, "path": str(self.path),
                "created_at": created[0][0] if created else "",
                "schema": schema.SCHEMA_VERSION,
                "participants": count("participants"), "interviews": count("interviews"),
                "locked": locked, "versions": count("transcript_versions"),
                "notes": count("notes"), "extracts": count("extracts"),
                "set_aside": [p.name for p in files.set_aside_recordings(self.path)],
                "notes_to_complete": int(self._rows(
                    "SELECT count(*) FROM notes WHERE to_complete = 1")[0][0]),
                "replacements": count("replacements")}

    def audit_log(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = self._rows("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry(id=r["id"], at=r["at"], action=r["action"], target=r["target"],
                           detail=json.loads(r["detail"])) for r in rows]

    def backup(self, dest: Path | str) -> Path:
        """Back the study up; returns what was written (see ``verbatim.study.backup``).

        ``dest`` a new file name: the database alone, through SQLite's online
        backup API (consistent while others write). ``dest`` an existing folder,
        or any path ending in ``/`` (created): a complete copy of the study
        inside it (``<name>-backup-<time>/``), built aside and renamed once
        verified, which ``Study.open`` opens like the original. Missing or
        altered recordings: the rest is still backed up, the folder is named
        ``…-INCOMPLETE``, and a ``StudyError`` says which.
        """
        from verbatim.study.backup import backup

        report = backup(self, dest)
        with self._tx():
            self._audit("study.backup", "", recordings=report.recordings,
                        missing=report.missing, altered=report.altered)
        if not report.complete:
            problems = []
            if report.missing:
                problems.append(f"missing recordings: {', '.join(report.missing)}")
            if report.altered:
                problems.append(f"recordings that no longer match their checksum: "
                                f"{', '.join(report.altered)}")
            raise StudyError(f"backup written to {report.path}, but incomplete "
                             f"({'; '.join(problems)})")
        return report.path

    def _backup_database(self, dest: Path) -> None:
        try:
            fd = dest.open("xb")
            fd.close()
            dest.chmod(0o600)
            with self._lock:
                db.backup(self._conn, dest)
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise StudyError(f"cannot write {dest}: {exc.strerror or exc}") from exc

    # ---- participants ---------------------------------------------------------

    def participants(self) -> list[Participant]:
        rows = self._rows("SELECT * FROM participants ORDER BY created_at, rowid")
        return [self._participant(r) for r in rows]

    def participant(self, pid: str) -> Participant:
        rows = self._rows("SELECT * FROM participants WHERE id = ?", (pid,))
        if not rows:
            raise StudyError(f"no participant {pid!r} in this study")
        return self._participant(rows[0])

    @staticmethod
    def _participant(row: sqlite3.Row) -> Participant:
        return Participant(id=row["id"], pseudonym=row["pseudonym"],
                           attributes=attributes_from_json(row["attributes"]),
                           created_at=row["created_at"])

    def add_participant(self, pid: str, *, pseudonym: str | None = None,
                        attributes: Mapping[str, str] | None = None) -> Participant:
        """Add a participant; ids are short codes (P4), never names."""
        if not PARTICIPANT_ID.match(pid):
            raise StudyError(f"participant id {pid!r} must be a letter then letters, digits "
                             "or _ (e.g. P4), with no dash")
        attrs = {str(k).strip(): str(v).strip() for k, v in (attributes or {}).items()}
        if any(not k for k in attrs):
            raise StudyError("an attribute needs a name, e.g. --attr gender=Female")
        try:
            with self._tx() as conn:
                conn.execute("INSERT INTO participants (id, pseudonym, attributes, created_at) "
                             "VALUES (?, ?, ?, ?)",
                             (pid, pseudonym or None, json.dumps(attrs), now()))
                self._audit("participant.add", pid, attributes=sorted(attrs))
        except sqlite3.IntegrityError:
            raise StudyError(f"participant {pid!r} already exists") from None
        return self.participant(pid)

    def update_participant(self, pid: str, *, pseudonym: str | None = None,
                           attributes: Mapping[str, str] | None = None) -> Participant:
        """Change a participant's pseudonym or merge in attributes (an empty value removes)."""
        current = self.participant(pid)
        attrs = dict(current.attributes)
        for key, value in (attributes or {}).items():
            if value == "":
                attrs.pop(key, None)
            else:
                attrs[key] = value
        with self._tx() as conn:
            conn.execute("UPDATE participants SET pseudonym = ?, attributes = ? WHERE id = ?",
                         (pseudonym if pseudonym is not None else current.pseudonym,
                          json.dumps(attrs), pid))
            self._audit("participant.update", pid, attributes=sorted(attrs))
        return self.participant(pid)

    # ---- interviews -----------------------------------------------------------

    def interviews(self, pid: str | None = None) -> list[Interview]:
        if pid is None:
            rows = self._rows("SELECT * FROM interviews ORDER BY participant_id, number")
        else:
            self.participant(pid)
            rows = self._rows("SELECT * FROM interviews WHERE participant_id = ? "
                              "ORDER BY number", (pid,))
        return [self._interview(r) for r in rows]

    def interview(self, iid: str) -> Interview:
        rows = self._rows("SELECT * FROM interviews WHERE id = ?", (iid,))
        if not rows:
            raise StudyError(f"no interview {iid!r} in this study")
        return self._interview(rows[0])

    @staticmethod
    def _interview(row: sqlite3.Row) -> Interview:
        return Interview(**{key: row[key] for key in row.keys()})  # noqa: SIM118

    def add_interview(self, pid: str, audio_path: Path | str, *, number: int | None = None,
                      date: str | None = None, place: str | None = None,
                      consent_form: str | None = None, consent_date: str | None = None,
                      consent_scope: str | None = None,
                      retention_date: str | None = None) -> str:
        """Add an interview with its recording; returns its id (P4-1).

        The recording is checked (it must be audio), copied into ``audio/`` under
        the interview id with its sha256, and made read-only. Marks tapped live
        during the recording (the capture sidecar) become notes to complete.
        """
        self.participant(pid)
        source = Path(audio_path).expanduser()
        duration = files.probe_duration(source)
        _check_date(date, "--date")
        _check_date(consent_date, "consent date")
        _check_date(retention_date, "retention date")
        if number is not None and number < 1:
            raise StudyError("an interview number starts at 1")
        if number is not None and self._rows("SELECT 1 FROM interviews WHERE id = ?",
                                             (f"{pid}-{number}",)):
            raise StudyError(f"interview {pid}-{number} already exists")
        sidecar = _read_sidecar(source)
        segments = len(getattr(sidecar, "segments", ()) or ())
        if segments > 1:
            raise StudyError(f"{source} is the first of {segments} segment files of one long "
                             "recording; join them into one file before adding it")
        if date is None:
            date = _recording_date(source, sidecar)
        marks = _live_marks(sidecar)
        files.clean_stale_partials(self.path)
        staged = files.stage(source, self.path)  # the slow copy, outside the write lock
        published: str | None = None
        try:
            with self._tx() as conn:
                # the id is chosen and the file renamed under the write lock, so two
                # programs adding interviews at once can never take the same name
                if number is None:
                    number = int(conn.execute(
                        "SELECT coalesce(max(number), 0) + 1 FROM interviews "
                        "WHERE participant_id = ?", (pid,)).fetchone()[0])
                iid = f"{pid}-{number}"
                if conn.execute("SELECT 1 FROM interviews WHERE id = ?", (iid,)).fetchone():
                    raise StudyError(f"interview {iid} already exists")
                name = files.stored_name(iid, source)
                # a file left by an import that crashed before its commit belongs to no one
                files.set_aside_orphan(self.path, name)
                stored = files.publish(staged, self.path, name).stat()
                published = name
                conn.execute(
                    "INSERT INTO interviews (id, participant_id, number, date, place, audio_file,"
                    " audio_sha256, audio_duration, consent_form, consent_date, consent_scope,"
                    " retention_date, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (iid, pid, number, date, place, name, staged.sha256, duration,
                     consent_form, consent_date, consent_scope, retention_date, now()))
                for at, text in marks:
                    conn.execute(
                        "INSERT INTO notes (interview_id, start, \"end\", phase, moment,"
                        " written_at, source, to_complete) VALUES (?,?,?,?,?,?,?,1)",
                        (iid, at, at, "during", text, now(), "live-mark"))
                self._audit("interview.add", iid, sha256=staged.sha256,
                            duration=round(duration, 3), live_marks=len(marks),
                            size=stored.st_size, mtime_ns=stored.st_mtime_ns)
        except BaseException:
            if published is not None:
                files.remove(self.path, published)
            raise
        finally:
            staged.discard()
        return iid

    def update_interview(self, iid: str, **fields: str | None) -> Interview:
        """Set date, place, consent (form, date, scope) or retention date."""
        allowed = {"date", "place", "consent_form", "consent_date", "consent_scope",
                   "retention_date"}
        unknown = set(fields) - allowed
        if unknown:
            raise StudyError(f"cannot set {', '.join(sorted(unknown))} on an interview")
        self.interview(iid)
        for key in ("date", "consent_date", "retention_date"):
            if key in fields:
                _check_date(fields[key], key.replace("_", " "))
        if not fields:
            return self.interview(iid)
        sets = ", ".join(f"{key} = ?" for key in sorted(fields))
        with self._tx() as conn:
            conn.execute(f"UPDATE interviews SET {sets} WHERE id = ?",
                         (*[fields[k] for k in sorted(fields)], iid))
            self._audit("interview.update", iid, fields=sorted(fields))
        return self.interview(iid)

    def audio_path(self, iid: str) -> Path:
        """The interview's stored recording (read-only); StudyError if deleted or absent."""
        interview = self.interview(iid)
        if not interview.audio_file:
            raise StudyError(f"interview {iid} has no recording")
        if interview.audio_deleted_at:
            raise StudyError(f"the recording of {iid} was deleted on "
                             f"{interview.audio_deleted_at[:10]} (retention)")
        path = files.audio_path(self.path, interview.audio_file)
        if not path.is_file():
            raise StudyError(f"the recording of {iid} is missing from {path.parent}")
        return path

    def verify_audio(self, iid: str) -> bool:
        """Whether the stored recording still has the checksum it was imported with."""
        interview = self.interview(iid)
        return files.sha256_file(self.audio_path(iid)) == interview.audio_sha256

    # ---- transcripts: versions, undo, redo, lock -----------------------------

    def transcript(self, iid: str) -> Transcript | None:
        """The current version of the interview's transcript (None before transcription)."""
        interview = self.interview(iid)
        if interview.current_version is None:
            return None
        return self.transcript_version(iid, interview.current_version)

    def transcript_version(self, iid: str, version: int) -> Transcript:
        rows = self._rows("SELECT document FROM transcript_versions WHERE interview_id = ? "
                          "AND version = ?", (iid, version))
        if not rows:
            raise StudyError(f"interview {iid} has no transcript version {version}")
        return _unpack_document(rows[0][0])

    def versions(self, iid: str) -> list[VersionInfo]:
        interview = self.interview(iid)
        rows = self._rows("SELECT version, parent, origin, description, created_at "
                          "FROM transcript_versions WHERE interview_id = ? ORDER BY version",
                          (iid,))
        return [VersionInfo(version=r["version"], parent=r["parent"], origin=r["origin"],
                            description=r["description"], created_at=r["created_at"],
                            current=r["version"] == interview.current_version,
                            locked=r["version"] == interview.locked_version) for r in rows]

    def save_transcript(self, iid: str, doc: Transcript, *, origin: str = "edit",
                        description: str = "") -> int:
        """Save ``doc`` as a new version after the current one; returns its number.

        Saving after an undo starts a new branch: the undone versions stay in
        the history (and the audit) but redo now follows the new version.
        """
        if origin not in ORIGINS:
            raise StudyError(f"unknown transcript origin {origin!r}")
        blob = _pack_document(doc)
        with self._tx() as conn:
            return self._insert_version(conn, iid, blob, origin, description,
                                        words=len(doc.words))

    def _insert_version(self, conn: sqlite3.Connection, iid: str, blob: bytes, origin: str,
                        description: str, **detail: Any) -> int:
        row = conn.execute("SELECT current_version FROM interviews WHERE id = ?",
                           (iid,)).fetchone()
        if row is None:
            raise StudyError(f"no interview {iid!r} in this study")
        parent = row[0]
        latest = conn.execute("SELECT coalesce(max(version), 0) FROM transcript_versions "
                              "WHERE interview_id = ?", (iid,)).fetchone()[0]
        version = int(latest) + 1
        conn.execute("INSERT INTO transcript_versions (interview_id, version, parent, origin,"
                     " description, created_at, document) VALUES (?,?,?,?,?,?,?)",
                     (iid, version, parent, origin, description, now(), blob))
        conn.execute("UPDATE interviews SET current_version = ? WHERE id = ?", (version, iid))
        self._audit("transcript.save", iid, version=version, parent=parent, origin=origin,
                    bytes=len(blob), **detail)
        return version

    def can_undo(self, iid: str) -> bool:
        return self._undo_target(iid) is not None

    def can_redo(self, iid: str) -> bool:
        return self._redo_target(iid) is not None

    def _undo_target(self, iid: str) -> int | None:
        current = self.interview(iid).current_version
        if current is None:
            return None
        rows = self._rows("SELECT parent FROM transcript_versions WHERE interview_id = ? "
                          "AND version = ?", (iid, current))
        return rows[0][0] if rows else None

    def _redo_target(self, iid: str) -> int | None:
        current = self.interview(iid).current_version
        if current is None:
            return None
        rows = self._rows("SELECT max(version) FROM transcript_versions WHERE interview_id = ?"
                          " AND parent = ?", (iid, current))
        return rows[0][0] if rows and rows[0][0] is not None else None

    def undo(self, iid: str) -> Transcript | None:
        """Step back to the previous version; returns it, or None when there is none."""
        return self._move(iid, self._undo_target(iid), "transcript.undo")

    def redo(self, iid: str) -> Transcript | None:
        """Step forward to the version last undone; returns it, or None when there is none."""
        return self._move(iid, self._redo_target(iid), "transcript.redo")

    def _move(self, iid: str, target: int | None, action: str) -> Transcript | None:
        if target is None:
            return None
        with self._tx() as conn:
            before = conn.execute("SELECT current_version FROM interviews WHERE id = ?",
                                  (iid,)).fetchone()[0]
            conn.execute("UPDATE interviews SET current_version = ? WHERE id = ?",
                         (target, iid))
            self._audit(action, iid, version=target, previous=before)
        return self.transcript_version(iid, target)

    def lock(self, iid: str, *, profile: str | Profile = "paper", width: int = 80) -> Transcript:
        """Freeze the current transcript's line numbers so extracts can cite them.

        The locked document is saved as a new version and remembered; later
        edits make later versions, and citations keep resolving against this one.
        """
        interview = self.interview(iid)
        if interview.locked:
            raise StudyError(f"{iid} is already locked (version {interview.locked_version}); "
                             "its line numbers are frozen")
        doc = self.transcript(iid)
        if doc is None:
            raise StudyError(f"{iid} has no transcript yet; run 'verbatim transcribe {iid}'")
        if not doc.words and not doc.lines:
            raise StudyError(f"{iid}: the transcript is empty; there is nothing to lock")
        try:
            locked = transcript_api.lock(doc, profile=profile, width=width)
        except ValueError as exc:
            raise StudyError(f"cannot lock {iid}: {exc}") from None
        blob = _pack_document(locked)
        with self._tx() as conn:
            version = self._insert_version(conn, iid, blob, "lock", "line numbers frozen",
                                           lines=len(locked.lines), width=width)
            conn.execute("UPDATE interviews SET locked_version = ? WHERE id = ?",
                         (version, iid))
            self._audit("transcript.lock", iid, version=version, lines=len(locked.lines))
        return locked

    def locked_transcript(self, iid: str) -> Transcript:
        interview = self.interview(iid)
        if interview.locked_version is None:
            raise StudyError(f"{iid} is not locked yet; run 'verbatim lock {iid}' first")
        return self.transcript_version(iid, interview.locked_version)

    def locked_lines(self, iid: str) -> tuple[Line, ...]:
        return self.locked_transcript(iid).lines

    def lines(self, iid: str, first: int, last: int) -> tuple[Line, ...]:
        """Lines ``first``..``last`` of the locked transcript; StudyError if outside it."""
        doc = self.locked_transcript(iid)
        if first > last:
            raise StudyError(f"line range {first}-{last} runs backwards")
        try:
            picked = transcript_api.lines_in_range(doc.lines, first, last)
        except ValueError:
            picked = ()
        if not picked:
            total = len(doc.lines)
            raise StudyError(f"lines {first}-{last} are outside {iid}'s transcript "
                             f"(lines 1-{total})")
        return picked

    # ---- reflexive notes ------------------------------------------------------

    def add_note(self, iid: str, note: Note, *, first_line: int | None = None,
                 last_line: int | None = None, source: str = "author",
                 to_complete: bool = False) -> StoredNote:
        """Add a three-part reflexive note anchored to ``note.start``..``note.end``."""
        self.interview(iid)
        _check_note(note)
        written_at = note.written_at or now()
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO notes (interview_id, start, \"end\", first_line, last_line, phase,"
                " moment, response, understanding, written_at, source, to_complete)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (iid, note.start, note.end, first_line, last_line, note.phase, note.moment,
                 note.response, note.understanding, written_at, source, int(to_complete)))
            note_id = int(cursor.lastrowid or 0)
            self._audit("note.add", iid, note=note_id, phase=note.phase)
        return self.note(note_id)

    def add_note_at_lines(self, iid: str, first: int, last: int, *, phase: str, moment: str,
                          response: str = "", understanding: str = "") -> StoredNote:
        """A note anchored to lines of the locked transcript (times taken from the lines)."""
        picked = self.lines(iid, first, last)
        note = Note(start=picked[0].start, end=picked[-1].end, phase=phase, moment=moment,
                    response=response, understanding=understanding)
        return self.add_note(iid, note, first_line=first, last_line=last)

    def note(self, note_id: int) -> StoredNote:
        rows = self._rows("SELECT * FROM notes WHERE id = ?", (note_id,))
        if not rows:
            raise StudyError(f"no note {note_id}")
        return _stored_note(rows[0])

    def notes(self, iid: str | None = None) -> list[StoredNote]:
        """Notes of one interview (or all), in recording order."""
        if iid is None:
            rows = self._rows("SELECT * FROM notes ORDER BY interview_id, start, id")
        else:
            self.interview(iid)
            rows = self._rows("SELECT * FROM notes WHERE interview_id = ? ORDER BY start, id",
                              (iid,))
        return [_stored_note(r) for r in rows]

    def update_note(self, note_id: int, *, moment: str | None = None,
                    response: str | None = None, understanding: str | None = None,
                    phase: str | None = None) -> StoredNote:
        """Rewrite parts of a note; a live mark counts as complete once it has a response."""
        current = self.note(note_id)
        updated = replace(current,
                          moment=current.moment if moment is None else moment,
                          response=current.response if response is None else response,
                          understanding=(current.understanding if understanding is None
                                         else understanding),
                          phase=current.phase if phase is None else phase)
        _check_note(updated)
        complete = bool(updated.response or updated.understanding)
        with self._tx() as conn:
            conn.execute("UPDATE notes SET moment = ?, response = ?, understanding = ?, "
                         "phase = ?, to_complete = ? WHERE id = ?",
                         (updated.moment, updated.response, updated.understanding,
                          updated.phase, int(current.to_complete and not complete), note_id))
            self._audit("note.update", current.interview, note=note_id)
        return self.note(note_id)

    def delete_note(self, note_id: int) -> None:
        current = self.note(note_id)
        with self._tx() as conn:
            conn.execute("DELETE FROM notes WHERE id = ?", (note_id,))
            self._audit("note.delete", current.interview, note=note_id)

    # ---- extracts -------------------------------------------------------------

    def add_extract(self, iid: str, first: int, last: int, *, analysis: str = "") -> Extract:
        """Number a line range of the locked transcript as the study's next extract."""
        interview = self.interview(iid)
        self.lines(iid, first, last)  # refuses an unlocked transcript or a range outside it
        with self._tx() as conn:
            number = int(conn.execute("SELECT coalesce(max(number), 0) + 1 FROM extracts")
                         .fetchone()[0])
            conn.execute("INSERT INTO extracts (number, interview_id, version, first_line,"
                         " last_line, analysis, created_at) VALUES (?,?,?,?,?,?,?)",
                         (number, iid, interview.locked_version, first, last, analysis, now()))
            self._audit("extract.add", iid, extract=number, first=first, last=last)
        return self.extract(number)

    def extract(self, number: int) -> Extract:
        rows = self._rows("SELECT * FROM extracts WHERE number = ?", (number,))
        if not rows:
            raise StudyError(f"no extract {number} in this study")
        return self._extract(rows[0])

    def extracts(self, pid: str | None = None, *,
                 interview: str | None = None) -> list[Extract]:
        """The study's extracts in number order (of one participant or interview if given)."""
        if interview is not None:
            self.interview(interview)
            rows = self._rows("SELECT * FROM extracts WHERE interview_id = ? ORDER BY number",
                              (interview,))
        elif pid is not None:
            self.participant(pid)
            rows = self._rows("SELECT e.* FROM extracts e JOIN interviews i "
                              "ON e.interview_id = i.id WHERE i.participant_id = ? "
                              "ORDER BY e.number", (pid,))
        else:
            rows = self._rows("SELECT * FROM extracts ORDER BY number")
        return [self._extract(r) for r in rows]

    def _extract(self, row: sqlite3.Row) -> Extract:
        interview = self.interview(row["interview_id"])
        participant = self.participant(interview.participant_id)
        doc = self.transcript_version(interview.id, row["version"])
        picked = transcript_api.lines_in_range(doc.lines, row["first_line"], row["last_line"])
        return transcript_api.make_extract(
            number=row["number"], interview=interview.id, participant=participant.id,
            role=participant.role, first=row["first_line"], last=row["last_line"],
            text=transcript_api.render_lines(picked, doc), analysis=row["analysis"])

    def set_extract_analysis(self, number: int, analysis: str) -> Extract:
        extract = self.extract(number)
        with self._tx() as conn:
            conn.execute("UPDATE extracts SET analysis = ? WHERE number = ?", (analysis, number))
            self._audit("extract.analysis", extract.interview, extract=number)
        return self.extract(number)

    # ---- pseudonymisation -----------------------------------------------------

    def replacement_pairs(self) -> list[tuple[str, str]]:
        rows = self._rows("SELECT original, replacement FROM replacements ORDER BY original")
        return [(r[0], r[1]) for r in rows]

    def replacements(self) -> Replacements:
        """The study's replacement list as ``transcript.pseudonymise.Replacements``."""
        return Replacements.from_pairs(self.replacement_pairs())

    def add_replacement(self, original: str, replacement: str) -> None:
        """Names -> [colleague]: applied to every pseudonymised export and pack."""
        original, replacement = original.strip(), replacement.strip()
        if not original or not replacement:
            raise StudyError("a replacement needs both the original and its replacement")
        with self._tx() as conn:
            conn.execute("INSERT INTO replacements (original, replacement) VALUES (?, ?) "
                         "ON CONFLICT (original) DO UPDATE SET replacement = excluded.replacement",
                         (original, replacement))
            count = conn.execute("SELECT count(*) FROM replacements").fetchone()[0]
            self._audit("replacement.set", "", count=count)

    # ---- retention ------------------------------------------------------------

    def retention_due(self, *, today: str | None = None) -> list[Interview]:
        """Interviews whose recording is still stored and whose retention date has passed."""
        day = today or datetime.now(UTC).date().isoformat()
        rows = self._rows("SELECT * FROM interviews WHERE retention_date IS NOT NULL AND "
                          "retention_date <= ? AND audio_deleted_at IS NULL AND "
                          "audio_file IS NOT NULL ORDER BY retention_date, id", (day,))
        return [self._interview(r) for r in rows]

    def delete_audio(self, iid: str, *, today: str | None = None) -> None:
        """Delete a recording whose retention date has passed; the audit keeps its sha256."""
        interview = self.interview(iid)
        if not interview.has_audio:
            raise StudyError(f"{iid} has no stored recording to delete")
        day = today or datetime.now(UTC).date().isoformat()
        if interview.retention_date is None:
            raise StudyError(f"{iid} has no retention date; set one before deleting its audio")
        if interview.retention_date > day:
            raise StudyError(f"{iid} is to be kept until {interview.retention_date}; "
                             "its recording was not deleted")
        assert interview.audio_file is not None
        with self._tx() as conn:
            conn.execute("UPDATE interviews SET audio_deleted_at = ? WHERE id = ?",
                         (now(), iid))
            self._audit("audio.delete", iid, sha256=interview.audio_sha256,
                        retention_date=interview.retention_date)
        files.remove(self.path, interview.audio_file)

    # ---- member-check pack ----------------------------------------------------

    def write_pack(self, pid: str, out_dir: Path | str) -> list[Path]:
        """Write the participant's member-check pack (Markdown and Word); returns the files."""
        from verbatim.study.pack import write_pack

        return write_pack(self, pid, Path(out_dir).expanduser())


# A part of a reflexive note is a paragraph or a page, not a document: 20,000
# characters (about 3,000 words) leaves room and stops a pasted file.
MAX_NOTE_PART = 20_000


def _check_note(note: Note) -> None:
    if note.phase not in PHASES:
        raise StudyError(f"phase must be one of {', '.join(PHASES)}, not {note.phase!r}")
    if note.start < 0 or note.end < note.start:
        raise StudyError(f"a note's time range must run forwards from 0 "
                         f"(got {note.start}-{note.end})")
    for part in ("moment", "response", "understanding"):
        size = len(getattr(note, part))
        if size > MAX_NOTE_PART:
            raise StudyError(f"the note's {part} is {size:,} characters; a part may hold "
                             f"{MAX_NOTE_PART:,}: shorten it or split it into several notes")


def _stored_note(row: sqlite3.Row) -> StoredNote:
    return StoredNote(start=row["start"], end=row["end"], phase=row["phase"],
                      moment=row["moment"], response=row["response"],
                      understanding=row["understanding"], written_at=row["written_at"],
                      id=row["id"], interview=row["interview_id"], first_line=row["first_line"],
                      last_line=row["last_line"], source=row["source"],
                      to_complete=bool(row["to_complete"]))


def _read_sidecar(source: Path) -> Any | None:
    """The capture sidecar beside a recording, if capture is installed and one exists."""
    try:
        from capture.sidecar import read_sidecar, sidecar_path
    except ImportError:
        return None
    try:
        if not Path(sidecar_path(source)).exists():
            return None
        return read_sidecar(source)
    except Exception:
        return None  # a damaged sidecar must not block importing the recording itself


def _live_marks(sidecar: Any | None) -> list[tuple[float, str]]:
    if sidecar is None:
        return []
    marks = getattr(sidecar, "marks", None) or []
    out = []
    for mark in marks:
        text = str(getattr(mark, "text", "") or "").strip() or "marked during the interview"
        out.append((max(0.0, float(getattr(mark, "time", 0.0))), text))
    return out


def _recording_date(source: Path, sidecar: Any | None) -> str:
    started = getattr(sidecar, "started_at", None) if sidecar is not None else None
    if isinstance(started, str) and ISO_DATE.match(started[:10]):
        return started[:10]
    if isinstance(started, datetime):
        return started.date().isoformat()
    return datetime.fromtimestamp(source.stat().st_mtime, UTC).date().isoformat()
