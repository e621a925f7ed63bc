"""The study's values as the store hands them out: frozen, typed, no SQL rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from transcript.model import Note

# Attribute keys that name what a participant does, in the order a citation prefers them
# (the paper cites "P4, Social Worker": the profession column of Table One).
ROLE_KEYS = ("profession", "role", "occupation", "job", "job title", "job_title", "position")


@dataclass(frozen=True, slots=True)
class Participant:
    """A participant: an id (P4), an optional pseudonym and study-defined attributes."""

    id: str
    pseudonym: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False)
    created_at: str = ""

    @property
    def role(self) -> str:
        """What the citation names after the id: the profession, or another role attribute."""
        lowered = {key.lower(): value for key, value in self.attributes.items()}
        for key in ROLE_KEYS:
            value = lowered.get(key, "").strip()
            if value:
                return value
        return ""


@dataclass(frozen=True, slots=True)
class Interview:
    """One interview: its participant, number, recording, consent and retention record."""

    id: str
    participant_id: str
    number: int
    date: str | None = None
    place: str | None = None
    audio_file: str | None = None
    audio_sha256: str | None = None
    audio_duration: float | None = None
    audio_deleted_at: str | None = None
    consent_form: str | None = None
    consent_date: str | None = None
    consent_scope: str | None = None
    retention_date: str | None = None
    current_version: int | None = None
    locked_version: int | None = None
    created_at: str = ""

    @property
    def locked(self) -> bool:
        return self.locked_version is not None

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_file) and self.audio_deleted_at is None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One saved version of a transcript (the document itself is fetched on demand)."""

    version: int
    parent: int | None
    origin: str
    description: str
    created_at: str
    current: bool = False
    locked: bool = False


@dataclass(frozen=True, slots=True)
class StoredNote(Note):
    """A reflexive note as the study keeps it: a ``Note`` plus where it lives.

    ``to_complete`` marks a live mark tapped during the recording that the
    author has not yet written up; ``first_line``/``last_line`` are set when the
    note was anchored to lines of the locked transcript.
    """

    id: int = 0
    interview: str = ""
    first_line: int | None = None
    last_line: int | None = None
    source: str = "author"
    to_complete: bool = False

    def as_note(self) -> Note:
        return Note(start=self.start, end=self.end, phase=self.phase, moment=self.moment,
                    response=self.response, understanding=self.understanding,
                    written_at=self.written_at)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action: metadata only, never transcript or note text."""

    id: int
    at: str
    action: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict, hash=False)


def attributes_from_json(text: str | None) -> dict[str, str]:
    data = json.loads(text or "{}")
    return {str(k): str(v) for k, v in data.items()}
