"""Reflexive notes, extracts and the lock: the study's analysis actions for both doors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcript.model import Extract, Note, Transcript
from verbatim.study import StoredNote, Study, StudyError


@dataclass(frozen=True)
class LockResult:
    interview: str
    document: Transcript

    @property
    def lines(self) -> int:
        return len(self.document.lines)


def lock(study: Study, iid: str, *, profile: Any = "paper", width: int = 80) -> LockResult:
    """Freeze ``iid``'s line numbering (refused when already locked or empty)."""
    return LockResult(iid, study.lock(iid, profile=profile, width=width))


def add_note(study: Study, iid: str, *, phase: str, moment: str, response: str = "",
             understanding: str = "", lines: tuple[int, int] | None = None,
             at: tuple[float, float] | None = None) -> StoredNote:
    """A note on locked lines (``lines``) or on a stretch of the recording (``at``)."""
    if lines is not None:
        first, last = lines
        return study.add_note_at_lines(iid, first, last, phase=phase, moment=moment,
                                       response=response, understanding=understanding)
    if at is None:
        raise StudyError("a note needs lines (--lines 10-12) or a time (--at 12.5-20)")
    start, end = at
    return study.add_note(iid, Note(start=start, end=end, phase=phase, moment=moment,
                                    response=response, understanding=understanding))


def note_draft_path(study_dir: Path, iid: str) -> Path:
    """Where a note being written is kept until saved: RAM for an encrypted study.

    A draft holds what the author typed; in an encrypted study it must never be
    plaintext on disk, so it lives in the private in-memory folder.
    """
    from verbatim.vault import is_encrypted

    if is_encrypted(study_dir):
        from verbatim.vault.memdir import private_memory_dir

        return private_memory_dir() / f"{study_dir.name}-note-{iid}.json"
    return study_dir / "drafts" / f"note-{iid}.json"


def add_extract(study: Study, iid: str, first: int, last: int, *,
                analysis: str = "") -> Extract:
    """Number lines ``first``..``last`` of the locked transcript as the next extract."""
    return study.add_extract(iid, first, last, analysis=analysis)
