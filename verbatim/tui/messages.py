"""App-wide messages: small dataclasses that workers post and screens listen for.

Widget-owned messages live in their widget (``TranscriptView.CursorMoved``).
Progress messages define ``can_replace`` so a burst collapses to the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from transcribe.progress import Tick


@dataclass
class JobProgress(Message):
    """A background transcription reports its stage, how far it is and the time left."""

    job: int
    tick: Tick

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobProgress) and message.job == self.job


@dataclass
class JobFinished(Message):
    """A transcription ended: ``error`` is None on success, else one line for the user."""

    job: int
    interview: str
    error: str | None = None
    cancelled: bool = False
    model: str = ""  # the model that made the transcript (model = "auto" chooses one)
    resumed: str = ""  # ", resumed: ..." when the job continued from a checkpoint


@dataclass
class StudyChanged(Message):
    """Participants, interviews or transcripts changed: screens reload what they show."""

    interview: str | None = None
