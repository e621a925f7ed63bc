"""The study store: one folder, one SQLite database, recordings that never change.

``Study`` is the API the CLI and the TUI share. Every method either reads or
runs one write transaction, so two programs can work on one study at once and
a crash never leaves half an edit. Anything a user can get wrong raises
``StudyError`` with a one-line message, before anything is changed.

``Study`` is the top of a stack of layers, one module each (see
``verbatim.study.participants``): participants, interviews, transcripts,
notes and extracts. This module adds what belongs to the study as a whole:
creating and opening it, its summary and audit trail, backups, the
pseudonymisation list and the member-check pack.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from transcript.pseudonymise import Replacements
from verbatim.errors import os_error_line
from verbatim.study import db, files, schema
from verbatim.study.errors import StudyError
from verbatim.study.ledger import Ledger, now
from verbatim.study.notes import NoteStore
from verbatim.study.values import AuditEntry

__all__ = ["DB_NAME", "STUDY_FORMAT", "Study", "StudyError"]

DB_NAME = db.DB_NAME
STUDY_FORMAT = "verbatim-study/1"


class Study(NoteStore):
    """An open study folder. Use ``Study.init`` or ``Study.open``; close it when done."""

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
        study = cls(path, Ledger(conn))
        with study.ledger.tx() as tx:
            tx.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                ("format", STUDY_FORMAT), ("name", name or path.name), ("created_at", now())])
            study.ledger.audit("study.init", "")
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
        return cls(path, Ledger(conn))

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- the study -------------------------------------------------------------

    @property
    def name(self) -> str:
        rows = self.ledger.rows("SELECT value FROM meta WHERE key = 'name'")
        return rows[0][0] if rows else self.path.name

    def info(self) -> dict[str, Any]:
        """Counts for a summary line: participants, interviews, versions, notes, extracts."""
        def count(table: str) -> int:
            return int(self.ledger.rows(f"SELECT count(*) FROM {table}")[0][0])

        locked = int(self.ledger.rows(
            "SELECT count(*) FROM interviews WHERE locked_version IS NOT NULL")[0][0])
        created = self.ledger.rows("SELECT value FROM meta WHERE key = 'created_at'")
        return {"name": self.name, "path": str(self.path),
                "created_at": created[0][0] if created else "",
                "schema": schema.SCHEMA_VERSION,
                "participants": count("participants"), "interviews": count("interviews"),
                "locked": locked, "versions": count("transcript_versions"),
                "notes": count("notes"), "extracts": count("extracts"),
                "set_aside": [p.name for p in files.set_aside_recordings(self.path)],
                "notes_to_complete": int(self.ledger.rows(
                    "SELECT count(*) FROM notes WHERE to_complete = 1")[0][0]),
                "replacements": count("replacements")}

    def audit_log(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = self.ledger.rows("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
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
        with self.ledger.tx():
            self.ledger.audit("study.backup", "", recordings=report.recordings,
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

    # ---- pseudonymisation -----------------------------------------------------

    def replacement_pairs(self) -> list[tuple[str, str]]:
        rows = self.ledger.rows(
            "SELECT original, replacement FROM replacements ORDER BY original")
        return [(r[0], r[1]) for r in rows]

    def replacements(self) -> Replacements:
        """The study's replacement list as ``transcript.pseudonymise.Replacements``."""
        return Replacements.from_pairs(self.replacement_pairs())

    def add_replacement(self, original: str, replacement: str) -> None:
        """Names -> [colleague]: applied to every pseudonymised export and pack."""
        original, replacement = original.strip(), replacement.strip()
        if not original or not replacement:
            raise StudyError("a replacement needs both the original and its replacement")
        with self.ledger.tx() as conn:
            conn.execute("INSERT INTO replacements (original, replacement) VALUES (?, ?) "
                         "ON CONFLICT (original) DO UPDATE SET replacement = excluded.replacement",
                         (original, replacement))
            count = conn.execute("SELECT count(*) FROM replacements").fetchone()[0]
            self.ledger.audit("replacement.set", "", count=count)

    # ---- member-check pack ----------------------------------------------------

    def write_pack(self, pid: str, out_dir: Path | str) -> list[Path]:
        """Write the participant's member-check pack (Markdown and Word); returns the files."""
        from verbatim.study.pack import write_pack

        return write_pack(self, pid, Path(out_dir).expanduser())
