"""Who spoke when: the diarisers behind ``--diarize`` and the value they all return.

Every backend (``pyannote``, ``channels``, ``embedding``, ``none``) takes a
``transcribe.audio.Audio`` and returns a ``Diarisation``; the pipeline only ever
sees that, so backends can change without touching word alignment or marks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# progress(stage, fraction_done): fraction in [0, 1]; also the cancel point
# (a callback may raise to stop the job).
Progress = Callable[[str, float], None]

DIARISERS = ("pyannote", "channels", "embedding", "none")


@dataclass(frozen=True, slots=True, order=True)
class SpeakerTurn:
    """A stretch of time assigned to one speaker id ("S1", "S2", ...)."""

    start: float
    end: float
    speaker: str


def speaker_at(turns: Sequence[SpeakerTurn], start: float, end: float) -> str | None:
    """The speaker whose turns share most of ``start..end`` (None if none touches it)."""
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    return best


@dataclass(frozen=True)
class Diarisation:
    """A diariser's answer.

    ``turns`` are exclusive (never overlapping): used to assign words.
    ``overlaps`` are the stretches where more than one person speaks: used for
    overlap marks. ``timings`` maps a stage name to the seconds it took.
    """

    turns: tuple[SpeakerTurn, ...]
    overlaps: tuple[SpeakerTurn, ...] = ()
    backend: str = "none"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted({t.speaker for t in self.turns}))
