"""The transcript document: the values every other package exchanges.

Times are seconds from the start of the recording. Every value here is frozen:
an edit produces a new document (``dataclasses.replace``), which is what makes
undo, versions and locked line numbers cheap and safe.

Field names follow the JSON contract ``verbatim-transcript/1`` in DESIGN.md;
``transcript.document`` converts to and from that JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

FORMAT = "verbatim-transcript/1"


class MarkKind(StrEnum):
    """What a mark records; each notation profile renders every kind."""

    PAUSE = "pause"
    OVERLAP = "overlap"
    CUTOFF = "cutoff"
    STUTTER = "stutter"
    INAUDIBLE = "inaudible"
    TONE = "tone"


class Source(StrEnum):
    """Who put a mark there: the pipeline suggests, the author confirms."""

    AUTO = "auto"
    HUMAN = "human"


class Phase(StrEnum):
    """When a reflexive note was written (Berger's log, as the paper used it)."""

    DURING = "during"
    AFTER = "after"
    ANALYSIS = "analysis"


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its timing, speaker and ASR confidence."""

    text: str
    start: float
    end: float
    speaker: str
    probability: float = 1.0
    confirmed: bool = False
    """The author listened and confirmed it: no longer doubtful, whatever its probability."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A pause, overlap, cut-off, stutter, inaudible stretch or tone/non-verbal cue.

    ``label`` carries what the mark says beyond its kind: the tone word
    ("laughs", "quietly"), the full stuttered form, or a measured duration.
    """

    kind: MarkKind
    start: float
    end: float
    speaker: str | None = None
    label: str = ""
    source: Source = Source.AUTO

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Speaker:
    """A diarised voice and the label the author gives it (S2 -> "P4")."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Note:
    """A reflexive note in Berger's three parts, anchored to a time range."""

    start: float
    end: float
    phase: str
    moment: str
    response: str = ""
    understanding: str = ""
    written_at: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """One numbered line of the rendered transcript."""

    n: int
    speaker: str
    text: str
    start: float
    end: float
    suffix: str = ""
    """A line added after the lock, between frozen ones: 505a, 505b (``n`` is 505)."""

    @property
    def number(self) -> str:
        """The printed number: '505' or '505a'."""
        return f"{self.n}{self.suffix}"


@dataclass(frozen=True, slots=True)
class AudioRef:
    """The recording a transcript was made from, pinned by its checksum."""

    path: str
    sha256: str = ""
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """A whole transcript: the word-level truth from which every rendering is made.

    ``lines`` is empty until the numbering is locked; once locked it is the
    frozen numbering that citations refer to. ``extra`` keeps JSON fields this
    version does not know, so a round trip never drops another tool's data.
    """

    audio: AudioRef
    speakers: tuple[Speaker, ...] = ()
    words: tuple[Word, ...] = ()
    marks: tuple[Mark, ...] = ()
    notes: tuple[Note, ...] = ()
    lines: tuple[Line, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def speaker_label(self, speaker_id: str) -> str:
        """The author's label for a speaker id, or the id itself."""
        for speaker in self.speakers:
            if speaker.id == speaker_id:
                return speaker.label
        return speaker_id

    @property
    def locked(self) -> bool:
        return bool(self.lines)


@dataclass(frozen=True, slots=True)
class Extract:
    """A cited line range of a locked transcript, with its number and analysis note."""

    number: int
    interview: str
    participant: str
    role: str
    first: int
    last: int
    text: str
    analysis: str = ""

    @property
    def citation(self) -> str:
        """'(Extract 4. P1, Occupational Therapist. 978-81)'."""
        from transcript.citation import cite

        return cite(self.number, self.participant, self.role, self.first, self.last)

    @property
    def short_citation(self) -> str:
        """'(P1.971-2)'."""
        from transcript.citation import short_cite

        return short_cite(self.participant, self.first, self.last)
