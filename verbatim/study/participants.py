"""The store's first layer: the study's path and ledger, and its participants.

``Study`` is built in layers, one module each, each adding one part of the
study on top of the one below: participants here, then interviews and their
recordings (``interviews``), transcript versions (``transcripts``), notes and
extracts (``notes``), and the study as a whole (``store``). A layer uses the
ones below through their public methods and the database through the
``Ledger``; none reaches into another's private state.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from verbatim.study.errors import StudyError
from verbatim.study.ledger import Ledger, now
from verbatim.study.values import Participant, attributes_from_json

PARTICIPANT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


class ParticipantStore:
    """An open study's participants: short codes (P4) with a pseudonym and attributes."""

    def __init__(self, path: Path, ledger: Ledger) -> None:
        self.path = path
        self.ledger = ledger

    def participants(self) -> list[Participant]:
        rows = self.ledger.rows("SELECT * FROM participants ORDER BY created_at, rowid")
        return [_participant(r) for r in rows]

    def participant(self, pid: str) -> Participant:
        rows = self.ledger.rows("SELECT * FROM participants WHERE id = ?", (pid,))
        if not rows:
            raise StudyError(f"no participant {pid!r} in this study")
        return _participant(rows[0])

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
            with self.ledger.tx() as conn:
                conn.execute("INSERT INTO participants (id, pseudonym, attributes, created_at) "
                             "VALUES (?, ?, ?, ?)",
                             (pid, pseudonym or None, json.dumps(attrs), now()))
                self.ledger.audit("participant.add", pid, attributes=sorted(attrs))
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
        with self.ledger.tx() as conn:
            conn.execute("UPDATE participants SET pseudonym = ?, attributes = ? WHERE id = ?",
                         (pseudonym if pseudonym is not None else current.pseudonym,
                          json.dumps(attrs), pid))
            self.ledger.audit("participant.update", pid, attributes=sorted(attrs))
        return self.participant(pid)


def _participant(row: sqlite3.Row) -> Participant:
    return Participant(id=row["id"], pseudonym=row["pseudonym"],
                       attributes=attributes_from_json(row["attributes"]),
                       created_at=row["created_at"])
