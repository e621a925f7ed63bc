"""The store's second layer: interviews and the recordings they were made from.

An interview belongs to a participant and owns one recording, copied into
``audio/`` on import, checksummed and made read-only, with its consent and
retention record. Importing (the slow copy outside the write lock, the id
chosen and the file published inside it) and deleting a recording once its
retention date has passed both live here, next to the table they change.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from verbatim.study import files, livemarks
from verbatim.study.errors import StudyError
from verbatim.study.ledger import now
from verbatim.study.participants import ParticipantStore
from verbatim.study.values import Interview

INTERVIEW_FIELDS = frozenset({"date", "place", "consent_form", "consent_date", "consent_scope",
                              "retention_date"})
"""What ``update_interview`` may set: the record, never the recording or its versions."""


def check_date(value: str | None, what: str) -> str | None:
    """``value`` if it is a real ISO date (or None when empty); StudyError naming ``what``."""
    if value is None or value == "":
        return None
    if not livemarks.ISO_DATE.match(value):
        raise StudyError(f"{what} must be a date like 2024-05-31, not {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise StudyError(f"{what} is not a real date: {value!r}") from None
    return value


class InterviewStore(ParticipantStore):
    """An open study's interviews and their stored recordings."""

    def interviews(self, pid: str | None = None) -> list[Interview]:
        if pid is None:
            rows = self.ledger.rows("SELECT * FROM interviews ORDER BY participant_id, number")
        else:
            self.participant(pid)
            rows = self.ledger.rows("SELECT * FROM interviews WHERE participant_id = ? "
                                    "ORDER BY number", (pid,))
        return [_interview(r) for r in rows]

    def interview(self, iid: str) -> Interview:
        rows = self.ledger.rows("SELECT * FROM interviews WHERE id = ?", (iid,))
        if not rows:
            raise StudyError(f"no interview {iid!r} in this study")
        return _interview(rows[0])

    def add_interview(self, pid: str, audio_path: Path | str, *, number: int | None = None,
                      date: str | None = None, place: str | None = None,
                      consent_form: str | None = None, consent_date: str | None = None,
                      consent_scope: str | None = None,
                      retention_date: str | None = None, sidecar: Any = None) -> str:
        """Add an interview with its recording; returns its id (P4-1).

        The recording is checked (it must be audio), copied into ``audio/`` under
        the interview id with its sha256, and made read-only. Marks tapped live
        during the recording (the capture sidecar) become notes to complete.
        ``sidecar``: the recording's capture sidecar when it is not beside it
        (a recording joined in memory); by default the one beside it is read.
        """
        self.participant(pid)
        source = Path(audio_path).expanduser()
        duration = files.probe_duration(source)
        check_date(date, "--date")
        check_date(consent_date, "consent date")
        check_date(retention_date, "retention date")
        if number is not None and number < 1:
            raise StudyError("an interview number starts at 1")
        if number is not None and self.ledger.rows("SELECT 1 FROM interviews WHERE id = ?",
                                                   (f"{pid}-{number}",)):
            raise StudyError(f"interview {pid}-{number} already exists")
        if sidecar is None:
            sidecar = livemarks.read_sidecar(source)
        segments = livemarks.segment_count(sidecar)
        if segments > 1:
            raise StudyError(f"{source} is the first of {segments} segment files of one long "
                             "recording; join them into one file before adding it")
        if date is None:
            date = livemarks.recording_date(source, sidecar)
        marks = livemarks.live_marks(sidecar)
        from verbatim.study.integrity import clean_stale_partials

        clean_stale_partials(self.path)
        staged = files.stage(source, self.path)  # the slow copy, outside the write lock
        published: str | None = None
        try:
            with self.ledger.tx() as conn:
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
                for mark in marks:
                    conn.execute(
                        "INSERT INTO notes (interview_id, start, \"end\", phase, moment,"
                        " written_at, source, to_complete) VALUES (?,?,?,?,?,?,?,1)",
                        (iid, mark.start, mark.end, "during", mark.text,
                         mark.written_at or now(), "live-mark"))
                self.ledger.audit("interview.add", iid, sha256=staged.sha256,
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
        unknown = set(fields) - INTERVIEW_FIELDS
        if unknown:
            raise StudyError(f"cannot set {', '.join(sorted(unknown))} on an interview")
        self.interview(iid)
        for key in ("date", "consent_date", "retention_date"):
            if key in fields:
                check_date(fields[key], key.replace("_", " "))
        if not fields:
            return self.interview(iid)
        sets = ", ".join(f"{key} = ?" for key in sorted(fields))
        with self.ledger.tx() as conn:
            conn.execute(f"UPDATE interviews SET {sets} WHERE id = ?",
                         (*[fields[k] for k in sorted(fields)], iid))
            self.ledger.audit("interview.update", iid, fields=sorted(fields))
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

    # ---- retention ------------------------------------------------------------

    def retention_due(self, *, today: str | None = None) -> list[Interview]:
        """Interviews whose recording is still stored and whose retention date has passed."""
        day = today or datetime.now(UTC).date().isoformat()
        rows = self.ledger.rows(
            "SELECT * FROM interviews WHERE retention_date IS NOT NULL AND "
            "retention_date <= ? AND audio_deleted_at IS NULL AND "
            "audio_file IS NOT NULL ORDER BY retention_date, id", (day,))
        return [_interview(r) for r in rows]

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
        with self.ledger.tx() as conn:
            conn.execute("UPDATE interviews SET audio_deleted_at = ? WHERE id = ?",
                         (now(), iid))
            self.ledger.audit("audio.delete", iid, sha256=interview.audio_sha256,
                              retention_date=interview.retention_date)
        files.remove(self.path, interview.audio_file)


def _interview(row: sqlite3.Row) -> Interview:
    return Interview(**{key: row[key] for key in row.keys()})  # noqa: SIM118
