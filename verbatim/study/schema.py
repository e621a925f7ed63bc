"""The study schema and its migrations, versioned by ``PRAGMA user_version``.

Each migration is a list of statements run in one transaction together with
the version bump, so a study is never left half-migrated. Add a migration by
appending to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

from verbatim.study.db import transaction

_V1 = [
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL)""",
    """CREATE TABLE participants (
        id TEXT PRIMARY KEY,
        pseudonym TEXT,
        attributes TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL)""",
    """CREATE TABLE interviews (
        id TEXT PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id),
        number INTEGER NOT NULL,
        date TEXT,
        place TEXT,
        audio_file TEXT,
        audio_sha256 TEXT,
        audio_duration REAL,
        audio_deleted_at TEXT,
        consent_form TEXT,
        consent_date TEXT,
        consent_scope TEXT,
        retention_date TEXT,
        current_version INTEGER,
        locked_version INTEGER,
        created_at TEXT NOT NULL,
        UNIQUE (participant_id, number))""",
    """CREATE TABLE transcript_versions (
        interview_id TEXT NOT NULL REFERENCES interviews(id),
        version INTEGER NOT NULL,
        parent INTEGER,
        origin TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        document BLOB NOT NULL,
        PRIMARY KEY (interview_id, version))""",
    """CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        interview_id TEXT NOT NULL REFERENCES interviews(id),
        start REAL NOT NULL,
        "end" REAL NOT NULL,
        first_line INTEGER,
        last_line INTEGER,
        phase TEXT NOT NULL,
        moment TEXT NOT NULL DEFAULT '',
        response TEXT NOT NULL DEFAULT '',
        understanding TEXT NOT NULL DEFAULT '',
        written_at TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'author',
        to_complete INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE extracts (
        number INTEGER PRIMARY KEY,
        interview_id TEXT NOT NULL REFERENCES interviews(id),
        version INTEGER NOT NULL,
        first_line INTEGER NOT NULL,
        last_line INTEGER NOT NULL,
        analysis TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL)""",
    """CREATE TABLE replacements (
        original TEXT PRIMARY KEY,
        replacement TEXT NOT NULL)""",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}')""",
    "CREATE INDEX notes_by_interview ON notes (interview_id)",
    "CREATE INDEX extracts_by_interview ON extracts (interview_id)",
]

# v2: a version may be a delta against its ``base`` (verbatim.study.versions); the
# editor's numbered lines of the version last shown, so a long transcript opens at once
_V2 = ["ALTER TABLE transcript_versions ADD COLUMN base INTEGER",
       """CREATE TABLE rendered_lines (
        interview_id TEXT PRIMARY KEY REFERENCES interviews(id),
        version INTEGER NOT NULL,
        layout TEXT NOT NULL,
        lines BLOB NOT NULL)"""]

# v3: an extract keeps its quoted text (its locked version never changes), so listing
# extracts reads rows instead of decoding a transcript per extract; NULL for older rows
# until they are next listed
_V3 = ["ALTER TABLE extracts ADD COLUMN text TEXT"]

MIGRATIONS: list[list[str]] = [_V1, _V2, _V3]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to ``SCHEMA_VERSION``; returns the version it started at."""
    start = schema_version(conn)
    for version in range(start, SCHEMA_VERSION):
        with transaction(conn):
            # another process may have migrated while we waited for the write lock
            if schema_version(conn) != version:
                continue
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
    return start
