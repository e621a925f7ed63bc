"""The store's third layer: an interview's transcript as a history of versions.

Every save, lock, undo and redo is one transaction on ``transcript_versions``
and the interview's ``current_version``/``locked_version``. How a version is
packed (a snapshot or a delta) is ``verbatim.study.versions``; this module
decides which versions exist, which one is current, and which one is locked
so that extracts can cite its line numbers forever.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from transcript.lines import lines_in_range
from transcript.lines import lock as lock_lines
from transcript.model import Line, Transcript
from transcript.notation import Profile
from verbatim.study import versions
from verbatim.study.errors import StudyError
from verbatim.study.interviews import InterviewStore
from verbatim.study.ledger import Ledger, now
from verbatim.study.values import VersionInfo

ORIGINS = ("pipeline", "edit", "lock", "import")


class TranscriptStore(InterviewStore):
    """An open study's transcript versions: save, undo, redo, lock, and the locked lines."""

    def __init__(self, path: Path, ledger: Ledger) -> None:
        super().__init__(path, ledger)
        self._versions = versions.VersionCache()
        """The last few decoded versions: the base of the next delta, undo and redo."""

    def transcript(self, iid: str) -> Transcript | None:
        """The current version of the interview's transcript (None before transcription)."""
        interview = self.interview(iid)
        if interview.current_version is None:
            return None
        return self.transcript_version(iid, interview.current_version)

    def transcript_version(self, iid: str, version: int) -> Transcript:
        def fetch(at: int) -> tuple[int | None, bytes]:
            rows = self.ledger.rows("SELECT base, document FROM transcript_versions "
                                    "WHERE interview_id = ? AND version = ?", (iid, at))
            if not rows:
                raise StudyError(f"interview {iid} has no transcript version {at}")
            return rows[0][0], rows[0][1]

        return versions.build(version, fetch, self._versions, iid)

    def versions(self, iid: str) -> list[VersionInfo]:
        interview = self.interview(iid)
        rows = self.ledger.rows("SELECT version, parent, origin, description, created_at "
                                "FROM transcript_versions WHERE interview_id = ? "
                                "ORDER BY version", (iid,))
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
        with self.ledger.tx() as conn:
            version = self._insert_version(conn, iid, doc, origin, description,
                                           words=len(doc.words))
        self._versions.put(iid, version, doc)  # only once committed: numbers are never reused
        return version

    def _insert_version(self, conn: sqlite3.Connection, iid: str, doc: Transcript,
                        origin: str, description: str, **detail: Any) -> int:
        """Store ``doc`` after the current version: a delta when its parent is at hand."""
        row = conn.execute("SELECT current_version FROM interviews WHERE id = ?",
                           (iid,)).fetchone()
        if row is None:
            raise StudyError(f"no interview {iid!r} in this study")
        parent = row[0]
        latest = conn.execute("SELECT coalesce(max(version), 0) FROM transcript_versions "
                              "WHERE interview_id = ?", (iid,)).fetchone()[0]
        version = int(latest) + 1
        base = parent if parent is not None and _delta_depth(conn, iid, parent) < \
            versions.SNAPSHOT_EVERY else None
        parent_doc = self._versions.get(iid, base) if base is not None else None
        if parent_doc is None:
            base, blob = None, versions.pack_document(doc)
        else:
            blob = versions.pack_delta(versions.diff(parent_doc, doc))
        conn.execute("INSERT INTO transcript_versions (interview_id, version, parent, origin,"
                     " description, created_at, document, base) VALUES (?,?,?,?,?,?,?,?)",
                     (iid, version, parent, origin, description, now(), blob, base))
        conn.execute("UPDATE interviews SET current_version = ? WHERE id = ?", (version, iid))
        self.ledger.audit("transcript.save", iid, version=version, parent=parent, origin=origin,
                          bytes=len(blob), delta=base is not None, **detail)
        return version

    def rendered_lines(self, iid: str, layout: str) -> tuple[int, tuple[Line, ...]] | None:
        """The numbered lines last kept for the current version in ``layout``, if any."""
        rows = self.ledger.rows(
            "SELECT r.version, r.lines FROM rendered_lines r JOIN interviews i "
            "ON i.id = r.interview_id AND i.current_version = r.version "
            "WHERE r.interview_id = ? AND r.layout = ?", (iid, layout))
        if not rows:
            return None
        return int(rows[0][0]), versions.unpack_lines(rows[0][1])

    def keep_rendered_lines(self, iid: str, version: int, layout: str,
                            lines: tuple[Line, ...]) -> None:
        """Remember a version's numbered lines (one row per interview, replaced)."""
        blob = versions.pack_lines(lines)
        with self.ledger.tx() as conn:
            conn.execute("INSERT INTO rendered_lines (interview_id, version, layout, lines) "
                         "VALUES (?, ?, ?, ?) ON CONFLICT (interview_id) DO UPDATE SET "
                         "version = excluded.version, layout = excluded.layout, "
                         "lines = excluded.lines", (iid, version, layout, blob))

    def current_version(self, iid: str) -> int | None:
        return self.interview(iid).current_version

    # ---- undo and redo --------------------------------------------------------

    def can_undo(self, iid: str) -> bool:
        return self._undo_target(iid) is not None

    def can_redo(self, iid: str) -> bool:
        return self._redo_target(iid) is not None

    def _undo_target(self, iid: str) -> int | None:
        current = self.interview(iid).current_version
        if current is None:
            return None
        rows = self.ledger.rows("SELECT parent FROM transcript_versions WHERE interview_id = ? "
                                "AND version = ?", (iid, current))
        return rows[0][0] if rows else None

    def _redo_target(self, iid: str) -> int | None:
        current = self.interview(iid).current_version
        if current is None:
            return None
        rows = self.ledger.rows("SELECT max(version) FROM transcript_versions "
                                "WHERE interview_id = ? AND parent = ?", (iid, current))
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
        with self.ledger.tx() as conn:
            before = conn.execute("SELECT current_version FROM interviews WHERE id = ?",
                                  (iid,)).fetchone()[0]
            conn.execute("UPDATE interviews SET current_version = ? WHERE id = ?",
                         (target, iid))
            self.ledger.audit(action, iid, version=target, previous=before)
        return self.transcript_version(iid, target)

    # ---- the locked version ----------------------------------------------------

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
            locked = lock_lines(doc, profile=profile, width=width)
        except ValueError as exc:
            raise StudyError(f"cannot lock {iid}: {exc}") from None
        with self.ledger.tx() as conn:
            version = self._insert_version(conn, iid, locked, "lock", "line numbers frozen",
                                           lines=len(locked.lines), width=width)
            conn.execute("UPDATE interviews SET locked_version = ? WHERE id = ?",
                         (version, iid))
            self.ledger.audit("transcript.lock", iid, version=version, lines=len(locked.lines))
        self._versions.put(iid, version, locked)
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
            picked = lines_in_range(doc.lines, first, last)
        except ValueError:
            picked = ()
        if not picked:
            total = len(doc.lines)
            raise StudyError(f"lines {first}-{last} are outside {iid}'s transcript "
                             f"(lines 1-{total})")
        return picked


def _delta_depth(conn: sqlite3.Connection, iid: str, version: int) -> int:
    """How many deltas separate ``version`` from its snapshot."""
    depth = 0
    at: int | None = version
    while at is not None and depth <= versions.SNAPSHOT_EVERY:
        row = conn.execute("SELECT base FROM transcript_versions WHERE interview_id = ? "
                           "AND version = ?", (iid, at)).fetchone()
        at = row[0] if row else None
        depth += at is not None
    return depth
